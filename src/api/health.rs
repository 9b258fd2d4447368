//! `/healthz` (the process answers) and `/readyz` (the database answers and is migrated).

use actix_web::{HttpResponse, get, web};
use serde_json::json;

use crate::services::health::{Readiness, readiness};
use crate::state::AppState;

#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match readiness(&state).await {
        Readiness::Ready => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Readiness::MigrationsPending => {
            HttpResponse::ServiceUnavailable().json(json!({ "status": "migrations pending" }))
        }
        Readiness::DatabaseUnreachable => {
            HttpResponse::ServiceUnavailable().json(json!({ "status": "database unreachable" }))
        }
    }
}
