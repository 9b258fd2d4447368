//! `GET /.well-known/jwks.json`: the public keys that can verify a live access token, so other
//! services check our tokens without calling us. Empty for HS256 (a shared secret is never
//! published).

use actix_web::{HttpResponse, get, web};

use crate::state::AppState;

#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(state.tokens.jwks())
}
