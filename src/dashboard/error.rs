//! `PageError`: how the dashboard answers a failure — a redirect to the login form, or an HTML
//! error page in the layout. Never problem+json, never a stack trace.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::layout::Chrome;
use crate::identity::AuthError;
use crate::services::{self, log_chain};

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("login required")]
    LoginRequired,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    /// A known page asked with a method it does not answer; `allow` lists those it does.
    #[error("method not allowed")]
    MethodNotAllowed { allow: String },
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("service unavailable")]
    Unavailable,
    #[error("too many requests")]
    Busy,
    /// Too many attempts: refused for this many seconds.
    #[error("throttled")]
    Throttled { retry_after_secs: u64 },
    /// Password checks waited too long under a flood and were dropped.
    #[error("overloaded")]
    Overloaded { retry_after_secs: u64 },
    /// The form did not arrive in full within the deadline (`AUTHD_BODY_TIMEOUT`).
    #[error("request timed out")]
    TimedOut,
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<services::Error> for PageError {
    fn from(e: services::Error) -> Self {
        use services::Error as E;
        match e {
            E::Invalid(reason) => Self::BadRequest(reason),
            E::AccountDisabled | E::NotPermitted => {
                Self::Forbidden("You are not allowed to do that.".into())
            }
            E::NotFound => Self::NotFound,
            E::Busy => Self::Busy,
            E::Throttled { retry_after_secs } => Self::Throttled { retry_after_secs },
            E::Overloaded { retry_after_secs } => Self::Overloaded { retry_after_secs },
            e if e.is_unavailable() => Self::Unavailable,
            E::MailNotConfigured => Self::Unavailable,
            E::Store(s) => Self::Internal(Box::new(s)),
            E::Internal(cause) => Self::Internal(cause),
            other @ (E::UsernameTaken
            | E::EmailTaken
            | E::RoleExists
            | E::InvalidCredentials
            | E::InvalidGrant) => Self::BadRequest(other.to_string()),
        }
    }
}

impl From<AuthError> for PageError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Unauthenticated(_) => Self::LoginRequired,
            AuthError::InsufficientRole => {
                Self::Forbidden("This page is for administrators only.".into())
            }
            AuthError::Service(e) => e.into(),
            AuthError::Misconfigured(what) => Self::Internal(Box::new(std::io::Error::other(what))),
        }
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        Self::Internal(Box::new(e))
    }
}

#[derive(Template)]
#[template(path = "admin/error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::LoginRequired => StatusCode::SEE_OTHER,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unavailable | Self::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Busy | Self::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::TimedOut => StatusCode::REQUEST_TIMEOUT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::LoginRequired = self {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/admin/login"))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish();
        }
        if let Self::Internal(cause) = self {
            log_chain("dashboard internal error", cause.as_ref());
        }
        let status = self.status_code();
        let wait;
        let message = match self {
            Self::Forbidden(m) | Self::BadRequest(m) => m.as_str(),
            Self::NotFound => {
                "There is nothing here. It may have been removed, or the link is wrong."
            }
            Self::MethodNotAllowed { .. } => {
                "This page exists, but not for this kind of request. Go back and try the link or \
                 the form again."
            }
            Self::Unavailable => "The database cannot be reached right now. Try again in a moment.",
            Self::Busy => "Too many sign-ins are being checked right now. Try again in a moment.",
            Self::Throttled { retry_after_secs } => {
                wait = format!(
                    "Too many attempts. Wait {retry_after_secs} seconds before trying again."
                );
                wait.as_str()
            }
            Self::Overloaded { .. } => {
                "Sign-ins are taking too long to check right now. Try again in a few seconds."
            }
            Self::TimedOut => "The form took too long to arrive. Try again.",
            _ => "Something went wrong on our side. It has been logged.",
        };
        let page = ErrorPage {
            chrome: Chrome::bare(),
            status: status.as_u16(),
            title: status.canonical_reason().unwrap_or("Error"),
            message,
        };
        let body = page.render().unwrap_or_else(|e| {
            log::error!("rendering the error page failed: {e}");
            format!(
                "{} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("Error")
            )
        });
        let mut res = HttpResponse::build(status);
        res.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            Self::MethodNotAllowed { allow } => {
                res.insert_header((header::ALLOW, allow.as_str()));
            }
            Self::Busy => {
                res.insert_header((header::RETRY_AFTER, "1"));
            }
            Self::Overloaded { retry_after_secs } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            _ => {}
        }
        if let Self::Throttled { retry_after_secs } = self {
            res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
        }
        res.body(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::passwords::HashError;

    #[test]
    fn a_sign_in_past_its_deadline_is_a_503_page_with_retry_after() {
        let res = PageError::from(services::Error::from(HashError::Overdue)).error_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers().get(header::RETRY_AFTER).unwrap(), "5");
        let crowded = PageError::from(services::Error::from(HashError::Crowded)).error_response();
        assert_eq!(crowded.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(crowded.headers().get(header::RETRY_AFTER).unwrap(), "1");
    }
}
