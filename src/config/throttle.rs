//! The throttling figures of the contract: the per-address bucket and the failed-login limit.

use std::num::NonZeroU32;

use super::{ConfigError, err};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// `AUTHD_RATE_IP_PER_MINUTE`: the per-address bucket's refill.
    pub ip_per_minute: NonZeroU32,
    /// `AUTHD_RATE_IP_BURST`: the per-address bucket's size.
    pub ip_burst: NonZeroU32,
    /// `AUTHD_LOGIN_MAX_FAILURES`: failed logins per (account, address) in 15 minutes before
    /// backoff.
    pub login_max_failures: NonZeroU32,
}

fn count(
    get: &impl Fn(&'static str) -> Option<String>,
    name: &'static str,
    default: u32,
    max: u32,
) -> Result<NonZeroU32, ConfigError> {
    let Some(v) = get(name) else {
        return Ok(NonZeroU32::new(default).unwrap_or(NonZeroU32::MIN));
    };
    v.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n <= max)
        .and_then(NonZeroU32::new)
        .ok_or_else(|| {
            err(
                name,
                format!("expected a whole number from 1 to {max}, got {v:?}"),
            )
        })
}

impl ThrottleConfig {
    pub fn from_lookup(get: impl Fn(&'static str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Self {
            ip_per_minute: count(&get, "AUTHD_RATE_IP_PER_MINUTE", 60, 1_000_000)?,
            ip_burst: count(&get, "AUTHD_RATE_IP_BURST", 20, 1_000_000)?,
            login_max_failures: count(&get, "AUTHD_LOGIN_MAX_FAILURES", 5, 1_000_000)?,
        })
    }
}
