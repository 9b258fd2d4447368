//! The database's clock: the one clock every instance shares. Revocations are stamped with it and
//! the revocation sync keeps its cursor in it, so the app servers' clocks never decide whether an
//! instance sees another's revocation.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

diesel::define_sql_function! {
    /// SQL `statement_timestamp()`: when the current statement began, by the database's clock.
    /// One instant for every row a statement writes, and (unlike `now()`, the transaction's start)
    /// as close to the commit as the statement itself.
    fn statement_timestamp() -> diesel::sql_types::Timestamptz;
}

/// The database's clock, now.
pub fn now(conn: &mut PgConnection) -> QueryResult<DateTime<Utc>> {
    diesel::select(statement_timestamp()).get_result(conn)
}
