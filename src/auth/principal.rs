//! `Principal`: who is calling, from a verified Bearer access token. `RequireRole<R>` gates on a
//! role. Every protected handler takes one of the two; nothing else reads identity.

use std::future::{Ready, ready};
use std::marker::PhantomData;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use uuid::Uuid;

use chrono::{DateTime, Utc};

use super::revocation::Revocation;
use super::tokens::{AccessClaims, TokenService};
use crate::error::ApiError;

#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: Uuid,
    pub username: String,
    pub roles: Vec<String>,
    pub session_id: Uuid,
}

impl Principal {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

impl From<AccessClaims> for Principal {
    fn from(c: AccessClaims) -> Self {
        Self {
            user_id: c.sub,
            username: c.username,
            roles: c.roles,
            session_id: c.sid,
        }
    }
}

/// The token from `Authorization: Bearer …` only: never a query string.
fn bearer_token(req: &HttpRequest) -> Result<&str, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(ApiError::InvalidToken("no bearer token"))?
        .to_str()
        .map_err(|_| ApiError::InvalidToken("malformed authorization header"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or(ApiError::InvalidToken("malformed authorization header"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::InvalidToken("no bearer token"));
    }
    Ok(token.trim())
}

pub fn authenticate(req: &HttpRequest) -> Result<Principal, ApiError> {
    let token = bearer_token(req)?;
    let tokens = req.app_data::<web::Data<TokenService>>().ok_or_else(|| {
        ApiError::internal(std::io::Error::other("TokenService missing from app data"))
    })?;
    let claims = tokens
        .verify(token)
        .map_err(|r| ApiError::InvalidToken(r.reason()))?;
    let revoked = req
        .app_data::<web::Data<Revocation>>()
        .is_some_and(|r| r.is_revoked(claims.sub, claims.sid, issued_at(&claims)));
    if revoked {
        return Err(ApiError::InvalidToken("token revoked"));
    }
    Ok(claims.into())
}

/// When the token was issued, to the millisecond: from its UUID v7 `jti` (the `iat` claim has
/// whole seconds only, too coarse to tell a token from a revocation in the same second).
fn issued_at(claims: &AccessClaims) -> DateTime<Utc> {
    claims
        .jti
        .get_timestamp()
        .and_then(|ts| {
            let (secs, nanos) = ts.to_unix();
            DateTime::from_timestamp(i64::try_from(secs).ok()?, nanos)
        })
        .or_else(|| DateTime::from_timestamp(claims.iat, 0))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

/// A role, as a type, so the gate is visible in a handler's signature.
pub trait RoleMarker {
    const NAME: &'static str;
}

pub struct Admin;

impl RoleMarker for Admin {
    const NAME: &'static str = "admin";
}

/// A `Principal` that holds role `R`; otherwise `403 insufficient_role`.
pub struct RequireRole<R: RoleMarker> {
    pub principal: Principal,
    _role: PhantomData<R>,
}

impl<R: RoleMarker> FromRequest for RequireRole<R> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req).and_then(|principal| {
            if principal.has_role(R::NAME) {
                Ok(Self {
                    principal,
                    _role: PhantomData,
                })
            } else {
                Err(ApiError::InsufficientRole)
            }
        }))
    }
}
