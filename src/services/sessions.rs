//! Sessions as users and administrators see them: opening one at login, listing, and revoking.
//! Every revocation is written to the database first, then to the in-memory state that token
//! verification reads, and audited in the same transaction as the write.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::audit::{self, event};
use super::{Error, Page, Paging};
use crate::auth::secrets::new_secret;
use crate::db::models::refresh_token::{NewRefreshToken, RefreshToken};
use crate::db::models::session::{NewSession, Session};
use crate::db::models::user::User;
use crate::db::{self};
use crate::domain::{ClientInfo, Principal};
use crate::state::AppState;
use crate::telemetry;

mod dashboard;
pub use dashboard::{DashboardSession, open_dashboard, resume_dashboard};

/// The session object of the contract.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Session)]
pub struct SessionView {
    pub id: Uuid,
    /// `api` (opened by a login) or `dashboard` (a browser signed in to `/admin`).
    #[schema(example = "api")]
    pub kind: String,
    pub created_at: DateTime<Utc>,
    /// API sessions: the latest login or refresh; dashboard sessions: the latest page view.
    pub last_used_at: DateTime<Utc>,
    /// Its absolute end.
    pub expires_at: DateTime<Utc>,
    /// When it was ended early, else `null`.
    #[schema(required = true)]
    pub revoked_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub user_agent: Option<String>,
    #[schema(required = true)]
    pub ip: Option<String>,
    /// Only in the caller's own listing: `true` for the session of the token making the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false, nullable = false)]
    pub current: Option<bool>,
}

impl SessionView {
    pub fn new(s: Session, current: Option<Uuid>) -> Self {
        Self {
            current: current.map(|c| c == s.id),
            id: s.id,
            kind: s.kind,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
            revoked_at: s.revoked_at,
            user_agent: s.user_agent,
            ip: s.ip,
        }
    }
}

/// How many sessions a listing shows at most.
pub const LIST_LIMIT: i64 = 200;

/// A user's unexpired sessions (live and revoked), newest first, in the caller's connection.
pub fn of_user_in(
    conn: &mut PgConnection,
    user_id: Uuid,
    current: Option<Uuid>,
) -> QueryResult<Vec<SessionView>> {
    Ok(
        Session::unexpired_of_user(conn, user_id, Utc::now(), LIST_LIMIT)?
            .into_iter()
            .map(|s| SessionView::new(s, current))
            .collect(),
    )
}

/// An API session just opened: its first refresh token goes to the client only.
pub struct NewApiSession {
    pub session: Session,
    pub refresh_token: String,
    pub refresh_expires_in: i64,
}

/// Opens an API session and its first refresh token, in the caller's transaction. The session's
/// lifetime is absolute: rotations never extend it.
pub fn open_api(
    conn: &mut PgConnection,
    user_id: Uuid,
    ttl_secs: i64,
    client: &ClientInfo,
) -> Result<NewApiSession, Error> {
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
    let (refresh_token, hash) = new_secret()?;
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

/// Ends every session of a user but `keep`, in the caller's transaction, which holds the user row
/// (`User::lock_for_update`): the sessions there are, and those of logins still in flight, which
/// read the account before this and now find its sessions cutoff moved.
pub fn end_all_of_user(
    conn: &mut PgConnection,
    user_id: Uuid,
    keep: Option<Uuid>,
    reason: &str,
) -> QueryResult<Vec<(Uuid, DateTime<Utc>)>> {
    User::raise_sessions_cutoff(conn, user_id)?;
    Session::revoke_all_of_user(conn, user_id, keep, reason)
}

/// The caller's own sessions, the current one marked.
pub async fn list_own(state: &AppState, principal: &Principal) -> Result<Vec<SessionView>, Error> {
    let (user_id, current) = (principal.user_id, principal.session_id);
    db::run(&state.pool, move |conn| {
        Ok(of_user_in(conn, user_id, Some(current))?)
    })
    .await
}

/// A row of the administrators' list of live sessions.
pub struct ActiveSession {
    pub session: Session,
    pub username: String,
}

/// Every user's live sessions, newest first.
pub async fn list_active(state: &AppState, paging: Paging) -> Result<Page<ActiveSession>, Error> {
    db::run(&state.pool, move |conn| {
        let rows = Session::live_page(conn, Utc::now(), paging.offset(), paging.per_page)?;
        let (rows, more) = paging.split(rows);
        Ok(Page {
            items: rows
                .into_iter()
                .map(|(session, username)| ActiveSession { session, username })
                .collect(),
            more,
        })
    })
    .await
}

/// Which sessions a revocation covers.
#[derive(Debug, Clone, Copy)]
enum Scope {
    /// One session; `owner` restricts it to that user's (anything else is "not found").
    One {
        session_id: Uuid,
        owner: Option<Uuid>,
    },
    /// Every live session of a user, except `keep`.
    AllOf { user_id: Uuid, keep: Option<Uuid> },
}

/// Why sessions end, as recorded in `sessions.revoked_reason` and the audit detail.
mod reason {
    pub const LOGOUT: &str = "logout";
    pub const LOGOUT_ALL: &str = "logout_all";
    pub const BY_USER: &str = "revoked_by_user";
    pub const BY_ADMIN: &str = "revoked_by_admin";
}

/// Revokes in the database (audited in the same transaction), then in memory.
async fn revoke(
    state: &AppState,
    scope: Scope,
    actor: &Principal,
    event_name: &'static str,
    reason: &'static str,
    client: &ClientInfo,
) -> Result<Vec<Uuid>, Error> {
    let (actor_id, client) = (actor.user_id, client.clone());
    let revoked = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let (subject, revoked) = match scope {
                Scope::One { session_id, owner } => {
                    let session = Session::find(conn, session_id)?.ok_or(Error::NotFound)?;
                    if owner.is_some_and(|o| o != session.user_id) {
                        return Err(Error::NotFound);
                    }
                    (session.user_id, Session::revoke(conn, session_id, reason)?)
                }
                Scope::AllOf { user_id, keep } => {
                    // Revoking the sessions of nobody is a wrong id: 404, not a silent success.
                    User::lock_for_update(conn, user_id)?.ok_or(Error::NotFound)?;
                    let revoked = end_all_of_user(conn, user_id, keep, reason)?;
                    (user_id, revoked)
                }
            };
            audit::record(
                conn,
                audit::Entry {
                    event: event_name,
                    actor_id: Some(actor_id),
                    subject_id: Some(subject),
                    client: &client,
                    detail: json!({ "sessions": session_ids(&revoked), "reason": reason }),
                },
            )?;
            Ok(revoked)
        })
    })
    .await?;
    state.revocation.revoke_sessions(&revoked);
    telemetry::sessions_revoked(reason, revoked.len());
    Ok(session_ids(&revoked))
}

fn session_ids(revoked: &[(Uuid, DateTime<Utc>)]) -> Vec<Uuid> {
    revoked.iter().map(|(id, _)| *id).collect()
}

/// Ends the caller's current session (API or dashboard).
pub async fn logout(state: &AppState, me: &Principal, client: &ClientInfo) -> Result<(), Error> {
    let scope = Scope::One {
        session_id: me.session_id,
        owner: Some(me.user_id),
    };
    revoke(state, scope, me, event::LOGOUT, reason::LOGOUT, client).await?;
    Ok(())
}

/// Ends every session of the caller.
pub async fn logout_all(
    state: &AppState,
    me: &Principal,
    client: &ClientInfo,
) -> Result<(), Error> {
    let scope = Scope::AllOf {
        user_id: me.user_id,
        keep: None,
    };
    revoke(state, scope, me, event::LOGOUT, reason::LOGOUT_ALL, client).await?;
    Ok(())
}

/// Ends one of the caller's own sessions; another user's is "not found".
pub async fn revoke_own(
    state: &AppState,
    me: &Principal,
    session_id: Uuid,
    client: &ClientInfo,
) -> Result<(), Error> {
    let owner = Some(me.user_id);
    let scope = Scope::One { session_id, owner };
    revoke(
        state,
        scope,
        me,
        event::SESSIONS_REVOKED,
        reason::BY_USER,
        client,
    )
    .await?;
    Ok(())
}

/// What an administrator ends.
#[derive(Debug, Clone, Copy)]
pub enum AdminTarget {
    Session(Uuid),
    EverySessionOf(Uuid),
}

/// An administrator ends one session, or every session of a user; returns how many were live.
pub async fn revoke_by_admin(
    state: &AppState,
    admin: &Principal,
    target: AdminTarget,
    client: &ClientInfo,
) -> Result<usize, Error> {
    let scope = match target {
        AdminTarget::Session(session_id) => Scope::One {
            session_id,
            owner: None,
        },
        AdminTarget::EverySessionOf(user_id) => Scope::AllOf {
            user_id,
            keep: None,
        },
    };
    let event = event::SESSIONS_REVOKED;
    let ids = revoke(state, scope, admin, event, reason::BY_ADMIN, client).await?;
    Ok(ids.len())
}
