use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub type DbPool = Pool<ConnectionManager<PgConnection>>;
pub type DbConn = PooledConnection<ConnectionManager<PgConnection>>;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// What can go wrong below the services, before any rule of ours is involved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database query failed")]
    Query(#[source] DieselError),
    #[error("blocking task was cancelled")]
    Canceled,
    #[error("migrations failed: {0}")]
    Migration(String),
}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        match e {
            // A connection lost mid-query is an outage, not a bug: the caller answers 503.
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => Self::Unavailable(info.message().to_owned()),
            // The server ending our session (SQLSTATE 57P01/57P02/57P03: shutdown, crash
            // recovery, a dropped database) arrives as an ordinary error report before the
            // connection closes; diesel exposes no SQLSTATE, so its fixed wording is matched.
            DieselError::DatabaseError(DatabaseErrorKind::Unknown, info)
                if is_session_ended(info.message()) =>
            {
                Self::Unavailable(info.message().to_owned())
            }
            other => Self::Query(other),
        }
    }
}

fn is_session_ended(message: &str) -> bool {
    [
        "terminating connection",
        "server closed the connection",
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is in recovery mode",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// The pool itself connects lazily; `connection_timeout` bounds how long a request waits for a
/// connection when the database is down (then it answers 503 instead of hanging).
pub fn build_pool(database_url: &str, max_size: u32) -> DbPool {
    Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        .connection_timeout(Duration::from_secs(5))
        .test_on_check_out(false)
        .build_unchecked(ConnectionManager::<PgConnection>::new(database_url))
}

/// A connection of its own, outside the pool: for a long job that must not hold a pooled one,
/// or whose session state (an advisory lock) must end with it.
pub fn connect(database_url: &str) -> Result<PgConnection, StoreError> {
    PgConnection::establish(database_url).map_err(|e| StoreError::Unavailable(e.to_string()))
}

/// Waits for the database to accept a connection, at most `limit`.
pub fn wait_for_database(pool: &DbPool, limit: Duration) -> Result<(), StoreError> {
    let deadline = Instant::now() + limit;
    loop {
        match pool.get() {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(StoreError::Unavailable(e.to_string()));
            }
            Err(e) => {
                log::warn!("waiting for the database: {e}");
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    }
}

/// Serialises migrations: instances starting together on a fresh database take turns, and the
/// later ones find nothing left to apply.
const MIGRATIONS_LOCK: i64 = 4_242_002;

/// Applies pending migrations and returns the versions it applied.
pub fn run_migrations(conn: &mut PgConnection) -> Result<Vec<String>, StoreError> {
    advisory(conn, "SELECT pg_advisory_lock($1)")?;
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|done| done.iter().map(ToString::to_string).collect())
        .map_err(|e| StoreError::Migration(e.to_string()));
    advisory(conn, "SELECT pg_advisory_unlock($1)")?;
    applied
}

fn advisory(conn: &mut PgConnection, sql: &str) -> Result<(), StoreError> {
    use diesel::RunQueryDsl;
    diesel::sql_query(sql)
        .bind::<diesel::sql_types::BigInt, _>(MIGRATIONS_LOCK)
        .execute(conn)
        .map(|_| ())
        .map_err(StoreError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_server(kind: DatabaseErrorKind, message: &str) -> StoreError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned())).into()
    }

    #[test]
    fn a_session_the_server_ended_is_an_outage_not_a_bug() {
        for message in [
            "terminating connection due to administrator command",
            "server closed the connection unexpectedly",
            "the database system is shutting down",
        ] {
            assert!(matches!(
                from_server(DatabaseErrorKind::Unknown, message),
                StoreError::Unavailable(_)
            ));
        }
        assert!(matches!(
            from_server(DatabaseErrorKind::Unknown, "syntax error at or near"),
            StoreError::Query(_)
        ));
    }
}
