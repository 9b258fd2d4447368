//! `/api/admin/users` create, change, delete, and reset links: an account's life as an
//! administrator shapes it. `POST /api/auth/password-reset` uses such a link.

use actix_web::{HttpResponse, delete, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::ApiError;
use super::error::Problem;
use crate::domain::ClientInfo;
use crate::identity::{Admin, RequireRole};
use crate::services::accounts::UserView;
use crate::services::lifecycle::{self, NewAccount, ProfileChange};
use crate::services::password_reset;
use crate::services::throttle::{self, Route};
use crate::state::AppState;

type AdminOnly = RequireRole<Admin>;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    /// 3 to 64 characters of `A-Z a-z 0-9 . _ -`, unique without regard to case.
    #[schema(example = "carol")]
    username: String,
    #[schema(example = "carol@example.org")]
    email: Option<String>,
    /// The password policy of registration applies. Without one the account cannot log in until
    /// its password is set through a reset link.
    #[schema(example = "a long passphrase of hers")]
    password: Option<String>,
    /// Existing role names; default `["user"]`.
    #[schema(example = json!(["user"]))]
    roles: Option<Vec<String>>,
}

/// Create a user
///
/// Same rules as registration. Without `password`, hand the user a reset link
/// (`POST /api/admin/users/{id}/password-reset`).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new user.", body = UserView,
            headers(("Location" = String, description = "`/api/admin/users/{id}`"))),
        (status = 400, description = "`invalid_request`: the body is malformed, a field breaks \
            the rules, or a role does not exist.", body = Problem),
        (status = 409, description = "`username_taken` or `email_taken`.", body = Problem),
    )
)]
#[post("/api/admin/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    admin: AdminOnly,
    body: web::Json<NewUserBody>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let NewUserBody {
        username,
        email,
        password,
        roles,
    } = body.into_inner();
    let account = NewAccount {
        username,
        email,
        password,
        roles,
    };
    let user = lifecycle::create(&state, &admin.principal, account, &client).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/admin/users/{}", user.id)))
        .json(user))
}

/// A present field, even `null`, is `Some`: `email: null` clears, a missing `email` keeps.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChangeBody {
    /// A new username (the rules of registration).
    #[schema(example = "carol.smith")]
    username: Option<String>,
    /// A new address; `null` clears it. Leave the field out to keep it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "carol@example.org")]
    email: Option<Option<String>>,
}

/// Change a user's username or email
///
/// A changed username ends the user's access tokens at once (they carry the old name); the next
/// refresh issues one with the new name.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A user id")),
    responses(
        (status = 200, description = "The updated user.", body = UserView),
        (status = 400, description = "`invalid_request`: the body is malformed or a field breaks \
            the rules.", body = Problem),
        (status = 404, description = "`not_found`: no such user.", body = Problem),
        (status = 409, description = "`username_taken` or `email_taken`.", body = Problem),
    )
)]
#[patch("/api/admin/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    admin: AdminOnly,
    path: web::Path<Uuid>,
    body: web::Json<UserChangeBody>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let UserChangeBody { username, email } = body.into_inner();
    let change = ProfileChange { username, email };
    let id = path.into_inner();
    let user = lifecycle::update(&state, &admin.principal, id, change, &client).await?;
    Ok(HttpResponse::Ok().json(user))
}

/// Delete a user
///
/// Deletes the account with its sessions and refresh tokens; its access tokens stop working at
/// once. Its audit events stay (their `detail` keeps the username).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A user id")),
    responses(
        (status = 204, description = "The account is deleted."),
        (status = 400, description = "`invalid_request`: a guard rail (yourself, the last \
            administrator).", body = Problem),
        (status = 404, description = "`not_found`: no such user.", body = Problem),
    )
)]
#[delete("/api/admin/users/{id}")]
pub async fn delete_user(
    state: web::Data<AppState>,
    admin: AdminOnly,
    path: web::Path<Uuid>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    lifecycle::delete(&state, &admin.principal, path.into_inner(), &client).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A one-time link to set a password.
#[derive(Serialize, ToSchema)]
pub struct ResetLink {
    /// `AUTHD_PUBLIC_URL` + `/reset-password?token=...`: hand it to the user; it is shown once.
    #[schema(example = "https://auth.example.org/reset-password?token=3q2-7wQf...")]
    reset_url: String,
    /// The link works until then (`AUTHD_RESET_TTL` after now), once.
    expires_at: DateTime<Utc>,
}

/// Create a password-reset link
///
/// A newer link voids the user's older ones. Using it sets a new password and ends every session
/// of the user.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A user id")),
    responses(
        (status = 201, description = "The link, shown only in this answer.", body = ResetLink),
        (status = 404, description = "`not_found`: no such user.", body = Problem),
    )
)]
#[post("/api/admin/users/{id}/password-reset")]
pub async fn create_reset_link(
    state: web::Data<AppState>,
    admin: AdminOnly,
    path: web::Path<Uuid>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let issued = password_reset::issue(&state, Some(&admin.principal), id, &client).await?;
    Ok(HttpResponse::Created().json(ResetLink {
        reset_url: issued.url,
        expires_at: issued.expires_at,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetBody {
    /// The `token` of a reset link.
    token: String,
    /// The password policy applies.
    #[schema(example = "a new long passphrase")]
    new_password: String,
}

/// Set a password with a reset link
///
/// The token works once. Every session of the user ends.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 204, description = "The password is set; every session of the user is ended."),
        (status = 400, description = "`invalid_request`: the body is malformed, or the new \
            password breaks the policy.", body = Problem),
        (status = 401, description = "`invalid_grant`: the token is unknown, used, replaced by a \
            newer link, or expired.", body = Problem),
        (status = 429, description = "`rate_limited`: too many requests from this address, or \
            too many password hashes are waiting.",
            body = Problem, headers(("Retry-After" = u64, description = "seconds"))),
    )
)]
#[post("/api/auth/password-reset")]
pub async fn redeem_reset(
    state: web::Data<AppState>,
    body: web::Json<PasswordResetBody>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let PasswordResetBody {
        token,
        new_password,
    } = body.into_inner();
    throttle::admit(&state, Route::PasswordReset, &client).await?;
    password_reset::redeem(&state, &token, new_password, &client).await?;
    Ok(HttpResponse::NoContent().finish())
}
