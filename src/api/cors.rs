//! CORS for browser clients of the JSON face (`AUTHD_CORS_ORIGINS`): only the listed origins,
//! never `*`, no credentials (clients send Bearer tokens, not cookies). It covers `/api/*`,
//! `/auth/verify` and `/.well-known/jwks.json`; never the dashboard.

use actix_cors::{Cors, CorsError};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::guard::GuardContext;
use actix_web::http::{Method, header};
use actix_web::middleware::{Condition, Next};
use actix_web::{Error, ResponseError};

use super::error::ApiError;

/// How long a browser may cache a preflight answer, seconds.
pub const MAX_AGE_SECS: usize = 600;

/// The paths CORS applies to (a guard).
pub fn covers(ctx: &GuardContext<'_>) -> bool {
    let path = ctx.head().uri.path();
    path.starts_with("/api/") || path == "/auth/verify" || path == "/.well-known/jwks.json"
}

/// The CORS middleware for `origins` (already checked by the configuration); off when empty,
/// so that no CORS header is ever sent.
pub fn middleware(origins: &[String]) -> Condition<Cors> {
    let mut cors = Cors::default()
        .allowed_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::WWW_AUTHENTICATE,
            header::RETRY_AFTER,
            header::LOCATION,
            header::ALLOW,
            header::HeaderName::from_static("x-request-id"),
            header::HeaderName::from_static("x-auth-user-id"),
            header::HeaderName::from_static("x-auth-username"),
            header::HeaderName::from_static("x-auth-roles"),
            header::HeaderName::from_static("x-auth-session-id"),
        ])
        .max_age(MAX_AGE_SECS)
        // A request from another origin is answered as usual, only without CORS headers: the
        // browser then withholds the answer. Non-browser clients are not CORS's business.
        .block_on_origin_mismatch(false);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    Condition::new(!origins.is_empty(), cors)
}

/// A refused preflight as problem+json like every other error of this face (actix-cors answers
/// plain text).
pub async fn problems(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let res = next.call(req).await?;
    let refused = res
        .response()
        .error()
        .and_then(|e| e.as_error::<CorsError>())
        .map(|e| format!("CORS preflight refused: {e}"));
    Ok(match refused {
        Some(detail) => {
            let (req, _) = res.into_parts();
            let answer = ApiError::InvalidRequest(detail).error_response();
            ServiceResponse::new(req, answer).map_into_right_body()
        }
        None => res.map_into_left_body(),
    })
}
