//! Throttling rules, one home: which keys, which figures, what is audited. Every decision is made
//! before any password is hashed (or queued for hashing).
//!
//! - Per client address, one token bucket over the unauthenticated POSTs ([`admit`]).
//! - Per (account name, address): beyond `AUTHD_LOGIN_MAX_FAILURES` failures the pair waits 30 s,
//!   doubling with each further failure, at most 15 minutes; 15 minutes without a failure forget it.
//! - Per account name across addresses: from `ACCOUNT_HOT_FACTOR` times that many failures on,
//!   attempts from addresses the account has not logged in from within 30 days share a small
//!   bucket; addresses it has logged in from are not rationed, so the owner is never locked out.
//!
//! Names are keyed by their lookup key (lower-cased), never by user id: an unknown name and an
//! existing one are throttled alike. State is per instance; an administrator's clear is stamped
//! in `users.throttle_cleared_at` and every instance ignores failures recorded before it.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::Error;
use super::audit::{self, event};
use crate::auth::throttle::{Backoff, FailureLog, KeyedBucket, ThrottleState, whole_seconds};
use crate::config::ThrottleConfig;
use crate::db::models::session::Session;
use crate::db::models::user::User;
use crate::db::{self};
use crate::domain::{ClientInfo, Principal, Username};
use crate::state::AppState;
use crate::telemetry::{self, LoginOutcome};

/// The instance's throttling state, keyed by address and by username lookup key.
pub type Throttle = ThrottleState<IpAddr, String>;

/// Keys each table holds at most (~150 bytes a key: all tables together stay under ~80 MiB).
pub const MAX_KEYS: usize = 100_000;
/// Failures are counted within this sliding window (since the last failure).
pub const WINDOW: TimeDelta = TimeDelta::minutes(15);
/// The first backoff of a pair, doubling with each further failure.
pub const BACKOFF_BASE: TimeDelta = TimeDelta::seconds(30);
pub const BACKOFF_MAX: TimeDelta = TimeDelta::minutes(15);
/// An account is under a distributed attack from this many times the pair limit on.
pub const ACCOUNT_HOT_FACTOR: u32 = 4;
/// The bucket that rations an account under attack, for addresses it has not logged in from.
pub const ACCOUNT_BUCKET_PER_MINUTE: u32 = 4;
pub const ACCOUNT_BUCKET_BURST: u32 = 2;
/// An address the account logged in from within this long is its owner's.
pub const KNOWN_ADDRESS_DAYS: i64 = 30;

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// The empty state for these figures.
pub fn new_state(config: &ThrottleConfig) -> Throttle {
    let max = config.login_max_failures.get();
    fn log<K: std::hash::Hash + Eq + Clone>(free: u32) -> FailureLog<K> {
        FailureLog::new(
            Backoff {
                free,
                window: WINDOW,
                base: BACKOFF_BASE,
                max: BACKOFF_MAX,
            },
            MAX_KEYS,
        )
    }
    ThrottleState {
        addresses: KeyedBucket::new(config.ip_per_minute, config.ip_burst, MAX_KEYS),
        // Never blocks (no failures are counted): only remembers what was reported.
        address_notes: FailureLog::new(
            Backoff {
                free: u32::MAX,
                window: TimeDelta::minutes(1),
                base: BACKOFF_BASE,
                max: BACKOFF_MAX,
            },
            MAX_KEYS,
        ),
        pairs: log(max),
        // Never blocks by itself: its count decides when the account bucket applies.
        accounts: log(u32::MAX),
        account_bucket: KeyedBucket::new(
            nonzero(ACCOUNT_BUCKET_PER_MINUTE),
            nonzero(ACCOUNT_BUCKET_BURST),
            MAX_KEYS,
        ),
    }
}

/// The unauthenticated POSTs the per-address bucket covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Login,
    Register,
    Refresh,
    AdminLogin,
    PasswordReset,
    ForgotPassword,
    ResetPasswordForm,
}

impl Route {
    fn as_str(self) -> &'static str {
        match self {
            Self::Login => "/api/auth/login",
            Self::Register => "/api/auth/register",
            Self::Refresh => "/api/auth/refresh",
            Self::AdminLogin => "/admin/login",
            Self::PasswordReset => "/api/auth/password-reset",
            Self::ForgotPassword => "/api/auth/forgot-password",
            Self::ResetPasswordForm => "/reset-password",
        }
    }

    fn is_login(self) -> bool {
        matches!(self, Self::Login | Self::AdminLogin)
    }
}

/// The address a client is throttled by: IPv6 by its /64 (one subscriber's whole network), an
/// unknown address as the unspecified one (all such clients share a bucket).
fn address_of(client: &ClientInfo) -> IpAddr {
    match client
        .ip
        .as_deref()
        .and_then(|ip| ip.parse::<IpAddr>().ok())
    {
        Some(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        Some(ip) => ip.to_canonical(),
        None => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
    }
}

fn throttled(wait: std::time::Duration) -> Error {
    Error::Throttled {
        retry_after_secs: whole_seconds(wait),
    }
}

async fn audit_throttled(
    state: &AppState,
    subject_id: Option<Uuid>,
    client: &ClientInfo,
    detail: serde_json::Value,
) -> Result<(), Error> {
    let client = client.clone();
    db::run(&state.pool, move |conn| {
        let entry = audit::Entry {
            event: event::LOGIN_THROTTLED,
            actor_id: None,
            subject_id,
            client: &client,
            detail,
        };
        Ok::<_, Error>(audit::record(conn, entry)?)
    })
    .await
}

/// Takes a token of the client's address bucket for one unauthenticated POST, or refuses it
/// (`Throttled`); the first refusal per address and minute is audited.
pub async fn admit(state: &AppState, route: Route, client: &ClientInfo) -> Result<(), Error> {
    let address = address_of(client);
    let Err(wait) = state.throttle.addresses.take(&address) else {
        return Ok(());
    };
    if route.is_login() {
        telemetry::login(LoginOutcome::Throttled);
    }
    if state
        .throttle
        .address_notes
        .note_refusal(address, Utc::now())
    {
        let detail = json!({ "scope": "address", "route": route.as_str() });
        audit_throttled(state, None, client, detail).await?;
    }
    Err(throttled(wait))
}

/// One password check by a name from an address.
#[derive(Debug, Clone)]
pub struct Attempt {
    name: String,
    address: IpAddr,
    ip: Option<String>,
}

impl Attempt {
    pub fn new(username: &str, client: &ClientInfo) -> Self {
        Self {
            name: Username::lookup_key(username),
            address: address_of(client),
            ip: client.ip.clone(),
        }
    }

    fn pair(&self) -> (String, IpAddr) {
        (self.name.clone(), self.address)
    }
}

/// What the database says about an attempt, read with the user row before any hashing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts {
    /// The latest administrator's clear of this account.
    pub cleared_at: Option<DateTime<Utc>>,
    /// The account logged in from this address recently (or the caller is signed in).
    pub known_address: bool,
}

impl Facts {
    /// The facts of an existing account, read in the caller's connection. An unknown name has
    /// the default facts (nothing cleared, no known address), exactly like an existing name
    /// without either.
    pub fn read(conn: &mut PgConnection, user_id: Uuid, attempt: &Attempt) -> QueryResult<Self> {
        let cleared_at = User::throttle_cleared_at(conn, user_id)?;
        let since = Utc::now() - TimeDelta::days(KNOWN_ADDRESS_DAYS);
        let known_address = match &attempt.ip {
            Some(ip) => Session::opened_from(conn, user_id, ip, since)?,
            None => false,
        };
        Ok(Self {
            cleared_at,
            known_address,
        })
    }
}

fn account_is_hot(state: &AppState, attempt: &Attempt, facts: Facts, now: DateTime<Utc>) -> bool {
    let hot_from = state
        .config
        .throttle
        .login_max_failures
        .get()
        .saturating_mul(ACCOUNT_HOT_FACTOR);
    let failures = state
        .throttle
        .accounts
        .failures(&attempt.name, now, facts.cleared_at);
    failures >= hot_from
}

/// Refuses the attempt (`Throttled`) when its pair is backing off, or when its account is under
/// a distributed attack and the address is not the owner's and the account's bucket is empty.
/// The first refusal of each window is audited.
pub async fn check(
    state: &AppState,
    attempt: &Attempt,
    facts: Facts,
    subject_id: Option<Uuid>,
    client: &ClientInfo,
) -> Result<(), Error> {
    let now = Utc::now();
    let t = &state.throttle;
    let username = Username::for_audit(&attempt.name);
    if let Some(blocked) = t.pairs.blocked(&attempt.pair(), now, facts.cleared_at) {
        if blocked.first {
            let detail = json!({ "scope": "account_address", "username": username,
                "retry_after": whole_seconds(blocked.wait) });
            audit_throttled(state, subject_id, client, detail).await?;
        }
        return Err(throttled(blocked.wait));
    }
    if facts.known_address || !account_is_hot(state, attempt, facts, now) {
        return Ok(());
    }
    let Err(wait) = t.account_bucket.take(&attempt.name) else {
        return Ok(());
    };
    if t.accounts.note_refusal(attempt.name.clone(), now) {
        let detail = json!({ "scope": "account", "username": username,
            "retry_after": whole_seconds(wait) });
        audit_throttled(state, subject_id, client, detail).await?;
    }
    Err(throttled(wait))
}

/// Counts a wrong password of the attempt, for its pair and its account.
pub fn failed(state: &AppState, attempt: &Attempt, facts: Facts) {
    let now = Utc::now();
    let t = &state.throttle;
    t.pairs.fail(attempt.pair(), now, facts.cleared_at);
    t.accounts.fail(attempt.name.clone(), now, facts.cleared_at);
}

/// The right password: the pair's failures are forgotten.
pub fn succeeded(state: &AppState, attempt: &Attempt) {
    state.throttle.pairs.clear(&attempt.pair());
}

/// One throttled (or failing) address of an account, as the dashboard shows it.
#[derive(Debug, Clone)]
pub struct ThrottledAddress {
    pub address: String,
    pub failures: u32,
    pub since: DateTime<Utc>,
    /// Refused until then; `None`: failures counted, not refused yet.
    pub blocked_until: Option<DateTime<Utc>>,
}

/// An account's throttling on this instance.
#[derive(Debug, Clone, Default)]
pub struct AccountThrottle {
    pub addresses: Vec<ThrottledAddress>,
    /// Failures from every address within the window.
    pub failures: u32,
    /// Whether unknown addresses are rationed now.
    pub rationed: bool,
}

impl AccountThrottle {
    pub fn is_empty(&self) -> bool {
        self.failures == 0 && self.addresses.is_empty()
    }
}

/// What this instance holds against `username` (failures before the last clear excluded).
pub async fn account_state(
    state: &AppState,
    user_id: Uuid,
    username: &str,
) -> Result<AccountThrottle, Error> {
    let cleared_at = db::run(&state.pool, move |conn| {
        Ok::<_, Error>(User::throttle_cleared_at(conn, user_id)?)
    })
    .await?;
    let name = Username::lookup_key(username);
    let now = Utc::now();
    let t = &state.throttle;
    let mut addresses: Vec<ThrottledAddress> = t
        .pairs
        .snapshot(now, |(n, _)| *n == name)
        .into_iter()
        .filter(|s| cleared_at.is_none_or(|c| s.since > c))
        .map(|s| ThrottledAddress {
            address: s.key.1.to_string(),
            failures: s.failures,
            since: s.since,
            blocked_until: s.blocked_until,
        })
        .collect();
    addresses.sort_by_key(|a| std::cmp::Reverse(a.since));
    let attempt = Attempt {
        name: name.clone(),
        address: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        ip: None,
    };
    let facts = Facts {
        cleared_at,
        known_address: false,
    };
    Ok(AccountThrottle {
        failures: t.accounts.failures(&name, now, cleared_at),
        rationed: account_is_hot(state, &attempt, facts, now),
        addresses,
    })
}

/// `POST /admin/users/{id}/unthrottle`: forgets the account's failed logins on every instance
/// (stamped with the database's clock; each instance ignores failures recorded before it).
pub async fn clear(
    state: &AppState,
    admin: &Principal,
    user_id: Uuid,
    client: &ClientInfo,
) -> Result<(), Error> {
    let (actor, client_owned) = (admin.user_id, client.clone());
    let username = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let (username, at) =
                User::stamp_throttle_cleared(conn, user_id)?.ok_or(Error::NotFound)?;
            audit::record(
                conn,
                audit::Entry {
                    event: event::LOGIN_THROTTLE_CLEARED,
                    actor_id: Some(actor),
                    subject_id: Some(user_id),
                    client: &client_owned,
                    detail: json!({ "username": username, "cleared_at": at }),
                },
            )?;
            Ok::<_, Error>(username)
        })
    })
    .await?;
    let name = Username::lookup_key(&username);
    state.throttle.pairs.clear_where(|(n, _)| *n == name);
    state.throttle.accounts.clear(&name);
    Ok(())
}

/// Forgets expired keys every minute, for as long as the state lives.
pub fn spawn_pruning(throttle: &Arc<Throttle>) {
    let weak = Arc::downgrade(throttle);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            let Some(throttle) = weak.upgrade() else {
                break;
            };
            throttle.prune(Utc::now());
        }
    });
}
