//! `POST /api/auth/refresh`: rotation with reuse detection. Decided inside one transaction that
//! holds the presented token's row lock, so concurrent refreshes of one token queue and exactly
//! one of them rotates it.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::Error;
use super::audit::{self, event};
use super::login::TokenPair;
use crate::auth::secrets::{hash_secret, new_secret};
use crate::db::clock;
use crate::db::models::refresh_token::{NewRefreshToken, RefreshToken};
use crate::db::models::session::Session;
use crate::db::models::user::User;
use crate::db::{self};
use crate::domain::ClientInfo;
use crate::state::AppState;
use crate::telemetry::{self, RefreshOutcome};

/// Why a session ends when a rotated refresh token comes back.
const REUSE_REASON: &str = "refresh_reuse";

/// What one refresh concluded.
enum Outcome {
    Rotated {
        user_id: Uuid,
        username: String,
        roles: Vec<String>,
        session_id: Uuid,
        refresh_token: String,
        refresh_expires_in: i64,
        /// The database's clock under the user row's lock: the access token's issue time.
        issued_at: DateTime<Utc>,
    },
    /// Unknown, expired, revoked, or a lost race within the grace period: session untouched.
    Refused,
    /// A rotated token came back after the grace period: the session was revoked (`revoked` is
    /// empty if something else revoked it meanwhile).
    ReuseDetected {
        session_id: Uuid,
        revoked: Vec<(Uuid, DateTime<Utc>)>,
    },
}

fn rotate(
    conn: &mut PgConnection,
    presented: &str,
    grace: Duration,
    client: &ClientInfo,
) -> Result<Outcome, Error> {
    let now = Utc::now();
    conn.transaction(|conn| {
        let Some(token) = RefreshToken::find_for_update(conn, &hash_secret(presented))? else {
            return Ok(Outcome::Refused);
        };
        let Some(session) = Session::find(conn, token.session_id)? else {
            return Ok(Outcome::Refused);
        };
        if session.revoked_at.is_some() || session.expires_at <= now || token.expires_at <= now {
            return Ok(Outcome::Refused);
        }
        if let Some(rotated_at) = token.rotated_at {
            if now - rotated_at <= grace {
                return Ok(Outcome::Refused);
            }
            let revoked = Session::revoke(conn, session.id, REUSE_REASON)?;
            audit::record(
                conn,
                audit::Entry {
                    event: event::REFRESH_REUSE_DETECTED,
                    actor_id: None,
                    subject_id: Some(session.user_id),
                    client,
                    detail: json!({ "session_id": session.id }),
                },
            )?;
            return Ok(Outcome::ReuseDetected {
                session_id: session.id,
                revoked,
            });
        }
        // Held until the commit: a change that voids tokens (roles, disable, ending sessions)
        // waits for it and stamps its cutoff after the issue time taken below, or committed
        // before and is seen here, in the user, the session and the roles read after the lock.
        let Some(user) = User::lock_for_share(conn, session.user_id)? else {
            return Ok(Outcome::Refused);
        };
        if user.disabled_at.is_some() || Session::is_revoked(conn, session.id)? {
            return Ok(Outcome::Refused);
        }
        RefreshToken::mark_rotated(conn, token.id, now)?;
        let (refresh_token, new_hash) = new_secret()?;
        RefreshToken::insert(
            conn,
            &NewRefreshToken {
                id: Uuid::now_v7(),
                session_id: session.id,
                token_hash: &new_hash,
                expires_at: session.expires_at,
            },
        )?;
        let (ip, ua) = (client.ip.as_deref(), client.user_agent.as_deref());
        Session::touch(conn, session.id, now, ip, ua)?;
        let roles = User::role_names(conn, user.id)?;
        let issued_at = clock::now(conn)?;
        Ok(Outcome::Rotated {
            user_id: user.id,
            username: user.username,
            roles,
            session_id: session.id,
            issued_at,
            refresh_token,
            refresh_expires_in: (session.expires_at - now).num_seconds().max(0),
        })
    })
}

/// Trades a refresh token for a new pair. Presenting an already-rotated token after the grace
/// period is reuse: the whole session is revoked.
pub async fn refresh(
    state: &AppState,
    presented: String,
    client: &ClientInfo,
) -> Result<TokenPair, Error> {
    let grace = Duration::seconds(state.config.refresh_grace_secs);
    let client = client.clone();
    let outcome = db::run(&state.pool, move |conn| {
        rotate(conn, &presented, grace, &client)
    })
    .await?;
    match outcome {
        Outcome::Rotated {
            user_id,
            username,
            roles,
            session_id,
            refresh_token,
            refresh_expires_in,
            issued_at,
        } => {
            let access = state
                .tokens
                .issue(user_id, &username, roles, session_id, issued_at)?;
            telemetry::refresh(RefreshOutcome::Success);
            Ok(TokenPair::new(
                access,
                refresh_token,
                refresh_expires_in,
                session_id,
            ))
        }
        Outcome::Refused => {
            telemetry::refresh(RefreshOutcome::Invalid);
            Err(Error::InvalidGrant)
        }
        Outcome::ReuseDetected {
            session_id,
            revoked,
        } => {
            state.revocation.revoke_sessions(&revoked);
            telemetry::refresh(RefreshOutcome::Reuse);
            telemetry::sessions_revoked(REUSE_REASON, revoked.len());
            log::warn!("refresh token reuse detected; revoked session {session_id}");
            Err(Error::InvalidGrant)
        }
    }
}
