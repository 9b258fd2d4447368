//! `ApiError`: every failure of the JSON face, rendered as RFC 9457 problem details with our `code`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::identity::AuthError;
use crate::services::{self, log_chain};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("invalid token: {0}")]
    InvalidToken(&'static str),
    #[error("invalid grant")]
    InvalidGrant,
    #[error("insufficient role")]
    InsufficientRole,
    #[error("account disabled")]
    AccountDisabled,
    #[error("not found")]
    NotFound,
    #[error("username taken")]
    UsernameTaken,
    #[error("email taken")]
    EmailTaken,
    #[error("role exists")]
    RoleExists,
    #[error("payload too large")]
    PayloadTooLarge,
    /// The body did not arrive in full within the deadline (`AUTHD_BODY_TIMEOUT`).
    #[error("request body timed out")]
    BodyTimeout { secs: u64 },
    /// A known path asked with a method it does not answer; `allow` lists those it does.
    #[error("method not allowed")]
    MethodNotAllowed { allow: String },
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    #[error("service unavailable")]
    ServiceUnavailable(#[source] services::Error),
    /// Up but overloaded: the work was dropped undone; try again after a while.
    #[error("overloaded")]
    Overloaded { retry_after_secs: u64 },
    /// A route that sends mail, on an instance configured without it.
    #[error("mail is not configured")]
    MailUnavailable,
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The stable machine-readable names of errors: clients branch on these, never on `detail`.
/// Part of the contract: a code is never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    UnsupportedMediaType,
    InvalidCredentials,
    InvalidToken,
    InvalidGrant,
    InsufficientRole,
    AccountDisabled,
    NotFound,
    MethodNotAllowed,
    UsernameTaken,
    EmailTaken,
    RoleExists,
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    Internal,
}

/// An RFC 9457 problem document, sent as `application/problem+json`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "type": "about:blank",
    "title": "Conflict",
    "status": 409,
    "detail": "that username is already taken",
    "code": "username_taken"
}))]
pub struct Problem<'a> {
    /// Always `about:blank`.
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    kind: &'static str,
    /// The HTTP reason phrase of `status`.
    #[schema(value_type = String)]
    title: &'a str,
    /// The HTTP status code, repeated.
    status: u16,
    /// A sentence for humans; may change between versions.
    detail: String,
    /// What went wrong, for programs: branch on this.
    code: ErrorCode,
}

impl ApiError {
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(e))
    }

    pub fn code(&self) -> ErrorCode {
        use ErrorCode as C;
        match self {
            Self::InvalidRequest(_) | Self::BodyTimeout { .. } => C::InvalidRequest,
            Self::UnsupportedMediaType => C::UnsupportedMediaType,
            Self::InvalidCredentials => C::InvalidCredentials,
            Self::InvalidToken(_) => C::InvalidToken,
            Self::InvalidGrant => C::InvalidGrant,
            Self::InsufficientRole => C::InsufficientRole,
            Self::AccountDisabled => C::AccountDisabled,
            Self::NotFound => C::NotFound,
            Self::MethodNotAllowed { .. } => C::MethodNotAllowed,
            Self::UsernameTaken => C::UsernameTaken,
            Self::EmailTaken => C::EmailTaken,
            Self::RoleExists => C::RoleExists,
            Self::PayloadTooLarge => C::PayloadTooLarge,
            Self::RateLimited { .. } => C::RateLimited,
            Self::ServiceUnavailable(_) | Self::Overloaded { .. } | Self::MailUnavailable => {
                C::ServiceUnavailable
            }
            Self::Internal(_) => C::Internal,
        }
    }

    /// What the client is told. Never a cause chain, never whether a username exists.
    fn detail(&self) -> String {
        match self {
            Self::InvalidRequest(d) => d.clone(),
            Self::UnsupportedMediaType => "the request body must be application/json".into(),
            Self::InvalidCredentials => "the username or password is incorrect".into(),
            Self::InvalidToken(why) => format!("the access token is missing or invalid: {why}"),
            Self::InvalidGrant => "the token is unknown, expired, revoked or already used".into(),
            Self::InsufficientRole => "this requires a role the token does not carry".into(),
            Self::AccountDisabled => "this account is disabled".into(),
            Self::NotFound => "no such resource".into(),
            Self::MethodNotAllowed { allow } => {
                format!("this resource does not answer this method; it answers {allow}")
            }
            Self::UsernameTaken => "that username is already taken".into(),
            Self::EmailTaken => "that email address is already in use".into(),
            Self::RoleExists => "a role with that name already exists".into(),
            Self::PayloadTooLarge => "the request body is too large".into(),
            Self::BodyTimeout { secs } => {
                format!("the request body did not arrive within {secs} s")
            }
            Self::RateLimited { retry_after_secs } => {
                format!("too many requests; retry after {retry_after_secs} s")
            }
            Self::ServiceUnavailable(_) => "the database is unreachable; try again shortly".into(),
            Self::Overloaded { retry_after_secs } => {
                format!("too many password checks are waiting; retry after {retry_after_secs} s")
            }
            Self::MailUnavailable => "this server is not configured to send mail".into(),
            Self::Internal(_) => "an unexpected error occurred".into(),
        }
    }
}

impl From<services::Error> for ApiError {
    fn from(e: services::Error) -> Self {
        use services::Error as E;
        match e {
            E::Invalid(detail) => Self::InvalidRequest(detail),
            E::UsernameTaken => Self::UsernameTaken,
            E::EmailTaken => Self::EmailTaken,
            E::RoleExists => Self::RoleExists,
            E::InvalidCredentials => Self::InvalidCredentials,
            E::AccountDisabled => Self::AccountDisabled,
            // The API has no role-gated login; should one appear, it must not say more than this.
            E::NotPermitted => Self::InvalidCredentials,
            E::InvalidGrant => Self::InvalidGrant,
            E::NotFound => Self::NotFound,
            E::MailNotConfigured => Self::MailUnavailable,
            E::Busy => Self::RateLimited {
                retry_after_secs: 1,
            },
            E::Throttled { retry_after_secs } => Self::RateLimited { retry_after_secs },
            E::Overloaded { retry_after_secs } => Self::Overloaded { retry_after_secs },
            e if e.is_unavailable() => Self::ServiceUnavailable(e),
            E::Store(s) => Self::internal(s),
            E::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Unauthenticated(why) => Self::InvalidToken(why),
            AuthError::InsufficientRole => Self::InsufficientRole,
            AuthError::Service(e) => e.into(),
            AuthError::Misconfigured(what) => Self::internal(std::io::Error::other(what)),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::InvalidCredentials | Self::InvalidToken(_) | Self::InvalidGrant => {
                StatusCode::UNAUTHORIZED
            }
            Self::InsufficientRole | Self::AccountDisabled => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::UsernameTaken | Self::EmailTaken | Self::RoleExists => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::ServiceUnavailable(_) | Self::Overloaded { .. } | Self::MailUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => log_chain("internal error", cause.as_ref()),
            Self::ServiceUnavailable(cause) => log::warn!("answering 503: {cause}"),
            _ => {}
        }
        let status = self.status_code();
        let body = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: self.detail(),
            code: self.code(),
        };
        let mut res = HttpResponse::build(status);
        res.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        res.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        match self {
            Self::InvalidToken(_) => {
                res.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer realm="authd", error="invalid_token""#),
                ));
            }
            Self::RateLimited { retry_after_secs } | Self::Overloaded { retry_after_secs } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::MethodNotAllowed { allow } => {
                res.insert_header((header::ALLOW, allow.as_str()));
            }
            _ => {}
        }
        // Serializing this struct cannot fail; fall back to an empty body rather than panic.
        res.body(serde_json::to_vec(&body).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::passwords::HashError;

    #[test]
    fn a_password_check_past_its_deadline_is_503_with_retry_after() {
        let res = ApiError::from(services::Error::from(HashError::Overdue)).error_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "5");
    }

    #[test]
    fn an_address_past_its_share_is_429_with_retry_after() {
        let res = ApiError::from(services::Error::from(HashError::Crowded)).error_response();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "1");
    }
}
