//! Who is on the other end: the client address (believing `X-Forwarded-For` only from trusted
//! proxies) and user agent, for sessions, audit events and throttling.

use std::future::{Ready, ready};
use std::net::IpAddr;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use ipnet::IpNet;

use crate::domain::ClientInfo;
use crate::state::AppState;

/// Walks `X-Forwarded-For` from the right, past every trusted hop; the first untrusted address is
/// the client. A header from an untrusted peer is ignored entirely.
pub fn client_ip(
    trusted: &[IpNet],
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
) -> Option<IpAddr> {
    let trusts = |ip: IpAddr| {
        let ip = ip.to_canonical();
        trusted.iter().any(|net| net.contains(&ip))
    };
    let peer = peer?;
    if !trusts(peer) {
        return Some(peer);
    }
    let mut client = peer;
    for hop in forwarded_for.into_iter().flat_map(|h| h.rsplit(',')) {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !trusts(ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    Some(client)
}

/// Every `X-Forwarded-For` line, in order, as one list: a proxy may add its own line rather than
/// append to the last one, and reading only the first line would let a client's forged line
/// decide. A line that is not text makes the whole chain untrustworthy: then only the peer counts.
fn forwarded_chain(req: &HttpRequest) -> Option<String> {
    let lines = req
        .headers()
        .get_all("x-forwarded-for")
        .map(|v| v.to_str().ok())
        .collect::<Option<Vec<&str>>>()?;
    (!lines.is_empty()).then(|| lines.join(","))
}

pub fn client_info(req: &HttpRequest) -> ClientInfo {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let peer = req.peer_addr().map(|a| a.ip());
    let ip = match req.app_data::<web::Data<AppState>>() {
        Some(state) => {
            let chain = forwarded_chain(req);
            client_ip(&state.config.trusted_proxies, peer, chain.as_deref())
        }
        None => peer,
    };
    ClientInfo::new(ip.map(|ip| ip.to_string()), header("user-agent"))
}

impl FromRequest for ClientInfo {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(client_info(req)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_peer() {
        let trusted: Vec<IpNet> = vec!["127.0.0.1/32".parse().unwrap()];
        let from = |peer: &str, xff| {
            client_ip(&trusted, Some(peer.parse().unwrap()), xff)
                .unwrap()
                .to_string()
        };
        assert_eq!(from("127.0.0.1", Some("203.0.113.9")), "203.0.113.9");
        assert_eq!(from("198.51.100.2", Some("203.0.113.9")), "198.51.100.2");
        // A client cannot hide behind a forged first hop: the rightmost untrusted address wins.
        assert_eq!(
            from("127.0.0.1", Some("1.1.1.1, 203.0.113.9")),
            "203.0.113.9"
        );
        assert_eq!(from("127.0.0.1", None), "127.0.0.1");
        // An IPv4 proxy seen through an IPv6 socket is still the same proxy.
        assert_eq!(from("::ffff:127.0.0.1", Some("203.0.113.9")), "203.0.113.9");
    }
}
