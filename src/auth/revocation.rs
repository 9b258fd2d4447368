//! In-memory revocation state, so verifying an access token needs no database query: revoked
//! session ids, and per-user "tokens issued before this instant are void" watermarks. Entries are
//! kept only as long as an access token issued before them can still be unexpired.
//!
//! The database stays the source of truth (`sessions.revoked_at`, `users.tokens_valid_after`): the
//! state is loaded from it at start and refreshed from it by `sync_from`, which is what lets several
//! instances agree.
//!
//! How a sync finds the revocations made elsewhere, whatever the app servers' clocks say and even
//! when a transaction commits late: every stamp is the *database's* clock at the revoking statement
//! (`db::clock`), and so is the sync's cursor, read before the rows. A revocation those rows did not
//! show commits after that cursor, so it was stamped at most its commit delay before it; each sync
//! therefore re-reads from `COMMIT_OVERLAP` before the previous cursor. Re-read rows change nothing
//! (entries are keyed by id, watermarks only rise) and are few (`sessions_revoked_at_idx`). Only a
//! transaction committing more than `COMMIT_OVERLAP` after its revoking statement would be missed;
//! the services' transactions end milliseconds after it. The instance that revoked puts the very
//! instants stored (`RETURNING`) in its own state at once. A watermark is compared with a token's
//! issue time (its `jti`), which login and refresh also take from the database's clock, under the
//! user row's lock that every watermark-raising change waits for: a token signed from the roles
//! before a change is issued before its watermark, one signed after sees the change.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::clock;
use crate::db::models::session::Session;
use crate::db::models::user::User;
use crate::db::models::user_tombstone::UserTombstone;

#[derive(Default)]
struct Inner {
    /// session id -> when the entry may be forgotten (database time)
    sessions: HashMap<Uuid, DateTime<Utc>>,
    /// user id -> tokens issued at or before this instant are refused
    watermarks: HashMap<Uuid, DateTime<Utc>>,
    /// the database's clock just before the last successful sync read its rows: the cursor
    synced_until: Option<DateTime<Utc>>,
    /// when the last sync succeeded, by this instance's monotonic clock
    synced_at: Option<Instant>,
}

/// A sync older than this no longer vouches for other instances' revocations.
pub const STALE_AFTER_SECS: i64 = 10;

/// How long after its revoking statement a transaction may commit and still be seen by the other
/// instances' syncs (which re-read this far back before their previous cursor).
pub const COMMIT_OVERLAP: Duration = Duration::seconds(60);

/// Where a sync starts reading, in database time: `COMMIT_OVERLAP` before the previous sync's
/// cursor, but never before the horizon (older revocations cannot void an unexpired token). The
/// first sync reads the whole horizon.
fn read_from(
    cursor: Option<DateTime<Utc>>,
    db_now: DateTime<Utc>,
    horizon: Duration,
) -> DateTime<Utc> {
    let floor = db_now - horizon;
    cursor.map_or(floor, |c| (c - COMMIT_OVERLAP).max(floor))
}

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

    /// How long a revocation must be remembered: the longest an access token stays acceptable.
    pub fn horizon(&self) -> Duration {
        self.horizon
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Sessions with the instant each was revoked, as stored (`Session::revoke` returns them).
    pub fn revoke_sessions(&self, revoked: &[(Uuid, DateTime<Utc>)]) {
        let mut inner = self.write();
        for (id, at) in revoked {
            inner.sessions.insert(*id, *at + self.horizon);
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

    /// True when the last successful sync from the database is too old to trust for revocations
    /// made by other instances (the poller is failing or falling behind). Measured by this
    /// instance's monotonic clock: neither database time nor a wall clock that may jump.
    pub fn is_stale(&self, now: Instant) -> bool {
        let stale_after = std::time::Duration::from_secs(STALE_AFTER_SECS.unsigned_abs());
        self.read()
            .synced_at
            .is_none_or(|t| now.saturating_duration_since(t) > stale_after)
    }

    /// How long ago the last successful sync was (`None`: never), by the monotonic clock.
    pub fn last_sync_age(&self, now: Instant) -> Option<std::time::Duration> {
        self.read()
            .synced_at
            .map(|t| now.saturating_duration_since(t))
    }

    /// Drops entries that can no longer matter: every token they could void has expired. `now` is
    /// database time, like the stamps.
    pub fn prune(&self, now: DateTime<Utc>) {
        let horizon = self.horizon;
        let mut inner = self.write();
        inner.sessions.retain(|_, forget_at| *forget_at > now);
        inner.watermarks.retain(|_, at| *at + horizon > now);
    }

    /// Reads the revocations of every instance from the database: those since `COMMIT_OVERLAP`
    /// before the previous sync's cursor (the whole horizon on the first call).
    pub fn sync_from(&self, conn: &mut PgConnection) -> QueryResult<()> {
        // Read before the rows: whatever they miss commits after this instant.
        let db_now = clock::now(conn)?;
        let since = read_from(self.read().synced_until, db_now, self.horizon);
        let revoked = Session::revoked_since(conn, since)?;
        let mut marks = User::watermarks_since(conn, since)?;
        // A deleted user has no row and no sessions left: its deletion voids its tokens.
        marks.extend(UserTombstone::since(conn, since)?);
        self.revoke_sessions(&revoked);
        for (id, at) in marks {
            self.raise_watermark(id, at);
        }
        {
            let mut inner = self.write();
            inner.synced_until = Some(db_now);
            inner.synced_at = Some(Instant::now());
        }
        self.prune(db_now);
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
        let now = Instant::now();
        let secs = |s: i64| std::time::Duration::from_secs(s.unsigned_abs());
        assert!(r.is_stale(now));
        r.write().synced_at = Some(now);
        assert!(!r.is_stale(now + secs(STALE_AFTER_SECS)));
        assert!(r.is_stale(now + secs(STALE_AFTER_SECS + 1)));
        // Database time has no say: only when the last sync succeeded, here.
        r.write().synced_until = Some(Utc::now() + Duration::days(1));
        assert!(r.is_stale(now + secs(STALE_AFTER_SECS + 1)));
    }

    #[test]
    fn the_first_sync_reads_the_whole_horizon() {
        let (db_now, horizon) = (Utc::now(), Duration::seconds(905));
        assert_eq!(read_from(None, db_now, horizon), db_now - horizon);
    }

    #[test]
    fn a_sync_rereads_the_overlap_before_the_previous_cursor_but_not_past_the_horizon() {
        let (cursor, horizon) = (Utc::now(), Duration::seconds(905));
        let next = cursor + Duration::seconds(2);
        assert_eq!(
            read_from(Some(cursor), next, horizon),
            cursor - COMMIT_OVERLAP
        );
        // After failed syncs, from the last successful one's cursor.
        let later = cursor + Duration::seconds(300);
        assert_eq!(
            read_from(Some(cursor), later, horizon),
            cursor - COMMIT_OVERLAP
        );
        let much_later = cursor + Duration::seconds(3600);
        assert_eq!(
            read_from(Some(cursor), much_later, horizon),
            much_later - horizon
        );
    }

    #[test]
    fn a_revocation_committed_up_to_the_overlap_late_is_read_by_the_first_sync_after_it() {
        let horizon = Duration::seconds(905);
        let start = Utc::now();
        for delay in [0, 1, 5, 8, 30, 59] {
            // Stamped between two syncs (2 s apart), committed `delay` seconds later.
            let stamped = start + Duration::milliseconds(2500);
            let committed = stamped + Duration::seconds(delay);
            let (mut cursor, mut db_now) = (None, start);
            while db_now <= committed {
                cursor = Some(db_now);
                db_now += Duration::seconds(2);
            }
            // This sync's cursor is read after the commit: the row is visible, and in range.
            let since = read_from(cursor, db_now, horizon);
            assert!(stamped > since, "a commit {delay} s late is missed");
        }
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
        r.revoke_sessions(&[(session, t)]);
        r.raise_watermark(user, t);
        r.prune(t + Duration::seconds(904));
        assert!(r.is_revoked(Uuid::now_v7(), session, t));
        assert!(r.is_revoked(user, Uuid::now_v7(), t));
        r.prune(t + Duration::seconds(906));
        assert!(!r.is_revoked(Uuid::now_v7(), session, t));
        assert!(!r.is_revoked(user, Uuid::now_v7(), t));
    }
}
