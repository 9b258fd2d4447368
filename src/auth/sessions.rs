//! Session rows and their refresh tokens.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::ClientInfo;
use super::tokens::new_refresh_token;
use crate::db::models::refresh_token::{NewRefreshToken, RefreshToken};
use crate::db::models::session::{NewSession, Session};

pub struct NewApiSession {
    pub session: Session,
    pub refresh_token: String,
    pub refresh_expires_in: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("could not create a refresh token: {0}")]
    Random(String),
}

/// Creates an API session and its first refresh token; the session's lifetime is absolute.
pub fn create_api_session(
    conn: &mut PgConnection,
    user_id: Uuid,
    ttl_secs: i64,
    client: &ClientInfo,
) -> Result<NewApiSession, SessionError> {
    let expires_at = Utc::now() + Duration::seconds(ttl_secs);
    let session = Session::insert(
        conn,
        &NewSession {
            id: Uuid::now_v7(),
            user_id,
            kind: Session::KIND_API,
            expires_at,
            user_agent: client.user_agent.as_deref(),
            ip: client.ip.as_deref(),
        },
    )?;
    let (refresh_token, hash) =
        new_refresh_token().map_err(|e| SessionError::Random(e.to_string()))?;
    RefreshToken::insert(
        conn,
        &NewRefreshToken {
            id: Uuid::now_v7(),
            session_id: session.id,
            token_hash: &hash,
            expires_at,
        },
    )?;
    Ok(NewApiSession {
        session,
        refresh_token,
        refresh_expires_in: ttl_secs,
    })
}
