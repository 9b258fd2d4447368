//! `user_tombstones`: users deleted while one of their access tokens could still be unexpired.
//! The user row and its sessions are gone, so the revocation sync reads these instead: a deleted
//! user's tokens are refused on every instance, like those before a watermark.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::user_tombstones;

pub struct UserTombstone;

impl UserTombstone {
    /// Records the deletion of `user_id` now (database time), kept for `keep_secs`; returns the
    /// instant stored, for this instance's own revocation state.
    pub fn insert(
        conn: &mut PgConnection,
        user_id: Uuid,
        keep_secs: i64,
    ) -> QueryResult<DateTime<Utc>> {
        diesel::sql_query(
            "INSERT INTO user_tombstones (id, deleted_at, expires_at) \
             VALUES ($1, statement_timestamp(), statement_timestamp() + make_interval(secs => $2)) \
             ON CONFLICT (id) DO UPDATE SET deleted_at = EXCLUDED.deleted_at, \
                                            expires_at = EXCLUDED.expires_at",
        )
        .bind::<diesel::sql_types::Uuid, _>(user_id)
        .bind::<diesel::sql_types::Double, _>(keep_secs as f64)
        .execute(conn)?;
        user_tombstones::table
            .find(user_id)
            .select(user_tombstones::deleted_at)
            .first(conn)
    }

    /// Deletions recorded after `since` (database time), by any instance.
    pub fn since(
        conn: &mut PgConnection,
        since: DateTime<Utc>,
    ) -> QueryResult<Vec<(Uuid, DateTime<Utc>)>> {
        user_tombstones::table
            .filter(user_tombstones::deleted_at.gt(since))
            .select((user_tombstones::id, user_tombstones::deleted_at))
            .load(conn)
    }

    /// Deletes up to `limit` tombstones that expired before `cutoff`; returns how many.
    pub fn delete_expired(
        conn: &mut PgConnection,
        cutoff: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<usize> {
        super::delete_expired_batch(conn, "user_tombstones", cutoff, limit)
    }
}
