//! `GET /auth/verify`: for nginx `auth_request`. 200 with the caller's identity in headers, 401
//! without a valid token, 403 when `?role=` names a role the token does not carry.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;

use super::ApiError;
use crate::domain::Principal;

#[derive(Deserialize)]
pub struct VerifyParams {
    role: Option<String>,
}

#[get("/auth/verify")]
pub async fn verify(
    principal: Principal,
    params: web::Query<VerifyParams>,
) -> Result<HttpResponse, ApiError> {
    if let Some(role) = params.role.as_deref().filter(|r| !r.is_empty())
        && !principal.has_role(role)
    {
        return Err(ApiError::InsufficientRole);
    }
    Ok(HttpResponse::Ok()
        .insert_header(("X-Auth-User-Id", principal.user_id.to_string()))
        .insert_header(("X-Auth-Username", principal.username.clone()))
        .insert_header(("X-Auth-Roles", principal.roles.join(",")))
        .insert_header(("X-Auth-Session-Id", principal.session_id.to_string()))
        .insert_header(("Cache-Control", "no-store"))
        .finish())
}
