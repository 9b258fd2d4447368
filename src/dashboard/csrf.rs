//! CSRF defence for every dashboard POST: the per-session token in the form, plus a refusal of
//! requests the browser marks as cross-site. The login form, which has no session yet, uses a
//! double-submit cookie instead.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};

use super::error::PageError;
use crate::auth::Principal;

pub const LOGIN_COOKIE: &str = "authd_login_csrf";

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `Sec-Fetch-Site` from modern browsers, else `Origin` against `Host`: a cross-site POST is
/// refused before any token is looked at.
pub fn check_origin(req: &HttpRequest) -> Result<(), PageError> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site")
        && !matches!(site, "same-origin" | "none")
    {
        return Err(PageError::Forbidden(
            "Cross-site form submissions are refused.".into(),
        ));
    }
    if let (Some(origin), Some(host)) = (header("origin"), header("host")) {
        let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        if origin != "null" && origin_host != host {
            return Err(PageError::Forbidden(
                "Cross-site form submissions are refused.".into(),
            ));
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

/// For every signed-in POST: origin check, then the session's token.
pub fn verify(req: &HttpRequest, principal: &Principal, submitted: &str) -> Result<(), PageError> {
    check_origin(req)?;
    match principal.csrf_token.as_deref() {
        Some(expected)
            if !expected.is_empty()
                && constant_time_eq(expected.as_bytes(), submitted.as_bytes()) =>
        {
            Ok(())
        }
        _ => Err(refused()),
    }
}

/// For the login POST: the hidden field must equal the cookie set with the form.
pub fn verify_login(req: &HttpRequest, submitted: &str) -> Result<(), PageError> {
    check_origin(req)?;
    match req.cookie(LOGIN_COOKIE) {
        Some(c)
            if !submitted.is_empty()
                && constant_time_eq(c.value().as_bytes(), submitted.as_bytes()) =>
        {
            Ok(())
        }
        _ => Err(refused()),
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

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn compares_whole_values() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
