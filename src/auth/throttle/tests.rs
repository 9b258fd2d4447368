//! The throttling primitives: refusals, backoff, and the bound on what they remember.

use std::num::NonZeroU32;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use governor::clock::FakeRelativeClock;

use super::*;

fn n(v: u32) -> NonZeroU32 {
    NonZeroU32::new(v).unwrap()
}

const BACKOFF: Backoff = Backoff {
    free: 5,
    window: TimeDelta::minutes(15),
    base: TimeDelta::seconds(30),
    max: TimeDelta::minutes(15),
};

#[test]
fn retry_after_is_whole_seconds_rounded_up() {
    assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
    assert_eq!(whole_seconds(Duration::from_millis(1_001)), 2);
    assert_eq!(whole_seconds(Duration::from_secs(3)), 3);
    assert_eq!(whole_seconds(Duration::ZERO), 1);
}

#[test]
fn a_bucket_refuses_beyond_its_burst_and_refills() {
    let clock = FakeRelativeClock::default();
    let bucket = KeyedBucket::with_clock(n(60), n(3), 100, clock.clone());
    for _ in 0..3 {
        assert!(bucket.take(&"a").is_ok());
    }
    let wait = bucket.take(&"a").unwrap_err();
    assert!(
        wait <= Duration::from_secs(1) && wait > Duration::ZERO,
        "{wait:?}"
    );
    assert!(bucket.take(&"b").is_ok(), "another key has its own bucket");
    clock.advance(Duration::from_secs(1));
    assert!(bucket.take(&"a").is_ok());
}

#[test]
fn a_bucket_forgets_keys_whose_bucket_is_full_again() {
    let clock = FakeRelativeClock::default();
    let bucket = KeyedBucket::with_clock(n(60), n(2), 1_000, clock.clone());
    for key in 0..500 {
        bucket.take(&key).unwrap();
    }
    assert_eq!(bucket.len(), 500);
    clock.advance(Duration::from_secs(3));
    bucket.prune();
    assert!(bucket.is_empty());
}

#[test]
fn a_full_bucket_table_fails_closed_until_keys_expire() {
    let clock = FakeRelativeClock::default();
    let bucket = KeyedBucket::with_clock(n(60), n(2), 10, clock.clone());
    for key in 0..10 {
        bucket.take(&key).unwrap();
    }
    assert!(bucket.take(&99).is_err(), "no room: refused");
    assert!(bucket.len() <= 10);
    clock.advance(Duration::from_secs(3));
    std::thread::sleep(Duration::from_millis(1_100));
    assert!(bucket.take(&99).is_ok(), "expired keys made room");
}

#[test]
fn failures_beyond_the_free_ones_block_with_growing_waits() {
    let log = FailureLog::new(BACKOFF, 100);
    let mut now = Utc::now();
    for _ in 0..4 {
        log.fail("k", now, None);
        assert_eq!(log.blocked(&"k", now, None), None);
    }
    log.fail("k", now, None);
    let first = log.blocked(&"k", now, None).unwrap();
    assert!(first.first);
    assert_eq!(first.wait, Duration::from_secs(30));
    assert!(
        !log.blocked(&"k", now, None).unwrap().first,
        "reported once"
    );
    now += TimeDelta::seconds(31);
    assert_eq!(log.blocked(&"k", now, None), None);
    log.fail("k", now, None);
    assert_eq!(
        log.blocked(&"k", now, None).unwrap().wait,
        Duration::from_secs(60)
    );
    for _ in 0..20 {
        log.fail("k", now, None);
    }
    assert_eq!(
        log.blocked(&"k", now, None).unwrap().wait,
        Duration::from_secs(15 * 60),
        "capped"
    );
}

#[test]
fn failures_cleared_or_voided_or_expired_are_forgotten() {
    let log = FailureLog::new(BACKOFF, 100);
    let now = Utc::now();
    for _ in 0..6 {
        log.fail("k", now, None);
    }
    assert!(
        log.blocked(&"k", now, Some(now - TimeDelta::seconds(1)))
            .is_some()
    );
    assert_eq!(
        log.blocked(&"k", now, Some(now)),
        None,
        "cleared after them"
    );
    for _ in 0..6 {
        log.fail("k", now, None);
    }
    log.clear(&"k");
    assert_eq!(log.failures(&"k", now, None), 0);
    log.fail("k", now, None);
    let later = now + TimeDelta::minutes(16);
    assert_eq!(log.failures(&"k", later, None), 0);
    log.prune(later);
    assert!(log.is_empty());
}

#[test]
fn a_full_failure_log_stays_within_its_cap() {
    let log = FailureLog::new(BACKOFF, 1_000);
    let now = Utc::now();
    for key in 0..5_000 {
        log.fail(key, now + TimeDelta::milliseconds(key), None);
    }
    assert!(log.len() <= 1_000, "{}", log.len());
    assert_eq!(
        log.failures(&4_999, now + TimeDelta::seconds(5), None),
        1,
        "newest kept"
    );
}
