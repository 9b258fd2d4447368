//! CSRF defence for every dashboard POST: a refusal of requests the browser marks as cross-site,
//! then a token — the session's own for signed-in forms, a double-submit cookie for the login
//! form, which has no session yet. `extract::CsrfForm` and `extract::LoginForm` apply it; no
//! handler checks by hand.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, web};
use chrono::Utc;

use super::error::PageError;
use crate::auth::secrets::constant_time_eq;
use crate::domain::Principal;
use crate::state::AppState;

pub const LOGIN_COOKIE: &str = "authd_login_csrf";

/// `Sec-Fetch-Site` from modern browsers, else `Origin` against `Host`: a cross-site POST is
/// refused before any token is looked at.
pub fn check_origin(req: &HttpRequest) -> Result<(), PageError> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let cross_site = || PageError::Forbidden("Cross-site form submissions are refused.".into());
    if let Some(site) = header("sec-fetch-site")
        && !matches!(site, "same-origin" | "none")
    {
        return Err(cross_site());
    }
    // `Origin: null` (a sandboxed frame, a `data:` page, some redirects) names no origin at all:
    // it is as foreign as any other site's.
    if let Some(origin) = header("origin") {
        let origin_host = origin.split_once("://").map(|(_, rest)| rest);
        if origin_host.is_none() || origin_host != header("host") {
            return Err(cross_site());
        }
    }
    Ok(())
}

fn refused() -> PageError {
    PageError::Forbidden(
        "The form has expired or did not come from this site. Reload the page and try again."
            .into(),
    )
}

fn matches(expected: Option<&str>, submitted: &str) -> bool {
    expected.is_some_and(|e| !e.is_empty() && constant_time_eq(e.as_bytes(), submitted.as_bytes()))
}

/// A signed-in POST: the origin, then the session's token.
pub fn verify(req: &HttpRequest, principal: &Principal, submitted: &str) -> Result<(), PageError> {
    check_origin(req)?;
    if matches(principal.csrf_token(), submitted) {
        Ok(())
    } else {
        Err(refused())
    }
}

/// The login POST: the origin, then the hidden field against the cookie set with the form, and
/// the token's signature: only a token authd issued (on any instance), not yet expired, passes,
/// so a planted cookie with a matching field of the attacker's own making does not.
pub fn verify_login(req: &HttpRequest, submitted: &str) -> Result<(), PageError> {
    check_origin(req)?;
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| PageError::Internal("AppState missing from app data".into()))?;
    let cookie = req.cookie(LOGIN_COOKIE);
    if !submitted.is_empty()
        && matches(cookie.as_ref().map(|c| c.value()), submitted)
        && state.form_key.verify(submitted, Utc::now().timestamp())
    {
        Ok(())
    } else {
        Err(refused())
    }
}

pub fn login_cookie(token: &str, secure: bool) -> Cookie<'static> {
    Cookie::build(LOGIN_COOKIE, token.to_owned())
        .path("/admin/login")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .finish()
}
