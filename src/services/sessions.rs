//! Session lifecycle as users and admins see it: refresh, logout, listing, revocation. Each
//! revocation is written to the database first, then to the in-memory state that token
//! verification reads, then audited.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, event};
use super::users::{TokenPair, UserError};
use crate::auth::sessions::{self, RefreshOutcome};
use crate::auth::tokens::sorted_roles;
use crate::auth::{ClientInfo, Principal};
use crate::db;
use crate::db::models::session::Session;
use crate::db::models::user::User;
use crate::state::AppState;
use diesel::Connection;

/// The session object of the contract.
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    pub id: Uuid,
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
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

pub async fn refresh(
    state: &AppState,
    presented: String,
    client: ClientInfo,
) -> Result<TokenPair, UserError> {
    let grace = state.config.refresh_grace_secs;
    let audit_client = client.clone();
    let outcome = db::run(&state.pool, move |conn| {
        sessions::rotate_refresh_token(conn, &presented, grace, &client).map_err(UserError::from)
    })
    .await?;
    match outcome {
        RefreshOutcome::Rotated {
            user_id,
            username,
            roles,
            session_id,
            refresh_token,
            refresh_expires_in,
        } => {
            let access = state
                .tokens
                .issue(user_id, &username, sorted_roles(roles), session_id)?;
            Ok(TokenPair {
                access_token: access.token,
                token_type: "Bearer",
                expires_in: access.expires_in,
                refresh_token,
                refresh_expires_in,
                session_id,
            })
        }
        RefreshOutcome::Refused => Err(UserError::InvalidGrant),
        RefreshOutcome::ReuseDetected {
            user_id,
            session_id,
        } => {
            state.revocation.revoke_session(session_id, Utc::now());
            log::warn!("refresh token reuse detected; revoked session {session_id}");
            db::run(&state.pool, move |conn| {
                audit::record(
                    conn,
                    audit::Entry {
                        event: event::REFRESH_REUSE_DETECTED,
                        actor_id: None,
                        subject_id: Some(user_id),
                        client: &audit_client,
                        detail: json!({ "session_id": session_id }),
                    },
                )
                .map_err(UserError::from)
            })
            .await?;
            Err(UserError::InvalidGrant)
        }
    }
}

/// Which sessions a revocation covers.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// One session; `owner` restricts it to that user's (anything else is "not found").
    One {
        session_id: Uuid,
        owner: Option<Uuid>,
    },
    /// Every live session of a user, except `keep`.
    AllOf { user_id: Uuid, keep: Option<Uuid> },
}

/// Revokes in the database, then in memory; audits `event` with the revoked ids.
pub async fn revoke(
    state: &AppState,
    scope: Scope,
    actor_id: Uuid,
    event_name: &'static str,
    reason: &'static str,
    client: ClientInfo,
) -> Result<Vec<Uuid>, UserError> {
    let now = Utc::now();
    let revoked = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let (subject, ids) = match scope {
                Scope::One { session_id, owner } => {
                    let session = Session::find(conn, session_id)?.ok_or(UserError::NotFound)?;
                    if owner.is_some_and(|o| o != session.user_id) {
                        return Err(UserError::NotFound);
                    }
                    (
                        session.user_id,
                        sessions::revoke_session(conn, session_id, reason, now)?,
                    )
                }
                Scope::AllOf { user_id, keep } => {
                    // Revoking the sessions of nobody is a wrong id: 404, not a silent success.
                    User::find(conn, user_id)?.ok_or(UserError::NotFound)?;
                    (
                        user_id,
                        sessions::revoke_user_sessions(conn, user_id, keep, reason, now)?,
                    )
                }
            };
            audit::record(
                conn,
                audit::Entry {
                    event: event_name,
                    actor_id: Some(actor_id),
                    subject_id: Some(subject),
                    client: &client,
                    detail: json!({ "sessions": ids, "reason": reason }),
                },
            )?;
            Ok(ids)
        })
    })
    .await?;
    state.revocation.revoke_sessions(&revoked, now);
    Ok(revoked)
}

pub async fn logout(
    state: &AppState,
    principal: &Principal,
    client: ClientInfo,
) -> Result<(), UserError> {
    let scope = Scope::One {
        session_id: principal.session_id,
        owner: Some(principal.user_id),
    };
    revoke(
        state,
        scope,
        principal.user_id,
        event::LOGOUT,
        "logout",
        client,
    )
    .await
    .map(|_| ())
}

pub async fn logout_all(
    state: &AppState,
    principal: &Principal,
    client: ClientInfo,
) -> Result<(), UserError> {
    let scope = Scope::AllOf {
        user_id: principal.user_id,
        keep: None,
    };
    revoke(
        state,
        scope,
        principal.user_id,
        event::LOGOUT,
        "logout_all",
        client,
    )
    .await
    .map(|_| ())
}

pub async fn list_own(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<SessionView>, UserError> {
    let (user_id, current) = (principal.user_id, principal.session_id);
    db::run(&state.pool, move |conn| {
        let rows = sessions::list_for_user(conn, user_id, LIST_LIMIT)?;
        Ok(rows
            .into_iter()
            .map(|s| SessionView::new(s, Some(current)))
            .collect())
    })
    .await
}
