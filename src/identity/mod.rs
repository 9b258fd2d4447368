//! Who is calling. `identify` turns a request into a `Principal` — from a Bearer access token, or
//! (where the face accepts it) a dashboard session cookie — or a face-neutral `AuthError`. It fails
//! closed: anything it needs and cannot find refuses the request. Each face wraps it in its own
//! extractors and maps `AuthError` to its own answers.

mod bearer;
pub mod client;
mod error;

use std::marker::PhantomData;

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, web};

pub use client::client_info;
pub use error::AuthError;

use crate::domain::Principal;
use crate::services::sessions;
use crate::state::AppState;

/// Which credentials a face accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    /// `Authorization: Bearer` only (the JSON API, `/auth/verify`).
    Bearer,
    /// A Bearer token when the request has an `Authorization` header, else the dashboard session
    /// cookie (the dashboard).
    BearerOrCookie,
}

/// The dashboard session cookie's name: the `__Host-` prefix (Secure, Path=/, no Domain)
/// whenever the cookie is Secure.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-authd_session"
    } else {
        "authd_session"
    }
}

/// Remembered for the rest of the request, so a second extractor does not identify again.
#[derive(Clone)]
struct Identified(Principal);

pub async fn identify(req: &HttpRequest, accept: Accept) -> Result<Principal, AuthError> {
    if let Some(Identified(p)) = req.extensions().get::<Identified>() {
        return Ok(p.clone());
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or(AuthError::Misconfigured("AppState missing from app data"))?;
    let use_cookie =
        accept == Accept::BearerOrCookie && req.headers().get(header::AUTHORIZATION).is_none();
    let principal = if use_cookie {
        from_cookie(req, state).await?
    } else {
        bearer::authenticate(req, state).await?
    };
    req.extensions_mut().insert(Identified(principal.clone()));
    Ok(principal)
}

/// The session cookie's value; two cookies of that name (one may have been planted on a sibling
/// path or subdomain) are ambiguous, and ambiguity is no session.
fn session_cookie(req: &HttpRequest, name: &str) -> Result<String, AuthError> {
    let cookies = req
        .cookies()
        .map_err(|_| AuthError::Unauthenticated("malformed cookie header"))?;
    let mut same_name = cookies.iter().filter(|c| c.name() == name);
    let cookie = same_name
        .next()
        .ok_or(AuthError::Unauthenticated("no session"))?;
    if same_name.next().is_some() {
        return Err(AuthError::Unauthenticated("more than one session cookie"));
    }
    Some(cookie.value().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or(AuthError::Unauthenticated("no session"))
}

async fn from_cookie(req: &HttpRequest, state: &AppState) -> Result<Principal, AuthError> {
    let secret = session_cookie(req, session_cookie_name(state.config.cookie_secure))?;
    sessions::resume_dashboard(state, secret, client_info(req))
        .await?
        .ok_or(AuthError::Unauthenticated("session expired or revoked"))
}

/// A role, as a type, so the gate is visible in a handler's signature.
pub trait RoleMarker {
    const NAME: &'static str;
}

pub struct Admin;

impl RoleMarker for Admin {
    const NAME: &'static str = crate::domain::RoleName::ADMIN;
}

/// `principal` if it holds role `R`.
pub fn require<R: RoleMarker>(principal: Principal) -> Result<Principal, AuthError> {
    if principal.has_role(R::NAME) {
        Ok(principal)
    } else {
        Err(AuthError::InsufficientRole)
    }
}

/// A proof, in a handler's signature, that the caller holds role `R`.
pub struct RequireRole<R: RoleMarker> {
    pub principal: Principal,
    _role: PhantomData<R>,
}

impl<R: RoleMarker> RequireRole<R> {
    pub async fn identify(req: &HttpRequest, accept: Accept) -> Result<Self, AuthError> {
        let principal = require::<R>(identify(req, accept).await?)?;
        Ok(Self {
            principal,
            _role: PhantomData,
        })
    }
}
