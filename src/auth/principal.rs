//! `Principal`: who is calling, from a verified Bearer access token. `RequireRole<R>` gates on a
//! role. Every protected handler takes one of the two; nothing else reads identity.

use std::marker::PhantomData;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use futures_util::future::LocalBoxFuture;
use uuid::Uuid;

use chrono::{DateTime, Utc};

use super::client::client_info;
use super::revocation::{Revocation, revoked_in_database};
use super::sessions::find_dashboard_session;
use super::tokens::{AccessClaims, TokenService};
use crate::dashboard::error::PageError;
use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: Uuid,
    pub username: String,
    pub roles: Vec<String>,
    pub session_id: Uuid,
    /// Set when the caller came through a dashboard session cookie: the token its forms carry.
    pub csrf_token: Option<String>,
}

impl Principal {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

impl From<&AccessClaims> for Principal {
    fn from(c: &AccessClaims) -> Self {
        Self {
            user_id: c.sub,
            username: c.username.clone(),
            roles: c.roles.clone(),
            session_id: c.sid,
            csrf_token: None,
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

/// A verified Bearer token, checked against the in-memory revocation state. Also returns when the
/// token was issued, for the database check `identify` adds when that state is stale.
fn authenticate_bearer(req: &HttpRequest) -> Result<(Principal, DateTime<Utc>), ApiError> {
    let token = bearer_token(req)?;
    let tokens = req.app_data::<web::Data<TokenService>>().ok_or_else(|| {
        ApiError::internal(std::io::Error::other("TokenService missing from app data"))
    })?;
    let claims = tokens
        .verify(token)
        .map_err(|r| ApiError::InvalidToken(r.reason()))?;
    let issued = issued_at(&claims);
    let revoked = req
        .app_data::<web::Data<Revocation>>()
        .is_some_and(|r| r.is_revoked(claims.sub, claims.sid, issued));
    if revoked {
        return Err(ApiError::InvalidToken("token revoked"));
    }
    Ok((claims.as_ref().into(), issued))
}

/// When the revocation state has not been synced for a while, other instances' revocations may be
/// missing from it: ask the database instead. If the database cannot answer either, the local
/// state (which always has this instance's own revocations) decides.
async fn confirm_not_revoked(
    req: &HttpRequest,
    principal: &Principal,
    issued: DateTime<Utc>,
) -> Result<(), ApiError> {
    let stale = req
        .app_data::<web::Data<Revocation>>()
        .is_some_and(|r| r.is_stale(Utc::now()));
    let Some(state) = req.app_data::<web::Data<AppState>>().filter(|_| stale) else {
        return Ok(());
    };
    let (user_id, session_id) = (principal.user_id, principal.session_id);
    let answer = db::run(&state.pool, move |conn| {
        revoked_in_database(conn, user_id, session_id, issued).map_err(db::StoreError::from)
    })
    .await;
    match answer {
        Ok(true) => Err(ApiError::InvalidToken("token revoked")),
        Ok(false) => Ok(()),
        Err(e) => {
            log::warn!("revocation state is stale and the database did not answer: {e}");
            Ok(())
        }
    }
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

/// Registered as app data on the dashboard's scope: there, a session cookie is accepted as well as
/// a Bearer token, and failures are answered as pages (redirect to the login form, 403 page).
#[derive(Debug, Clone)]
pub struct CookieAuth {
    pub cookie_name: &'static str,
}

/// The session cookie's name: the `__Host-` prefix (Secure, Path=/, no Domain) whenever it can be.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-authd_session"
    } else {
        "authd_session"
    }
}

async fn from_cookie(req: &HttpRequest, cookie_name: &str) -> Result<Principal, ApiError> {
    let secret = req
        .cookie(cookie_name)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or(ApiError::InvalidToken("no session"))?;
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal(std::io::Error::other("AppState missing from app data")))?
        .clone();
    let client = client_info(req);
    let idle = state.config.dashboard_idle_secs;
    let found = db::run(&state.pool, move |conn| {
        find_dashboard_session(conn, &secret, idle, &client)
            .map_err(|e| ApiError::from(db::StoreError::from(e)))
    })
    .await?;
    let s = found.ok_or(ApiError::InvalidToken("session expired or revoked"))?;
    Ok(Principal {
        user_id: s.user_id,
        username: s.username,
        roles: s.roles,
        session_id: s.session_id,
        csrf_token: Some(s.csrf_token),
    })
}

/// Bearer first (any face); the cookie only where `CookieAuth` is registered.
async fn identify(req: &HttpRequest) -> Result<Principal, ApiError> {
    let cookie = req.app_data::<CookieAuth>().map(|c| c.cookie_name);
    match cookie {
        Some(name) if req.headers().get(header::AUTHORIZATION).is_none() => {
            from_cookie(req, name).await
        }
        _ => {
            let (principal, issued) = authenticate_bearer(req)?;
            confirm_not_revoked(req, &principal, issued).await?;
            Ok(principal)
        }
    }
}

/// The dashboard answers an authentication failure with a page, the API with problem+json.
fn reject(req: &HttpRequest, e: ApiError) -> actix_web::Error {
    if req.app_data::<CookieAuth>().is_none() {
        return e.into();
    }
    match e {
        ApiError::InvalidToken(_) => PageError::LoginRequired.into(),
        ApiError::InsufficientRole => {
            PageError::Forbidden("This page is for administrators only.".into()).into()
        }
        other => PageError::from(other).into(),
    }
}

impl FromRequest for Principal {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { identify(&req).await.map_err(|e| reject(&req, e)) })
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
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let principal = identify(&req).await.map_err(|e| reject(&req, e))?;
            if principal.has_role(R::NAME) {
                Ok(Self {
                    principal,
                    _role: PhantomData,
                })
            } else {
                Err(reject(&req, ApiError::InsufficientRole))
            }
        })
    }
}
