//! In-memory revocation state, so verifying an access token needs no database query: revoked
//! session ids, and per-user "tokens issued before this instant are void" watermarks. Entries are
//! kept only as long as an access token issued before them can still be unexpired.
//!
//! The database stays the source of truth (`sessions.revoked_at`, `users.tokens_valid_after`): the
//! state is loaded from it at start and refreshed from it by `sync_from`, which is what lets several
//! instances agree.

use std::collections::HashMap;
use std::sync::RwLock;

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::models::session::Session;
use crate::db::models::user::User;

#[derive(Default)]
struct Inner {
    /// session id -> when the entry may be forgotten
    sessions: HashMap<Uuid, DateTime<Utc>>,
    /// user id -> tokens issued at or before this instant are refused
    watermarks: HashMap<Uuid, DateTime<Utc>>,
    /// the newest change already read from the database
    synced_until: Option<DateTime<Utc>>,
}

/// A sync older than this no longer vouches for other instances' revocations.
pub const STALE_AFTER_SECS: i64 = 10;

pub struct Revocation {
    inner: RwLock<Inner>,
    /// Longest time a token can stay acceptable after it was issued (lifetime + leeway).
    horizon: Duration,
}

impl Revocation {
    pub fn new(access_ttl_secs: i64, leeway_secs: i64) -> Self {
        Self {
            inner: RwLock::new(Inner::default()),
            horizon: Duration::seconds(access_ttl_secs + leeway_secs),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn revoke_session(&self, session_id: Uuid, at: DateTime<Utc>) {
        self.write().sessions.insert(session_id, at + self.horizon);
    }

    pub fn revoke_sessions(&self, ids: &[Uuid], at: DateTime<Utc>) {
        let mut inner = self.write();
        for id in ids {
            inner.sessions.insert(*id, at + self.horizon);
        }
    }

    /// Voids every token of `user_id` issued at or before `at`.
    pub fn raise_watermark(&self, user_id: Uuid, at: DateTime<Utc>) {
        let mut inner = self.write();
        let entry = inner.watermarks.entry(user_id).or_insert(at);
        if *entry < at {
            *entry = at;
        }
    }

    /// `issued_at` is the token's issue instant (millisecond precision, from its UUID v7 `jti`).
    pub fn is_revoked(&self, user_id: Uuid, session_id: Uuid, issued_at: DateTime<Utc>) -> bool {
        let inner = self.read();
        inner.sessions.contains_key(&session_id)
            || inner
                .watermarks
                .get(&user_id)
                .is_some_and(|w| issued_at <= *w)
    }

    /// True when the last sync from the database is too old to trust for revocations made by
    /// other instances (the poller is failing or falling behind).
    pub fn is_stale(&self, now: DateTime<Utc>) -> bool {
        self.read()
            .synced_until
            .is_none_or(|t| now - t > Duration::seconds(STALE_AFTER_SECS))
    }

    /// Drops entries that can no longer matter: every token they could void has expired.
    pub fn prune(&self, now: DateTime<Utc>) {
        let horizon = self.horizon;
        let mut inner = self.write();
        inner.sessions.retain(|_, forget_at| *forget_at > now);
        inner.watermarks.retain(|_, at| *at + horizon > now);
    }

    /// Reads revocations newer than the last sync (all within the horizon on the first call).
    pub fn sync_from(&self, conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<()> {
        let since = {
            let inner = self.read();
            // Re-read a little before the last mark: commits land out of order.
            inner
                .synced_until
                .map_or(now - self.horizon, |t| t - Duration::seconds(5))
                .max(now - self.horizon)
        };
        let revoked = Session::revoked_since(conn, since)?;
        let marks = User::watermarks_since(conn, since)?;
        for (id, at) in revoked {
            self.revoke_session(id, at.unwrap_or(now));
        }
        for (id, at) in marks {
            self.raise_watermark(id, at);
        }
        self.write().synced_until = Some(now);
        self.prune(now);
        Ok(())
    }
}

/// The database's answer, for when the in-memory state is stale: is this token's session revoked,
/// or was it issued at or before its user's watermark?
pub fn revoked_in_database(
    conn: &mut PgConnection,
    user_id: Uuid,
    session_id: Uuid,
    issued_at: DateTime<Utc>,
) -> QueryResult<bool> {
    let session_revoked = Session::is_revoked(conn, session_id)?;
    let watermark = User::watermark(conn, user_id)?;
    Ok(session_revoked || watermark.is_none_or(|w| issued_at <= w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watermark_voids_older_tokens_only() {
        let r = Revocation::new(900, 5);
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
        let t = Utc::now();
        r.raise_watermark(user, t);
        assert!(r.is_revoked(user, session, t - Duration::milliseconds(1)));
        assert!(r.is_revoked(user, session, t));
        assert!(!r.is_revoked(user, session, t + Duration::milliseconds(1)));
        assert!(!r.is_revoked(Uuid::now_v7(), session, t - Duration::seconds(1)));
    }

    #[test]
    fn the_state_is_stale_until_synced_and_again_when_syncs_stop() {
        let r = Revocation::new(900, 5);
        let now = Utc::now();
        assert!(r.is_stale(now));
        r.write().synced_until = Some(now);
        assert!(!r.is_stale(now + Duration::seconds(STALE_AFTER_SECS)));
        assert!(r.is_stale(now + Duration::seconds(STALE_AFTER_SECS + 1)));
    }

    #[test]
    fn a_watermark_never_moves_back() {
        let r = Revocation::new(900, 5);
        let user = Uuid::now_v7();
        let t = Utc::now();
        r.raise_watermark(user, t);
        r.raise_watermark(user, t - Duration::seconds(10));
        assert!(r.is_revoked(user, Uuid::now_v7(), t - Duration::seconds(1)));
    }

    #[test]
    fn entries_are_forgotten_once_no_token_could_outlive_them() {
        let r = Revocation::new(900, 5);
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
        let t = Utc::now();
        r.revoke_session(session, t);
        r.raise_watermark(user, t);
        r.prune(t + Duration::seconds(904));
        assert!(r.is_revoked(Uuid::now_v7(), session, t));
        assert!(r.is_revoked(user, Uuid::now_v7(), t));
        r.prune(t + Duration::seconds(906));
        assert!(!r.is_revoked(Uuid::now_v7(), session, t));
        assert!(!r.is_revoked(user, Uuid::now_v7(), t));
    }
}
