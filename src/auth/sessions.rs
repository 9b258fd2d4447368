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

/// What the refresh endpoint concluded, decided inside one transaction.
pub enum RefreshOutcome {
    Rotated {
        user_id: Uuid,
        username: String,
        roles: Vec<String>,
        session_id: Uuid,
        refresh_token: String,
        refresh_expires_in: i64,
    },
    /// Unknown, expired, revoked, or a lost race within the grace period: session untouched.
    Refused,
    /// A rotated token came back after the grace period: the session was revoked.
    ReuseDetected { user_id: Uuid, session_id: Uuid },
}

/// Rotates a refresh token. The row lock makes concurrent refreshes of one token queue: the first
/// rotates it, the rest then see it already rotated (within the grace period: refused, benign).
pub fn rotate_refresh_token(
    conn: &mut PgConnection,
    presented: &str,
    grace_secs: i64,
    client: &ClientInfo,
) -> Result<RefreshOutcome, SessionError> {
    use crate::db::schema::{refresh_tokens, users};
    let now = Utc::now();
    let hash = super::tokens::hash_refresh_token(presented);
    conn.transaction(|conn| {
        let Some(token) = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(&hash))
            .select(RefreshToken::as_select())
            .for_update()
            .first(conn)
            .optional()?
        else {
            return Ok(RefreshOutcome::Refused);
        };
        let Some(session) = Session::find(conn, token.session_id)? else {
            return Ok(RefreshOutcome::Refused);
        };
        if session.revoked_at.is_some() || session.expires_at <= now || token.expires_at <= now {
            return Ok(RefreshOutcome::Refused);
        }
        if let Some(rotated_at) = token.rotated_at {
            if now - rotated_at <= Duration::seconds(grace_secs) {
                return Ok(RefreshOutcome::Refused);
            }
            revoke_session(conn, session.id, "refresh_reuse", now)?;
            return Ok(RefreshOutcome::ReuseDetected {
                user_id: session.user_id,
                session_id: session.id,
            });
        }
        let (username, disabled_at): (String, Option<chrono::DateTime<Utc>>) = users::table
            .find(session.user_id)
            .select((users::username, users::disabled_at))
            .first(conn)?;
        if disabled_at.is_some() {
            return Ok(RefreshOutcome::Refused);
        }
        diesel::update(refresh_tokens::table.find(token.id))
            .set(refresh_tokens::rotated_at.eq(now))
            .execute(conn)?;
        let (refresh_token, new_hash) =
            new_refresh_token().map_err(|e| SessionError::Random(e.to_string()))?;
        RefreshToken::insert(
            conn,
            &NewRefreshToken {
                id: Uuid::now_v7(),
                session_id: session.id,
                token_hash: &new_hash,
                expires_at: session.expires_at,
            },
        )?;
        touch(conn, session.id, now, client)?;
        let roles = crate::db::models::user::User::role_names(conn, session.user_id)?;
        Ok(RefreshOutcome::Rotated {
            user_id: session.user_id,
            username,
            roles,
            session_id: session.id,
            refresh_token,
            refresh_expires_in: (session.expires_at - now).num_seconds().max(0),
        })
    })
}

/// Records the session's last use and where it came from.
pub fn touch(
    conn: &mut PgConnection,
    session_id: Uuid,
    now: chrono::DateTime<Utc>,
    client: &ClientInfo,
) -> QueryResult<usize> {
    use crate::db::schema::sessions;
    diesel::update(sessions::table.find(session_id))
        .set((
            sessions::last_used_at.eq(now),
            client
                .ip
                .as_deref()
                .map(|ip| sessions::ip.eq(ip.to_owned())),
            client
                .user_agent
                .as_deref()
                .map(|ua| sessions::user_agent.eq(ua.to_owned())),
        ))
        .execute(conn)
}

/// Revokes one session if still live; returns its id when this call revoked it.
pub fn revoke_session(
    conn: &mut PgConnection,
    session_id: Uuid,
    reason: &str,
    now: chrono::DateTime<Utc>,
) -> QueryResult<Vec<Uuid>> {
    use crate::db::schema::sessions;
    diesel::update(sessions::table)
        .filter(sessions::id.eq(session_id))
        .filter(sessions::revoked_at.is_null())
        .set((
            sessions::revoked_at.eq(now),
            sessions::revoked_reason.eq(reason),
        ))
        .returning(sessions::id)
        .get_results(conn)
}

/// Revokes every live session of a user, but `keep`; returns the ids revoked.
pub fn revoke_user_sessions(
    conn: &mut PgConnection,
    user_id: Uuid,
    keep: Option<Uuid>,
    reason: &str,
    now: chrono::DateTime<Utc>,
) -> QueryResult<Vec<Uuid>> {
    use crate::db::schema::sessions;
    diesel::update(sessions::table)
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::id.ne(keep.unwrap_or_else(Uuid::nil)))
        .set((
            sessions::revoked_at.eq(now),
            sessions::revoked_reason.eq(reason),
        ))
        .returning(sessions::id)
        .get_results(conn)
}

/// A user's sessions that have not expired, newest first: live ones and recently revoked ones.
pub fn list_for_user(
    conn: &mut PgConnection,
    user_id: Uuid,
    limit: i64,
) -> QueryResult<Vec<Session>> {
    use crate::db::schema::sessions;
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::expires_at.gt(Utc::now()))
        .order((sessions::created_at.desc(), sessions::id.desc()))
        .limit(limit)
        .select(Session::as_select())
        .load(conn)
}
