//! Database access: schema, models, the pool and the one helper that runs diesel off the event loop.

pub mod clock;
pub mod lock;
pub mod models;
mod pool;
pub mod schema;

pub use pool::{
    DbConn, DbPool, MIGRATIONS, StoreError, build_pool, connect, run_migrations, wait_for_database,
};

use actix_web::web;

/// Runs `f` with a pooled connection on actix's blocking thread pool, so diesel never stalls the
/// event loop. A pool timeout (database unreachable) is `StoreError::Unavailable`.
pub async fn run<T, E, F>(pool: &DbPool, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    let pool = pool.clone();
    web::block(move || {
        let mut conn = pool
            .get()
            .map_err(|e| E::from(StoreError::Unavailable(e.to_string())))?;
        f(&mut conn)
    })
    .await
    .map_err(|_| E::from(StoreError::Canceled))?
}
