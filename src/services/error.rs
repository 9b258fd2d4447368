//! `services::Error`: every way a service can refuse or fail. Each face maps it to its own answers
//! at its edge; nothing here knows about HTTP.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::auth::passwords::{HashError, QUEUE_DEADLINE};
use crate::auth::secrets::RandomError;
use crate::auth::tokens::SignError;
use crate::db::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input breaks a rule; the message says which, in words fit for the user.
    #[error("{0}")]
    Invalid(String),
    #[error("username taken")]
    UsernameTaken,
    #[error("email taken")]
    EmailTaken,
    #[error("role exists")]
    RoleExists,
    /// Unknown user or wrong password: one answer for both.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The password was right, but the account is disabled.
    #[error("account disabled")]
    AccountDisabled,
    /// The password was right, but the account lacks a role this way in requires.
    #[error("not permitted")]
    NotPermitted,
    /// A refresh token that is unknown, expired, revoked or already used.
    #[error("invalid grant")]
    InvalidGrant,
    #[error("not found")]
    NotFound,
    /// Too many attempts from this address or at this account: refused before any hashing.
    #[error("throttled")]
    Throttled { retry_after_secs: u64 },
    /// Mail is asked for but this instance has no `AUTHD_SMTP_URL`.
    #[error("mail is not configured")]
    MailNotConfigured,
    /// Too much work queued (password hashing), or this client's share of it is taken: try
    /// again shortly.
    #[error("busy")]
    Busy,
    /// The work waited too long and was dropped undone (password hashing under a flood).
    #[error("overloaded")]
    Overloaded { retry_after_secs: u64 },
    #[error(transparent)]
    Store(StoreError),
    /// A bug or a broken environment, never expected.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(e))
    }

    /// The database could not be reached (as opposed to a query that failed).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::Store(StoreError::Unavailable(_) | StoreError::Canceled)
        )
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<DieselError> for Error {
    fn from(e: DieselError) -> Self {
        if let DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) = &e {
            return match info.constraint_name() {
                Some("users_email_lower_key") => Self::EmailTaken,
                Some("roles_name_key") => Self::RoleExists,
                _ => Self::UsernameTaken,
            };
        }
        Self::Store(e.into())
    }
}

impl From<HashError> for Error {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy | HashError::Crowded => Self::Busy,
            HashError::Overdue => Self::Overloaded {
                retry_after_secs: QUEUE_DEADLINE.as_secs(),
            },
            other => Self::internal(other),
        }
    }
}

impl From<SignError> for Error {
    fn from(e: SignError) -> Self {
        Self::internal(e)
    }
}

impl From<RandomError> for Error {
    fn from(e: RandomError) -> Self {
        Self::internal(e)
    }
}

/// Logs an error with every cause, for the 500s whose answer says nothing of it.
pub fn log_chain(context: &str, e: &(dyn std::error::Error + 'static)) {
    let mut line = format!("{context}: {e}");
    let mut source = e.source();
    while let Some(cause) = source {
        line.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    log::error!("{line}");
}
