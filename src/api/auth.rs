//! `/api/auth/*`: register, login, refresh, logout, me, password, own sessions.

use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::ApiError;
use super::error::Problem;
use crate::domain::{ClientInfo, Principal};
use crate::services::accounts::{self, Registration, UserView};
use crate::services::login::{Credentials, TokenPair, login_api};
use crate::services::sessions::SessionView;
use crate::services::throttle::{self, Route};
use crate::services::{refresh as refreshing, sessions};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    /// 3 to 64 characters of `A-Z a-z 0-9 . _ -`.
    #[schema(
        example = "alice",
        min_length = 3,
        max_length = 64,
        pattern = "^[A-Za-z0-9._-]+$"
    )]
    username: String,
    /// At least `AUTHD_PASSWORD_MIN_LENGTH` (default 12, never below 8) and at most 128
    /// characters; not only whitespace, not the username, not a common password.
    #[schema(
        example = "correct horse battery staple",
        min_length = 8,
        max_length = 128
    )]
    password: String,
    /// Optional; `null` or empty means no address.
    #[serde(default)]
    #[schema(example = "alice@example.org", max_length = 254)]
    email: Option<String>,
}

/// Create an account
///
/// The account gets the role `user`. Registering does not log in.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 201, description = "The account was created.", body = UserView,
            headers(("Location" = String, description = "`/api/auth/me`"))),
        (status = 400, description = "`invalid_request`: the body is malformed, or the username, \
            password or email breaks a rule (`detail` says which).", body = Problem),
        (status = 409, description = "`username_taken` or `email_taken`.", body = Problem),
        (status = 429, description = "`rate_limited`: too many requests from this address, too \
            many failed logins for this account, or too many password checks waiting; decided \
            before any password is checked.",
            body = Problem, headers(("Retry-After" = u64, description = "whole seconds"))),
        (status = 503, description = "`service_unavailable`: the password check waited too long \
            for a hashing thread and was dropped (or the database is unreachable).",
            body = Problem, headers(("Retry-After" = u64, description = "seconds"))),
    )
)]
#[post("/api/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    body: web::Json<RegisterBody>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    throttle::admit(&state, Route::Register, &client).await?;
    let body = body.into_inner();
    let registration = Registration {
        username: body.username,
        password: body.password,
        email: body.email,
    };
    let user = accounts::register(&state, registration, &client).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", "/api/auth/me"))
        .json(user))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// Matched without regard to letter case.
    #[schema(example = "alice")]
    username: String,
    #[schema(example = "correct horse battery staple")]
    password: String,
}

/// Log in
///
/// Opens a new API session and returns its token pair.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "A token pair for a new session.", body = TokenPair),
        (status = 401, description = "`invalid_credentials`: unknown username or wrong password \
            (one answer for both).", body = Problem),
        (status = 403, description = "`account_disabled`: the password was right, the account \
            is disabled.", body = Problem),
        (status = 429, description = "`rate_limited`: too many requests from this address, too \
            many failed logins for this account, or too many password checks waiting; decided \
            before any password is checked.",
            body = Problem, headers(("Retry-After" = u64, description = "whole seconds"))),
        (status = 503, description = "`service_unavailable`: the password check waited too long \
            for a hashing thread and was dropped (or the database is unreachable).",
            body = Problem, headers(("Retry-After" = u64, description = "seconds"))),
    )
)]
#[post("/api/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    body: web::Json<LoginBody>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    throttle::admit(&state, Route::Login, &client).await?;
    let LoginBody { username, password } = body.into_inner();
    let pair = login_api(&state, Credentials { username, password }, &client).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(pair))
}

/// The caller's user object
///
/// Read fresh from the database.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's account.", body = UserView))
)]
#[get("/api/auth/me")]
pub async fn me(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(accounts::me(&state, &principal).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    /// The newest refresh token of the session.
    refresh_token: String,
}

/// Refresh a token pair
///
/// Rotates the refresh token: the one presented is retired. Presenting a retired one after the
/// grace period revokes the whole session.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "A new token pair for the same session.", body = TokenPair),
        (status = 401, description = "`invalid_grant`: the refresh token is unknown, expired, \
            revoked, already used, or its account is disabled.", body = Problem),
        (status = 429, description = "`rate_limited`: too many requests from this address.",
            body = Problem, headers(("Retry-After" = u64, description = "whole seconds"))),
    )
)]
#[post("/api/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshBody>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    throttle::admit(&state, Route::Refresh, &client).await?;
    let pair = refreshing::refresh(&state, body.into_inner().refresh_token, &client).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(pair))
}

/// Log out
///
/// Ends the session the access token belongs to: its access and refresh tokens stop working.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 204, description = "The session is ended."))
)]
#[post("/api/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    principal: Principal,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    sessions::logout(&state, &principal, &client).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Log out everywhere
///
/// Ends every session of the caller, API and dashboard, the current one included.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 204, description = "Every session of the caller is ended."))
)]
#[post("/api/auth/logout-all")]
pub async fn logout_all(
    state: web::Data<AppState>,
    principal: Principal,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    sessions::logout_all(&state, &principal, &client).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's sessions.
#[derive(Serialize, ToSchema)]
pub struct SessionList {
    /// Sessions that have not expired, newest first, revoked ones included; each with `current`.
    sessions: Vec<SessionView>,
}

/// The caller's sessions
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's unexpired sessions.", body = SessionList))
)]
#[get("/api/auth/sessions")]
pub async fn list_sessions(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    let sessions = sessions::list_own(&state, &principal).await?;
    Ok(HttpResponse::Ok().json(SessionList { sessions }))
}

/// End one of the caller's sessions
///
/// Ending a session that was already revoked is also `204`.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A session id")),
    responses(
        (status = 204, description = "The session is ended."),
        (status = 404, description = "`not_found`: no such session of the caller's (another \
            user's session included).", body = Problem),
    )
)]
#[delete("/api/auth/sessions/{id}")]
pub async fn revoke_session(
    state: web::Data<AppState>,
    principal: Principal,
    path: web::Path<Uuid>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    sessions::revoke_own(&state, &principal, path.into_inner(), &client).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    /// The password policy applies.
    #[schema(min_length = 8, max_length = 128)]
    new_password: String,
}

/// Change the caller's password
///
/// Every other session of the user ends; the calling session stays signed in.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The password is changed."),
        (status = 400, description = "`invalid_request`: the body is malformed, or the new \
            password breaks the policy.", body = Problem),
        (status = 401, description = "`invalid_token` (with `WWW-Authenticate`), or \
            `invalid_credentials`: `current_password` is wrong (without `WWW-Authenticate`).",
            body = Problem),
        (status = 429, description = "`rate_limited`: too many requests from this address, too \
            many failed logins for this account, or too many password checks waiting; decided \
            before any password is checked.",
            body = Problem, headers(("Retry-After" = u64, description = "whole seconds"))),
        (status = 503, description = "`service_unavailable`: the password check waited too long \
            for a hashing thread and was dropped (or the database is unreachable).",
            body = Problem, headers(("Retry-After" = u64, description = "seconds"))),
    )
)]
#[post("/api/auth/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    principal: Principal,
    body: web::Json<PasswordBody>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let PasswordBody {
        current_password,
        new_password,
    } = body.into_inner();
    accounts::change_password(&state, &principal, current_password, new_password, &client).await?;
    Ok(HttpResponse::NoContent().finish())
}
