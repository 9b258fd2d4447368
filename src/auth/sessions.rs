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
            cookie_hash: None,
            csrf_token: None,
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

/// When a user was disabled, if they are.
type DisabledAt = Option<chrono::DateTime<Utc>>;

/// A dashboard (cookie) session just created: the cookie secret goes to the browser only.
pub struct NewDashboardSession {
    pub session: Session,
    pub cookie_secret: String,
}

/// Creates a dashboard session; it lives at most `absolute_secs`.
pub fn create_dashboard_session(
    conn: &mut PgConnection,
    user_id: Uuid,
    absolute_secs: i64,
    client: &ClientInfo,
) -> Result<NewDashboardSession, SessionError> {
    let random = |_| new_refresh_token().map_err(|e| SessionError::Random(e.to_string()));
    let (cookie_secret, cookie_hash) = random(())?;
    let (csrf_token, _) = random(())?;
    let session = Session::insert(
        conn,
        &NewSession {
            id: Uuid::now_v7(),
            user_id,
            kind: Session::KIND_DASHBOARD,
            expires_at: Utc::now() + Duration::seconds(absolute_secs),
            user_agent: client.user_agent.as_deref(),
            ip: client.ip.as_deref(),
            cookie_hash: Some(&cookie_hash),
            csrf_token: Some(&csrf_token),
        },
    )?;
    Ok(NewDashboardSession {
        session,
        cookie_secret,
    })
}

/// The live dashboard session behind a cookie secret, with its user and CSRF token.
pub struct DashboardSession {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    pub roles: Vec<String>,
    pub csrf_token: String,
}

/// Looks a cookie secret up. A session past its idle or absolute timeout is revoked on the spot,
/// so it also stops being listed as active.
pub fn find_dashboard_session(
    conn: &mut PgConnection,
    cookie_secret: &str,
    idle_secs: i64,
    client: &ClientInfo,
) -> QueryResult<Option<DashboardSession>> {
    use crate::db::schema::{sessions, users};
    let now = Utc::now();
    let hash = super::tokens::hash_refresh_token(cookie_secret);
    let found: Option<(Session, Option<String>, String, DisabledAt)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::cookie_hash.eq(&hash))
        .filter(sessions::kind.eq(Session::KIND_DASHBOARD))
        .select((
            Session::as_select(),
            sessions::csrf_token,
            users::username,
            users::disabled_at,
        ))
        .first(conn)
        .optional()?;
    let Some((session, csrf_token, username, disabled_at)) = found else {
        return Ok(None);
    };
    if session.revoked_at.is_some() || disabled_at.is_some() {
        return Ok(None);
    }
    let timed_out = if session.expires_at <= now {
        Some("absolute_timeout")
    } else if session.last_used_at + Duration::seconds(idle_secs) <= now {
        Some("idle_timeout")
    } else {
        None
    };
    if let Some(reason) = timed_out {
        revoke_session(conn, session.id, reason, now)?;
        return Ok(None);
    }
    // One write a minute at most: enough for a 30-minute idle timeout, cheap per page view.
    if now - session.last_used_at > Duration::seconds(60) {
        touch(conn, session.id, now, client)?;
    }
    let roles = crate::db::models::user::User::role_names(conn, session.user_id)?;
    Ok(Some(DashboardSession {
        session_id: session.id,
        user_id: session.user_id,
        username,
        roles,
        csrf_token: csrf_token.unwrap_or_default(),
    }))
}

/// Live sessions per user, for the given users.
pub fn active_counts(
    conn: &mut PgConnection,
    user_ids: &[Uuid],
) -> QueryResult<std::collections::HashMap<Uuid, i64>> {
    use crate::db::schema::sessions;
    let rows: Vec<(Uuid, i64)> = sessions::table
        .filter(sessions::user_id.eq_any(user_ids))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(Utc::now()))
        .group_by(sessions::user_id)
        .select((sessions::user_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// Live sessions of every user, newest first, with the owner's name; the flag says whether an
/// older page exists.
pub fn list_active(
    conn: &mut PgConnection,
    page: i64,
    per_page: i64,
) -> QueryResult<(Vec<(Session, String)>, bool)> {
    use crate::db::schema::{sessions, users};
    let mut rows: Vec<(Session, String)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(Utc::now()))
        .order((sessions::created_at.desc(), sessions::id.desc()))
        .limit(per_page + 1)
        .offset((page - 1).max(0).saturating_mul(per_page))
        .select((Session::as_select(), users::username))
        .load(conn)?;
    let more = rows.len() as i64 > per_page;
    rows.truncate(usize::try_from(per_page).unwrap_or(0));
    Ok((rows, more))
}
