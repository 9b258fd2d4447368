//! PostgreSQL advisory locks held by a session: one job of a kind at a time across every instance.
//! Held on a connection of its own (`db::connect`), a lock ends at the latest with it, so no
//! pooled connection can carry a forgotten lock.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};

#[derive(QueryableByName)]
struct Acquired {
    #[diesel(sql_type = Bool)]
    acquired: bool,
}

/// Takes the lock `key` if nobody holds it; false when another session does.
pub fn try_lock(conn: &mut PgConnection, key: i64) -> QueryResult<bool> {
    diesel::sql_query("SELECT pg_try_advisory_lock($1) AS acquired")
        .bind::<BigInt, _>(key)
        .get_result::<Acquired>(conn)
        .map(|a| a.acquired)
}

/// Takes the lock `key`, waiting for whoever holds it.
pub fn lock(conn: &mut PgConnection, key: i64) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(key)
        .execute(conn)
        .map(drop)
}

pub fn unlock(conn: &mut PgConnection, key: i64) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(key)
        .execute(conn)
        .map(drop)
}
