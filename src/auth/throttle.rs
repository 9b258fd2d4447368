//! In-memory throttling primitives, per instance and bounded: a keyed token bucket (governor's
//! GCRA) and a keyed failure log with exponential backoff. They know nothing of logins, addresses
//! or HTTP: the rules that choose keys and figures live in `services::throttle`.

use std::collections::HashMap;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

/// Whole seconds to wait, rounded up, at least 1: what `Retry-After` carries.
pub fn whole_seconds(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// A token bucket per key, holding at most `cap` keys. Keys whose bucket is full again are
/// forgotten by [`KeyedBucket::prune`]; when the cap is reached anyway, the bucket prunes at
/// once (at most once a second) and refuses while it stays full: it fails closed.
pub struct KeyedBucket<K: Hash + Eq + Clone, C: Clock = DefaultClock> {
    limiter: RateLimiter<K, DashMapStateStore<K>, C, NoOpMiddleware<C::Instant>>,
    cap: usize,
    /// When the last forced prune ran: a full table prunes at most once a second.
    last_forced_prune: Mutex<Option<Instant>>,
}

impl<K: Hash + Eq + Clone> KeyedBucket<K> {
    /// `burst` requests at once, refilled at `per_minute`.
    pub fn new(per_minute: NonZeroU32, burst: NonZeroU32, cap: usize) -> Self {
        Self::with_clock(per_minute, burst, cap, DefaultClock::default())
    }
}

impl<K: Hash + Eq + Clone, C: Clock> KeyedBucket<K, C> {
    pub fn with_clock(per_minute: NonZeroU32, burst: NonZeroU32, cap: usize, clock: C) -> Self {
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        Self {
            limiter: RateLimiter::dashmap_with_clock(quota, clock),
            cap: cap.max(1),
            last_forced_prune: Mutex::new(None),
        }
    }

    /// Takes one token for `key`; `Err(wait)` when there is none.
    pub fn take(&self, key: &K) -> Result<(), Duration> {
        if self.limiter.len() >= self.cap && !self.make_room() {
            return Err(Duration::from_secs(1));
        }
        self.limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }

    /// Prunes now unless it did less than a second ago; whether there is room after.
    fn make_room(&self) -> bool {
        let mut last = self
            .last_forced_prune
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
            *last = Some(Instant::now());
            drop(last);
            self.prune();
        }
        self.limiter.len() < self.cap
    }

    /// Forgets every key whose bucket is full again (indistinguishable from a new key).
    pub fn prune(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// Keys held now.
    pub fn len(&self) -> usize {
        self.limiter.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How failures turn into refusals: `free` failures within `window` cost nothing; each failure
/// from the `free`-th on blocks the key for `base`, doubling each time, at most `max`. A key
/// without a failure for `window` is forgotten.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub free: u32,
    pub window: TimeDelta,
    pub base: TimeDelta,
    pub max: TimeDelta,
}

impl Backoff {
    fn block_for(&self, failures: u32) -> Option<TimeDelta> {
        let beyond = failures.checked_sub(self.free)?;
        let factor = 1_i32.checked_shl(beyond.min(30)).unwrap_or(i32::MAX);
        Some(
            self.base
                .checked_mul(factor)
                .unwrap_or(self.max)
                .min(self.max),
        )
    }
}

#[derive(Debug, Clone)]
struct Entry {
    failures: u32,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    blocked_until: Option<DateTime<Utc>>,
    /// A refusal of this window has been reported (audited) already.
    noted: bool,
}

/// A key's failures as [`FailureLog::snapshot`] shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureState<K> {
    pub key: K,
    pub failures: u32,
    pub since: DateTime<Utc>,
    pub blocked_until: Option<DateTime<Utc>>,
}

/// Why a key is refused now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blocked {
    pub wait: Duration,
    /// The first refusal of this window: the one to report.
    pub first: bool,
}

/// Failures per key within a sliding window, at most `cap` keys: when full, expired keys go
/// first, then the tenth of keys whose last failure is oldest.
pub struct FailureLog<K: Hash + Eq + Clone> {
    entries: Mutex<HashMap<K, Entry>>,
    backoff: Backoff,
    cap: usize,
}

impl<K: Hash + Eq + Clone> FailureLog<K> {
    pub fn new(backoff: Backoff, cap: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            backoff,
            cap: cap.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Entry>> {
        // A panic elsewhere while holding the lock leaves counts that are still counts.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn expired(&self, entry: &Entry, now: DateTime<Utc>) -> bool {
        now - entry.last > self.backoff.window && entry.blocked_until.is_none_or(|u| u <= now)
    }

    /// The live entry of `key`: an expired one, or one whose last failure is not after
    /// `void_before` (cleared elsewhere), is removed first.
    fn live<'a>(
        &self,
        entries: &'a mut HashMap<K, Entry>,
        key: &K,
        now: DateTime<Utc>,
        void_before: Option<DateTime<Utc>>,
    ) -> Option<&'a mut Entry> {
        let gone = entries.get(key).is_some_and(|e| {
            self.expired(e, now) || void_before.is_some_and(|cleared| e.last <= cleared)
        });
        if gone {
            entries.remove(key);
        }
        entries.get_mut(key)
    }

    /// Whether `key` is refused now, and for how long.
    pub fn blocked(
        &self,
        key: &K,
        now: DateTime<Utc>,
        void_before: Option<DateTime<Utc>>,
    ) -> Option<Blocked> {
        let mut entries = self.lock();
        let entry = self.live(&mut entries, key, now, void_before)?;
        let until = entry.blocked_until.filter(|u| *u > now)?;
        let first = !entry.noted;
        entry.noted = true;
        Some(Blocked {
            wait: (until - now).to_std().unwrap_or_default(),
            first,
        })
    }

    /// Failures of `key` in its current window.
    pub fn failures(&self, key: &K, now: DateTime<Utc>, void_before: Option<DateTime<Utc>>) -> u32 {
        let mut entries = self.lock();
        self.live(&mut entries, key, now, void_before)
            .map_or(0, |e| e.failures)
    }

    /// Marks a refusal decided elsewhere (a bucket) as reported; `true` the first time in this
    /// window of `key` (a key without failures gets an entry that lasts one window).
    pub fn note_refusal(&self, key: K, now: DateTime<Utc>) -> bool {
        let mut entries = self.lock();
        if let Some(entry) = self.live(&mut entries, &key, now, None) {
            entry.last = now;
            return !std::mem::replace(&mut entry.noted, true);
        }
        if entries.len() >= self.cap {
            self.make_room(&mut entries, now);
        }
        entries.insert(
            key,
            Entry {
                failures: 0,
                first: now,
                last: now,
                blocked_until: None,
                noted: true,
            },
        );
        true
    }

    /// Counts one failure of `key`.
    pub fn fail(&self, key: K, now: DateTime<Utc>, void_before: Option<DateTime<Utc>>) {
        let mut entries = self.lock();
        if self.live(&mut entries, &key, now, void_before).is_none() && entries.len() >= self.cap {
            self.make_room(&mut entries, now);
        }
        let entry = entries.entry(key).or_insert(Entry {
            failures: 0,
            first: now,
            last: now,
            blocked_until: None,
            noted: false,
        });
        entry.failures = entry.failures.saturating_add(1);
        entry.last = now;
        if let Some(block) = self.backoff.block_for(entry.failures) {
            entry.blocked_until = Some(now + block);
        }
    }

    /// Forgets `key`'s failures (a success, or an administrator's clear).
    pub fn clear(&self, key: &K) {
        self.lock().remove(key);
    }

    /// Forgets every key `which` selects.
    pub fn clear_where(&self, which: impl Fn(&K) -> bool) {
        self.lock().retain(|k, _| !which(k));
    }

    /// The live keys `which` selects.
    pub fn snapshot(&self, now: DateTime<Utc>, which: impl Fn(&K) -> bool) -> Vec<FailureState<K>> {
        self.lock()
            .iter()
            .filter(|(k, e)| which(k) && !self.expired(e, now))
            .map(|(k, e)| FailureState {
                key: k.clone(),
                failures: e.failures,
                since: e.first,
                blocked_until: e.blocked_until.filter(|u| *u > now),
            })
            .collect()
    }

    /// Forgets expired keys.
    pub fn prune(&self, now: DateTime<Utc>) {
        let mut entries = self.lock();
        entries.retain(|_, e| !self.expired(e, now));
        entries.shrink_to_fit();
    }

    fn make_room(&self, entries: &mut HashMap<K, Entry>, now: DateTime<Utc>) {
        entries.retain(|_, e| !self.expired(e, now));
        if entries.len() < self.cap {
            return;
        }
        let mut by_age: Vec<(DateTime<Utc>, K)> =
            entries.iter().map(|(k, e)| (e.last, k.clone())).collect();
        by_age.sort_by_key(|(last, _)| *last);
        for (_, key) in by_age.into_iter().take(self.cap.div_ceil(10)) {
            entries.remove(&key);
        }
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One instance's throttling state: what `services::throttle` keeps, in bounded tables. The
/// keys are opaque here (the services choose them).
pub struct ThrottleState<A: Hash + Eq + Clone, N: Hash + Eq + Clone> {
    /// The token bucket of each client address.
    pub addresses: KeyedBucket<A>,
    /// Refusals of the address bucket already reported, per address and window.
    pub address_notes: FailureLog<A>,
    /// Failed logins per (account name, address).
    pub pairs: FailureLog<(N, A)>,
    /// Failed logins per account name, from every address.
    pub accounts: FailureLog<N>,
    /// The small bucket an account under a distributed attack is rationed by.
    pub account_bucket: KeyedBucket<N>,
}

impl<A: Hash + Eq + Clone, N: Hash + Eq + Clone> ThrottleState<A, N> {
    /// Forgets what has expired everywhere.
    pub fn prune(&self, now: DateTime<Utc>) {
        self.addresses.prune();
        self.account_bucket.prune();
        self.address_notes.prune(now);
        self.pairs.prune(now);
        self.accounts.prune(now);
    }
}

#[cfg(test)]
mod tests;
