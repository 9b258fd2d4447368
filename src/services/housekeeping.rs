//! Housekeeping: deletes what no rule needs any more. Refresh tokens and sessions that expired
//! more than a day ago (a day of slack so nothing a client or an operator is looking at vanishes
//! at its expiry), and audit events older than `AUTHD_AUDIT_RETENTION_DAYS`.
//!
//! One instance at a time (a PostgreSQL advisory lock), in batches of `BATCH` rows per statement,
//! each its own short transaction that skips rows others hold: it never blocks a login, a refresh
//! or a revocation for longer than one batch takes. Times are the database's clock.

use chrono::Duration;

use super::Error;
use crate::db::models::audit_event::AuditEvent;
use crate::db::models::refresh_token::RefreshToken;
use crate::db::models::session::Session;
use crate::db::{self, StoreError, clock, lock};
use crate::state::AppState;
use crate::telemetry;

/// Rows one statement deletes at most.
pub const BATCH: i64 = 1_000;

/// How long after it expired a session or refresh token is kept.
pub const EXPIRED_KEPT: Duration = Duration::days(1);

/// The advisory lock of the job (a constant no other job of ours uses).
pub const LOCK_KEY: i64 = 0x6175_7468_6470_7572; // "authdpur"

/// What one run removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub refresh_tokens: u64,
    pub sessions: u64,
    pub audit_events: u64,
}

impl Purged {
    pub fn total(&self) -> u64 {
        self.refresh_tokens + self.sessions + self.audit_events
    }
}

/// What to do when another instance is running the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfRunning {
    /// Wait for it to finish, then run (`authd purge`).
    Wait,
    /// Do nothing: it is doing the work (the periodic job).
    Skip,
}

/// Runs the job once; `None` when it was skipped because another instance is running it.
pub async fn purge(state: &AppState, if_running: IfRunning) -> Result<Option<Purged>, Error> {
    let url = state.config.database_url.clone();
    let retention = Duration::days(i64::from(state.config.audit_retention_days));
    let purged = actix_web::web::block(move || -> Result<_, Error> {
        // A connection of its own: the lock ends with it, whatever happens here.
        let mut conn = db::connect(url.expose())?;
        let conn = &mut conn;
        match if_running {
            IfRunning::Wait => lock::lock(conn, LOCK_KEY)?,
            IfRunning::Skip if !lock::try_lock(conn, LOCK_KEY)? => return Ok(None),
            IfRunning::Skip => {}
        }
        let purged = run_locked(conn, retention);
        let unlocked = lock::unlock(conn, LOCK_KEY);
        let purged = purged?;
        unlocked?;
        Ok(Some(purged))
    })
    .await
    .map_err(|_| Error::from(StoreError::Canceled))??;
    if let Some(p) = purged {
        telemetry::purged("refresh_tokens", p.refresh_tokens);
        telemetry::purged("sessions", p.sessions);
        telemetry::purged("audit_events", p.audit_events);
    }
    Ok(purged)
}

fn run_locked(conn: &mut diesel::PgConnection, retention: Duration) -> Result<Purged, Error> {
    let now = clock::now(conn)?;
    let expired = now - EXPIRED_KEPT;
    Ok(Purged {
        // Tokens before their sessions: each session then cascades to nothing.
        refresh_tokens: in_batches(|| RefreshToken::delete_expired(conn, expired, BATCH))?,
        sessions: in_batches(|| Session::delete_expired(conn, expired, BATCH))?,
        audit_events: in_batches(|| AuditEvent::delete_older_than(conn, now - retention, BATCH))?,
    })
}

/// Repeats a batch until one comes back short; the rows deleted in all.
fn in_batches(mut batch: impl FnMut() -> diesel::QueryResult<usize>) -> diesel::QueryResult<u64> {
    let mut total = 0;
    loop {
        let n = batch()?;
        total += n as u64;
        if (n as i64) < BATCH {
            return Ok(total);
        }
    }
}
