//! Routes that send mail: forgot-password and email verification.

use actix_web::{HttpResponse, post, web};
use serde::Deserialize;
use utoipa::ToSchema;

use super::ApiError;
use super::error::Problem;
use crate::domain::{ClientInfo, Principal};
use crate::services::mail::{self, Lookup};
use crate::services::throttle::{self, Route};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotPasswordBody {
    /// The account's address; give this or `username`, not both.
    #[schema(example = "alice@example.org")]
    email: Option<String>,
    /// The account's username; give this or `email`, not both.
    #[schema(example = "alice")]
    username: Option<String>,
}

/// Ask for a password-reset mail
///
/// Always `202`, whether or not the account exists, in the same time: the request only queues
/// it. When mail is configured and the account has an address (and is not disabled), a one-time
/// link to `/reset-password` is mailed there.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 202, description = "Accepted (whether or not the account exists)."),
        (status = 400, description = "`invalid_request`: not exactly one of `email` and \
            `username`, or one that cannot be an address or a username.", body = Problem),
        (status = 429, description = "`rate_limited`: too many requests from this address.",
            body = Problem, headers(("Retry-After" = u64, description = "whole seconds"))),
    )
)]
#[post("/api/auth/forgot-password")]
pub async fn forgot_password(
    state: web::Data<AppState>,
    body: web::Json<ForgotPasswordBody>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    throttle::admit(&state, Route::ForgotPassword, &client).await?;
    let ForgotPasswordBody { email, username } = body.into_inner();
    let lookup = Lookup::parse(email, username)?;
    mail::forgot_password(&state, lookup).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Mail a verification link to the caller's address
///
/// The link (valid 24 h, single-use) is bound to the address: changing the address voids it.
#[utoipa::path(
    tag = "auth",
    path = "/api/auth/email/verify-request",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "The mail is queued."),
        (status = 400, description = "`invalid_request`: the account has no email address.",
            body = Problem),
        (status = 503, description = "`service_unavailable`: this server sends no mail (no \
            `AUTHD_SMTP_URL`), or the database cannot be reached.", body = Problem),
    )
)]
#[post("/api/auth/email/verify-request")]
pub async fn verify_request(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    mail::request_verification(&state, &principal).await?;
    Ok(HttpResponse::Accepted().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailBody {
    /// The `token` of the mailed link.
    token: String,
}

/// Verify an email address
///
/// Uses the token of a mailed verification link: the address it was sent to becomes verified
/// (`email_verified: true`).
#[utoipa::path(
    tag = "auth",
    path = "/api/auth/email/verify",
    responses(
        (status = 204, description = "The address is verified."),
        (status = 401, description = "`invalid_grant`: the token is unknown, used, expired, or \
            for an address the account no longer has.", body = Problem),
    )
)]
#[post("/api/auth/email/verify")]
pub async fn verify_email(
    state: web::Data<AppState>,
    body: web::Json<VerifyEmailBody>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    mail::verify_email(&state, &body.into_inner().token, &client).await?;
    Ok(HttpResponse::NoContent().finish())
}
