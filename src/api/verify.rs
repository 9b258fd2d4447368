//! `GET /auth/verify`: for nginx `auth_request`. 200 with the caller's identity in headers, 401
//! without a valid token, 403 when `?role=` names a role the token does not carry.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::ApiError;
use super::error::Problem;
use crate::domain::Principal;

/// Unknown parameters (`roles`, `ROLE`, `role[]`), a repeated or an empty `role` are refused with
/// `400`: a typo in a proxy's configuration must fail closed, not quietly drop the role check.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VerifyParams {
    /// The token must also carry this role (not empty).
    role: Option<String>,
}

/// Check a token, for nginx `auth_request`
///
/// Send the client's `Authorization` header. On `200` the caller's identity is in the headers,
/// and the body is empty.
#[utoipa::path(
    tag = "verify",
    security(("bearer" = [])),
    params(VerifyParams),
    responses(
        (status = 200, description = "The token is valid and not revoked (and has the role, if \
            asked).", headers(
            ("X-Auth-User-Id" = uuid::Uuid, description = "the user's id"),
            ("X-Auth-Username" = String, description = "the username"),
            ("X-Auth-Roles" = String, description = "role names, comma-separated, sorted"),
            ("X-Auth-Session-Id" = uuid::Uuid, description = "the session id"),
        )),
        (status = 400, description = "`invalid_request`: an unknown, repeated or empty query \
            parameter.", body = Problem),
        (status = 403, description = "`insufficient_role`: the token lacks the role asked for.",
            body = Problem),
    )
)]
#[get("/auth/verify")]
pub async fn verify(
    principal: Principal,
    params: web::Query<VerifyParams>,
) -> Result<HttpResponse, ApiError> {
    match params.role.as_deref() {
        Some("") => return Err(ApiError::InvalidRequest("role must not be empty".into())),
        Some(role) if !principal.has_role(role) => return Err(ApiError::InsufficientRole),
        _ => {}
    }
    Ok(HttpResponse::Ok()
        .insert_header(("X-Auth-User-Id", principal.user_id.to_string()))
        .insert_header(("X-Auth-Username", principal.username.clone()))
        .insert_header(("X-Auth-Roles", principal.roles.join(",")))
        .insert_header(("X-Auth-Session-Id", principal.session_id.to_string()))
        .insert_header(("Cache-Control", "no-store"))
        .finish())
}
