//! `AuthError`: why a request could not be tied to a caller, in no face's words. The JSON API
//! answers it with problem+json, the dashboard with a redirect or a page.

use crate::services;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No credential, or one that is not (or no longer) valid: the caller must sign in again.
    #[error("not authenticated: {0}")]
    Unauthenticated(&'static str),
    /// A valid credential without the role this needs.
    #[error("insufficient role")]
    InsufficientRole,
    /// The credential could not be checked (the database did not answer, say).
    #[error(transparent)]
    Service(#[from] services::Error),
    /// Something identification needs is missing from the application: refuse, never guess.
    #[error("identity misconfigured: {0}")]
    Misconfigured(&'static str),
}
