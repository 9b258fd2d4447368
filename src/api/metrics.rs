//! `GET /metrics`: Prometheus text format. Not for the public: `deploy/nginx.conf` refuses it at
//! the edge, and Prometheus scrapes each instance's own address.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, get, web};

use crate::services::health::record_instance_gauges;
use crate::state::AppState;
use crate::telemetry::exporter;

/// The text exposition format's media type.
const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    record_instance_gauges(&state);
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, CONTENT_TYPE_TEXT))
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(exporter::render())
}
