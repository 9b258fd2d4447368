//! `/api/auth/*`: register, login, refresh, logout, me, password, own sessions.

use actix_web::{HttpResponse, delete, get, post, web};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::ApiError;
use crate::domain::{ClientInfo, Principal};
use crate::services::accounts::{self, Registration};
use crate::services::login::{Credentials, login_api};
use crate::services::{refresh as refreshing, sessions};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    username: String,
    password: String,
    #[serde(default)]
    email: Option<String>,
}

#[post("/api/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    body: web::Json<RegisterBody>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: String,
}

#[post("/api/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    body: web::Json<LoginBody>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let LoginBody { username, password } = body.into_inner();
    let pair = login_api(&state, Credentials { username, password }, &client).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(pair))
}

#[get("/api/auth/me")]
pub async fn me(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(accounts::me(&state, &principal).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    refresh_token: String,
}

#[post("/api/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshBody>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let pair = refreshing::refresh(&state, body.into_inner().refresh_token, &client).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(pair))
}

#[post("/api/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    principal: Principal,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    sessions::logout(&state, &principal, &client).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[post("/api/auth/logout-all")]
pub async fn logout_all(
    state: web::Data<AppState>,
    principal: Principal,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    sessions::logout_all(&state, &principal, &client).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[get("/api/auth/sessions")]
pub async fn list_sessions(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    let sessions = sessions::list_own(&state, &principal).await?;
    Ok(HttpResponse::Ok().json(json!({ "sessions": sessions })))
}

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    new_password: String,
}

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
