//! `/admin/login` and `/admin/logout`. Every refusal — unknown name, wrong password, not an
//! administrator, disabled — shows the same form with the same message.

use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use diesel::Connection;
use serde::Deserialize;

use super::error::PageError;
use super::form::{CsrfOnly, Form};
use super::layout::Chrome;
use super::{csrf, render};
use crate::auth::principal::session_cookie_name;
use crate::auth::sessions::create_dashboard_session;
use crate::auth::tokens::new_refresh_token;
use crate::auth::{ClientInfo, Principal};
use crate::db;
use crate::domain::RoleName;
use crate::services::audit::event;
use crate::services::sessions::{self, Scope};
use crate::services::users::{self, UserError};
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

/// The form, with a fresh double-submit CSRF token in a cookie and a hidden field.
fn login_page(
    state: &AppState,
    status: StatusCode,
    username: &str,
    error: Option<&str>,
) -> Result<HttpResponse, PageError> {
    let (token, _) = new_refresh_token().map_err(|e| PageError::Internal(Box::new(e)))?;
    let page = LoginPage {
        chrome: Chrome::bare(),
        csrf_token: token.clone(),
        username,
        error,
    };
    let mut res = render(&page, false)?;
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
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    csrf_token: String,
}

#[post("/login")]
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    Form(form): Form<LoginForm>,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    csrf::verify_login(&req, &form.csrf_token)?;
    let username = form.username.clone();
    let failed = |state: &AppState| {
        login_page(
            state,
            StatusCode::UNAUTHORIZED,
            &username,
            Some(GENERIC_FAILURE),
        )
    };

    let user = match users::authenticate(
        &state.pool,
        &state.hasher,
        form.username.clone(),
        form.password,
        &client,
    )
    .await
    {
        Ok(user) => user,
        Err(UserError::InvalidCredentials) => return failed(&state),
        Err(e) => return Err(e.into()),
    };
    let user_id = user.id;
    let roles = db::run(&state.pool, move |conn| {
        crate::db::models::user::User::role_names(conn, user_id).map_err(UserError::from)
    })
    .await?;
    let refusal = if user.disabled_at.is_some() {
        Some("account_disabled")
    } else if !roles.iter().any(|r| r == RoleName::ADMIN) {
        Some("not_admin")
    } else {
        None
    };
    if let Some(reason) = refusal {
        users::refuse_login(&state.pool, user.id, reason, &client).await?;
        return failed(&state);
    }

    let absolute = state.config.dashboard_absolute_secs;
    let session = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let created = create_dashboard_session(conn, user_id, absolute, &client)?;
            users::record_login(conn, user_id, created.session.id, "dashboard", &client)?;
            Ok::<_, UserError>(created)
        })
    })
    .await?;

    let secure = state.config.cookie_secure;
    let cookie = Cookie::build(session_cookie_name(secure), session.cookie_secret)
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(Duration::seconds(absolute))
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
    req: HttpRequest,
    state: web::Data<AppState>,
    principal: Principal,
    Form(form): Form<CsrfOnly>,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    csrf::verify(&req, &principal, &form.csrf_token)?;
    let scope = Scope::One {
        session_id: principal.session_id,
        owner: Some(principal.user_id),
    };
    sessions::revoke(
        &state,
        scope,
        principal.user_id,
        event::LOGOUT,
        "logout",
        client,
    )
    .await?;
    let secure = state.config.cookie_secure;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/admin/login"))
        .cookie(expired(session_cookie_name(secure), "/", secure))
        .finish())
}
