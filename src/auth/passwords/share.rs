//! Each client address's share of the hashing pool: one address (a single guesser, or a flood
//! from one host) can hold at most `cap` jobs queued or running, so the rest of the queue stays
//! open to everyone else.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::domain::ClientInfo;

/// Whom a password check is for.
#[derive(Debug, Clone, Copy)]
pub enum Requester<'a> {
    /// A request from this client address (`None` when it cannot be told: those share one
    /// key, so they are capped together rather than not at all).
    Client(Option<&'a str>),
    /// The command line and start-up: no client to share with, never capped.
    Operator,
}

impl<'a> From<&'a ClientInfo> for Requester<'a> {
    fn from(client: &'a ClientInfo) -> Self {
        Self::Client(client.ip.as_deref())
    }
}

/// The key an address is counted under: an IPv6 client usually holds a whole /64, so it
/// counts as one address.
fn key_of(address: Option<&str>) -> String {
    match address.map(|a| a.parse::<IpAddr>()) {
        Some(Ok(IpAddr::V6(v6))) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(Ok(IpAddr::V6(v6))) => v6
            .to_ipv4_mapped()
            .map_or_else(String::new, |v4| v4.to_string()),
        Some(Ok(ip)) => ip.to_string(),
        Some(Err(_)) => address.unwrap_or_default().to_owned(),
        None => "unknown".to_owned(),
    }
}

/// Jobs in flight per address. Only addresses with a job in flight have an entry, so the map
/// holds at most queue + threads entries.
pub struct Shares {
    cap: usize,
    in_flight: Mutex<HashMap<String, usize>>,
}

/// One job's place in its address's share; given back when dropped (answered or abandoned).
pub struct Slot {
    shares: Arc<Shares>,
    key: Option<String>,
}

impl Shares {
    pub fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            cap: cap.max(1),
            in_flight: Mutex::default(),
        })
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    /// A place for one more job of `requester`, or `None` when its address holds its whole
    /// share already.
    pub fn take(self: &Arc<Self>, requester: Requester<'_>) -> Option<Slot> {
        let Requester::Client(address) = requester else {
            return Some(Slot {
                shares: self.clone(),
                key: None,
            });
        };
        let key = key_of(address);
        let mut map = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
        let count = map.entry(key.clone()).or_insert(0);
        if *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(Slot {
            shares: self.clone(),
            key: Some(key),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let mut map = self
            .shares
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(count) = map.get_mut(&key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                map.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_share_and_no_more_and_gets_it_back() {
        let shares = Shares::new(2);
        let a = Requester::Client(Some("203.0.113.7"));
        let first = shares.take(a).unwrap();
        let _second = shares.take(a).unwrap();
        assert!(shares.take(a).is_none());
        assert!(
            shares
                .take(Requester::Client(Some("198.51.100.1")))
                .is_some()
        );
        drop(first);
        assert!(shares.take(a).is_some());
    }

    #[test]
    fn one_ipv6_network_is_one_address_and_operators_are_never_capped() {
        let shares = Shares::new(1);
        let _held = shares
            .take(Requester::Client(Some("2001:db8:1:2::1")))
            .unwrap();
        assert!(
            shares
                .take(Requester::Client(Some("2001:db8:1:2::ffff")))
                .is_none()
        );
        assert!(
            shares
                .take(Requester::Client(Some("2001:db8:1:3::1")))
                .is_some()
        );
        let _operator: Vec<_> = (0..5)
            .map(|_| shares.take(Requester::Operator).unwrap())
            .collect();
    }

    #[test]
    fn entries_go_away_with_their_last_job() {
        let shares = Shares::new(3);
        let slot = shares.take(Requester::Client(None)).unwrap();
        assert_eq!(shares.in_flight.lock().unwrap().len(), 1);
        drop(slot);
        assert!(shares.in_flight.lock().unwrap().is_empty());
    }
}
