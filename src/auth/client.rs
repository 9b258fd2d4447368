//! Who is on the other end: client address (believing `X-Forwarded-For` only from trusted proxies)
//! and user agent, for sessions and audit events.

use std::future::{Ready, ready};
use std::net::IpAddr;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use crate::config::IpNet;

#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The trusted proxy ranges, shared as app data.
#[derive(Debug, Clone)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }

    /// Walks `X-Forwarded-For` from the right, past every trusted hop; the first untrusted address
    /// is the client. A header from an untrusted peer is ignored entirely.
    pub fn client_ip(&self, peer: Option<IpAddr>, forwarded_for: Option<&str>) -> Option<IpAddr> {
        let peer = peer?;
        if !self.trusts(peer) {
            return Some(peer);
        }
        let mut client = peer;
        if let Some(chain) = forwarded_for {
            for hop in chain.rsplit(',').map(str::trim) {
                match hop.parse::<IpAddr>() {
                    Ok(ip) => {
                        client = ip;
                        if !self.trusts(ip) {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        }
        Some(client)
    }
}

impl FromRequest for ClientInfo {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(client_info(req)))
    }
}

pub fn client_info(req: &HttpRequest) -> ClientInfo {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let peer = req.peer_addr().map(|a| a.ip());
    let ip = match req.app_data::<web::Data<TrustedProxies>>() {
        Some(proxies) => proxies.client_ip(peer, header("x-forwarded-for")),
        None => peer,
    };
    ClientInfo {
        ip: ip.map(|ip| ip.to_string()),
        user_agent: header("user-agent").map(|ua| ua.chars().take(512).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies() -> TrustedProxies {
        TrustedProxies(vec!["127.0.0.1/32".parse().unwrap()])
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_peer() {
        let p = proxies();
        let from = |peer: &str, xff| {
            p.client_ip(Some(peer.parse().unwrap()), xff)
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
    }
}
