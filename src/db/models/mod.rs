//! One file per table: a read struct, a borrowed insert struct, and the queries on that table.

pub mod app_secret;
pub mod audit_event;
pub mod email_verification;
pub mod mail_outbox;
pub mod password_reset;
pub mod refresh_token;
pub mod role;
pub mod session;
pub mod signing_key;
pub mod user;
pub mod user_tombstone;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// Deletes up to `limit` rows of `table` (a table with `id` and `expires_at`) that expired before
/// `cutoff`; returns how many. Rows another transaction holds are skipped (the next run gets
/// them), so nobody waits on housekeeping.
fn delete_expired_batch(
    conn: &mut PgConnection,
    table: &'static str,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> QueryResult<usize> {
    diesel::sql_query(format!(
        "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE expires_at < $1 \
         LIMIT $2 FOR UPDATE SKIP LOCKED)"
    ))
    .bind::<diesel::sql_types::Timestamptz, _>(cutoff)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .execute(conn)
}
