//! `/admin/login` and `/admin/logout`. Every refusal — unknown name, wrong password, not an
//! administrator, disabled — shows the same form with the same message.

use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;

use super::error::PageError;
use super::extract::{CsrfForm, LoginForm, SignedIn};
use super::form::NoFields;
use super::layout::{Chrome, ShownFlash};
use super::{csrf, render};

use crate::domain::ClientInfo;
use crate::identity::session_cookie_name;
use crate::services::login::{self, Credentials};
use crate::services::throttle::{self, Route};
use crate::services::{self, sessions};
use crate::state::AppState;

pub const GENERIC_FAILURE: &str =
    "Sign-in failed: the username or password is wrong, or this account cannot use the dashboard.";

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage<'a> {
    chrome: Chrome,
    csrf_token: String,
    username: &'a str,
    error: Option<&'a str>,
}

/// The form, with a fresh signed CSRF token in a cookie and a hidden field (double submit).
fn login_page(
    state: &AppState,
    status: StatusCode,
    username: &str,
    error: Option<&str>,
) -> Result<HttpResponse, PageError> {
    let token = state
        .form_key
        .issue(Utc::now().timestamp())
        .map_err(|e| PageError::Internal(Box::new(e)))?;
    let page = LoginPage {
        chrome: Chrome::bare(),
        csrf_token: token.clone(),
        username,
        error,
    };
    let mut res = render(&page, ShownFlash::default())?;
    *res.status_mut() = status;
    res.add_cookie(&csrf::login_cookie(&token, state.config.cookie_secure))
        .map_err(|e| PageError::Internal(Box::new(e)))?;
    Ok(res)
}

#[get("/login")]
pub async fn show(state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    login_page(&state, StatusCode::OK, "", None)
}

#[derive(Deserialize)]
pub struct LoginFields {
    username: String,
    password: String,
}

#[post("/login")]
pub async fn submit(
    state: web::Data<AppState>,
    LoginForm(form): LoginForm<LoginFields>,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    throttle::admit(&state, Route::AdminLogin, &client).await?;
    let username = form.username.clone();
    let credentials = Credentials {
        username: form.username,
        password: form.password,
    };
    let session = match login::login_dashboard(&state, credentials, &client).await {
        Ok(session) => session,
        Err(
            services::Error::InvalidCredentials
            | services::Error::AccountDisabled
            | services::Error::NotPermitted,
        ) => {
            let status = StatusCode::UNAUTHORIZED;
            return login_page(&state, status, &username, Some(GENERIC_FAILURE));
        }
        Err(e) => return Err(e.into()),
    };
    let secure = state.config.cookie_secure;
    let cookie = Cookie::build(session_cookie_name(secure), session.cookie_secret)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(Duration::seconds(session.max_age_secs))
        .finish();
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin"))
        .cookie(cookie)
        .cookie(expired(csrf::LOGIN_COOKIE, "/admin/login", secure))
        .finish())
}

fn expired(name: &'static str, path: &'static str, secure: bool) -> Cookie<'static> {
    Cookie::build(name, "")
        .path(path)
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(Duration::ZERO)
        .finish()
}

#[post("/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    SignedIn(principal): SignedIn,
    _form: CsrfForm<NoFields>,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    sessions::logout(&state, &principal, &client).await?;
    let secure = state.config.cookie_secure;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin/login"))
        .cookie(expired(session_cookie_name(secure), "/", secure))
        .finish())
}
