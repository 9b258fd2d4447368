//! Readiness: the database answers and every migration this build embeds is applied; and the
//! gauges of this instance that a metrics scrape reads.

use std::time::Instant;

use diesel_migrations::MigrationHarness;

use super::Error;
use crate::db::{self, MIGRATIONS, StoreError};
use crate::state::AppState;
use crate::telemetry;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    MigrationsPending,
    DatabaseUnreachable,
}

pub async fn readiness(state: &AppState) -> Readiness {
    let pending = db::run(&state.pool, |conn| {
        conn.has_pending_migration(MIGRATIONS)
            .map_err(|e| Error::from(StoreError::Migration(e.to_string())))
    })
    .await;
    match pending {
        Ok(false) => Readiness::Ready,
        Ok(true) => Readiness::MigrationsPending,
        Err(e) => {
            log::warn!("readiness check failed: {e}");
            Readiness::DatabaseUnreachable
        }
    }
}

/// Records what this instance looks like right now, for a scrape: its database pool and how far
/// its revocation state lags behind the database.
pub fn record_instance_gauges(state: &AppState) {
    let pool = state.pool.state();
    telemetry::db_pool(
        pool.idle_connections,
        pool.connections.saturating_sub(pool.idle_connections),
    );
    telemetry::revocation_sync_lag(state.revocation.last_sync_age(Instant::now()));
}
