//! `/api/auth/*`: register, login, me.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

use crate::auth::{ClientInfo, Principal};
use crate::error::ApiError;
use crate::services::users::{self, Registration};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    username: String,
    password: String,
    #[serde(default)]
    email: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: String,
}

#[post("/api/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    body: web::Json<RegisterBody>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let user = users::register(
        &state.pool,
        &state.hasher,
        state.config.password_policy,
        Registration {
            username: body.username,
            password: body.password,
            email: body.email,
        },
        client,
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", "/api/auth/me"))
        .json(user))
}

#[post("/api/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    body: web::Json<LoginBody>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let pair = users::login(
        &state.pool,
        &state.hasher,
        &state.tokens,
        state.config.refresh_ttl_secs,
        body.username,
        body.password,
        client,
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(pair))
}

#[get("/api/auth/me")]
pub async fn me(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    let user = users::find_view(&state.pool, principal.user_id).await?;
    Ok(HttpResponse::Ok().json(user))
}
