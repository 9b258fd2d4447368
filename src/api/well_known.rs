//! `GET /.well-known/jwks.json`: the public keys that can verify a live access token, so other
//! services check our tokens without calling us. Empty for HS256 (a shared secret is never
//! published).

use actix_web::{HttpResponse, get, web};
use utoipa::ToSchema;

use crate::state::AppState;

/// A JSON Web Key Set (RFC 7517): the public keys that may have signed a live access token.
/// Empty for HS256, whose secret is never published.
#[derive(ToSchema)]
#[allow(dead_code)] // Only a schema: `auth::keys` builds the keys as JSON.
#[schema(example = json!({"keys": [{"kty": "OKP", "crv": "Ed25519",
    "x": "1_fqvUj3j-rHWuM2PLVQPmokOjr_ya8d7gT88ff7k0U", "kid": "KpZdxRsX-0z-tEfi",
    "alg": "EdDSA", "use": "sig"}]}))]
pub struct JwkSet {
    keys: Vec<Jwk>,
}

/// One public key: `OKP`/`Ed25519` (`x`) for EdDSA, `EC`/`P-256` (`x`, `y`) for ES256, `RSA`
/// (`n`, `e`) for RS256.
#[derive(ToSchema)]
#[allow(dead_code)] // Only a schema, as above.
pub struct Jwk {
    kty: String,
    kid: String,
    alg: String,
    #[schema(rename = "use")]
    use_: String,
    #[schema(nullable = false)]
    crv: Option<String>,
    #[schema(nullable = false)]
    x: Option<String>,
    #[schema(nullable = false)]
    y: Option<String>,
    #[schema(nullable = false)]
    n: Option<String>,
    #[schema(nullable = false)]
    e: Option<String>,
}

/// The JSON Web Key Set
///
/// May be cached for 5 minutes.
#[utoipa::path(
    tag = "keys",
    responses((status = 200, description = "The public keys.", body = JwkSet,
        content_type = "application/jwk-set+json",
        headers(("Cache-Control" = String, description = "`public, max-age=300`"))))
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .insert_header(("Cache-Control", "public, max-age=300"))
        .json(state.tokens.jwks())
}
