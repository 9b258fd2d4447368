//! `/healthz` (the process answers) and `/readyz` (the database answers and is migrated).

use actix_web::{HttpResponse, get, web};
use diesel_migrations::MigrationHarness;
use serde_json::json;

use crate::db::{self, MIGRATIONS, StoreError};
use crate::state::AppState;

#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let check = db::run(&state.pool, |conn| {
        conn.has_pending_migration(MIGRATIONS)
            .map_err(|e| StoreError::Migration(e.to_string()))
    })
    .await;
    match check {
        Ok(false) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Ok(true) => {
            HttpResponse::ServiceUnavailable().json(json!({ "status": "migrations pending" }))
        }
        Err(e) => {
            log::warn!("readiness check failed: {e}");
            HttpResponse::ServiceUnavailable().json(json!({ "status": "database unreachable" }))
        }
    }
}
