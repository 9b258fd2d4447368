//! What an access token says, and why one is refused.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: Uuid,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: Uuid,
    pub sid: Uuid,
    pub roles: Vec<String>,
    pub username: String,
}

impl AccessClaims {
    /// When the token was issued, to the millisecond: from its UUID v7 `jti` (the `iat` claim has
    /// whole seconds only, too coarse to tell a token from a revocation in the same second).
    pub fn issued_at(&self) -> DateTime<Utc> {
        self.jti
            .get_timestamp()
            .and_then(|ts| {
                let (secs, nanos) = ts.to_unix();
                DateTime::from_timestamp(i64::try_from(secs).ok()?, nanos)
            })
            .or_else(|| DateTime::from_timestamp(self.iat, 0))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

/// Why a token was refused; shown in `detail`, so it says nothing a forger could use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    Malformed,
    UnknownKey,
    WrongType,
    Invalid,
    Expired,
}

impl TokenRejection {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Malformed => "malformed token",
            Self::UnknownKey => "unknown signing key",
            Self::WrongType => "not an access token",
            Self::Invalid => "signature or claims invalid",
            Self::Expired => "token expired",
        }
    }

    /// A short fixed name, for metrics.
    pub fn label(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::UnknownKey => "unknown_key",
            Self::WrongType => "wrong_type",
            Self::Invalid => "invalid",
            Self::Expired => "expired",
        }
    }
}
