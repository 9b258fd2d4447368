//! Open connections per client address, where the address can be told: a peer that is not a
//! trusted proxy is the client itself. Behind a proxy every connection comes from the proxy, so
//! there the proxy must count (`limit_conn` in deploy/nginx.conf).
//!
//! Each accepted connection takes a `Slot`, kept in the connection's data for as long as the
//! connection lives; dropping it gives the place back. A connection beyond the cap is not refused
//! at accept (the client would see a bare reset): each request on it is answered
//! `429 rate_limited` with `Connection: close`, so it ends after one answer.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Extensions, ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::rt::net::TcpStream;
use actix_web::{Error, ResponseError};
use ipnet::IpNet;

use crate::api::ApiError;

/// The counts of one instance, shared by its workers.
#[derive(Clone)]
pub struct PerAddress {
    cap: usize,
    trusted: Arc<[IpNet]>,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl PerAddress {
    pub fn new(cap: usize, trusted: &[IpNet]) -> Self {
        Self {
            cap,
            trusted: trusted.into(),
            open: Arc::default(),
        }
    }

    /// Counts a new connection by its peer address.
    pub fn on_connect(&self, stream: &TcpStream, data: &mut Extensions) {
        let Some(ip) = stream.peer_addr().ok().map(|a| a.ip().to_canonical()) else {
            return;
        };
        if self.trusted.iter().any(|net| net.contains(&ip)) {
            return;
        }
        data.insert(self.enter(ip));
    }

    fn enter(&self, ip: IpAddr) -> Slot {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let n = open.entry(ip).or_insert(0);
        *n += 1;
        Slot {
            ip,
            over_cap: *n > self.cap,
            open: self.open.clone(),
        }
    }

    /// How many connections `ip` holds now.
    pub fn open(&self, ip: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&ip).copied().unwrap_or(0)
    }
}

/// One open connection of a directly connected client.
struct Slot {
    ip: IpAddr,
    over_cap: bool,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let over_cap = req.conn_data::<Slot>().is_some_and(|slot| slot.over_cap);
    if !over_cap {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let mut answer = ApiError::RateLimited {
        retry_after_secs: 1,
    }
    .error_response();
    answer.head_mut().set_connection_type(ConnectionType::Close);
    Ok(req.into_response(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_connection_gives_its_place_back() {
        let counts = PerAddress::new(2, &[]);
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let first = counts.enter(ip);
        let second = counts.enter(ip);
        let third = counts.enter(ip);
        assert!(!first.over_cap && !second.over_cap && third.over_cap);
        drop((first, third));
        assert_eq!(counts.open(ip), 1);
        assert!(!counts.enter(ip).over_cap);
        drop(second);
        assert_eq!(counts.open(ip), 0);
    }
}
