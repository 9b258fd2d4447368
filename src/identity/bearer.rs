//! Bearer access tokens: read from the `Authorization` header only, verified without a database
//! round trip (signature, claims, in-memory revocation state), with the database asked instead
//! when that state has not been synced for a while.

use std::time::Instant;

use actix_web::HttpRequest;
use actix_web::http::header;
use chrono::{DateTime, Utc};

use super::AuthError;
use crate::auth::revocation::revoked_in_database;
use crate::db;
use crate::domain::{Credential, Principal};
use crate::services;
use crate::state::AppState;
use crate::telemetry;

/// The verification result of a well-signed token whose session or user was revoked.
const REVOKED: &str = "revoked";

/// The token from `Authorization: Bearer …`; never from a query string. More than one
/// `Authorization` header is refused: authd and an upstream could read different ones.
fn bearer_token(req: &HttpRequest) -> Result<&str, AuthError> {
    let malformed = AuthError::Unauthenticated("malformed authorization header");
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let value = values
        .next()
        .ok_or(AuthError::Unauthenticated("no bearer token"))?;
    if values.next().is_some() {
        return Err(AuthError::Unauthenticated(
            "more than one authorization header",
        ));
    }
    let value = value
        .to_str()
        .map_err(|_| AuthError::Unauthenticated("malformed authorization header"))?;
    let (scheme, token) = value.split_once(' ').ok_or(malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::Unauthenticated("no bearer token"));
    }
    Ok(token.trim())
}

pub(super) async fn authenticate(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Principal, AuthError> {
    let claims = state.tokens.verify(bearer_token(req)?).map_err(|r| {
        telemetry::token_verification(r.label());
        AuthError::Unauthenticated(r.reason())
    })?;
    let issued = claims.issued_at();
    if state.revocation.is_revoked(claims.sub, claims.sid, issued) {
        telemetry::token_verification(REVOKED);
        return Err(AuthError::Unauthenticated("token revoked"));
    }
    let principal = Principal {
        user_id: claims.sub,
        username: claims.username.clone(),
        roles: claims.roles.clone(),
        session_id: claims.sid,
        credential: Credential::Bearer,
    };
    let confirmed = confirm_not_revoked(state, &principal, issued).await;
    telemetry::token_verification(match &confirmed {
        Ok(()) => "valid",
        Err(AuthError::Service(_)) => "unavailable",
        Err(_) => REVOKED,
    });
    confirmed.map(|()| principal)
}

/// When the revocation state has not been synced for a while, other instances' revocations may be
/// missing from it: ask the database instead. If the database cannot answer either, the request
/// is refused: fail closed.
async fn confirm_not_revoked(
    state: &AppState,
    principal: &Principal,
    issued: DateTime<Utc>,
) -> Result<(), AuthError> {
    if !state.revocation.is_stale(Instant::now()) {
        return Ok(());
    }
    let (user_id, session_id) = (principal.user_id, principal.session_id);
    let answer = db::run(&state.pool, move |conn| {
        revoked_in_database(conn, user_id, session_id, issued).map_err(services::Error::from)
    })
    .await;
    match answer {
        Ok(true) => Err(AuthError::Unauthenticated("token revoked")),
        Ok(false) => Ok(()),
        // Neither the local state nor the database can vouch for the token: refuse (503), never
        // admit a token another instance may have revoked meanwhile.
        Err(e) => {
            log::warn!("revocation state is stale and the database did not answer: {e}");
            Err(AuthError::Service(e))
        }
    }
}
