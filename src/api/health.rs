//! `/healthz` (the process answers) and `/readyz` (the database answers and is migrated).

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::services::health::{Readiness, readiness};
use crate::state::AppState;

/// A probe's answer: plain JSON, not problem+json.
#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(value_type = String, example = "ok")]
    status: &'static str,
}

fn status(status: &'static str) -> Health {
    Health { status }
}

/// Liveness
///
/// `{"status": "ok"}` whenever the process serves HTTP; does not touch the database.
#[utoipa::path(
    tag = "health",
    responses((status = 200, description = "`{\"status\": \"ok\"}`", body = Health))
)]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(status("ok"))
}

/// Readiness
///
/// Ready when the database answers and every migration is applied.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "`{\"status\": \"ready\"}`", body = Health),
        (status = 503, description = "`{\"status\": \"database unreachable\"}` or \
            `{\"status\": \"migrations pending\"}`", body = Health),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match readiness(&state).await {
        Readiness::Ready => HttpResponse::Ok().json(status("ready")),
        Readiness::MigrationsPending => {
            HttpResponse::ServiceUnavailable().json(status("migrations pending"))
        }
        Readiness::DatabaseUnreachable => {
            HttpResponse::ServiceUnavailable().json(status("database unreachable"))
        }
    }
}
