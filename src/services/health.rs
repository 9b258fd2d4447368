//! Readiness: the database answers and every migration this build embeds is applied.

use diesel_migrations::MigrationHarness;

use super::Error;
use crate::db::{self, MIGRATIONS, StoreError};
use crate::state::AppState;

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
