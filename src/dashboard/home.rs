//! `GET /`: what this service is, its version, where to go next.

use actix_web::{get, web};
use askama::Template;
use askama_web::WebTemplate;

use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    version: &'static str,
    issuer: String,
    algorithm: &'static str,
}

#[get("/")]
pub async fn home(state: web::Data<AppState>) -> HomePage {
    HomePage {
        version: env!("CARGO_PKG_VERSION"),
        issuer: state.config.issuer.clone(),
        algorithm: state.config.jwt_alg.as_str(),
    }
}
