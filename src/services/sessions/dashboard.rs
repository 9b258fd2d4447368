//! Dashboard sessions: server-side rows of `sessions` behind a cookie secret, each with the CSRF
//! token of its forms, ending after an idle timeout or an absolute one.

use chrono::{Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::secrets::{hash_secret, new_secret};
use crate::db::models::session::{NewSession, Session};
use crate::db::models::user::User;
use crate::db::{self};
use crate::domain::{ClientInfo, Credential, Principal};
use crate::services::Error;
use crate::state::AppState;
use crate::telemetry;

/// A dashboard session just opened: the cookie secret goes to the browser only.
pub struct DashboardSession {
    pub session: Session,
    pub cookie_secret: String,
    /// How long the cookie may live: the session's absolute lifetime.
    pub max_age_secs: i64,
}

/// Opens a dashboard session in the caller's transaction; it lives at most `absolute` seconds.
pub fn open_dashboard(
    conn: &mut PgConnection,
    user_id: Uuid,
    absolute: i64,
    client: &ClientInfo,
) -> Result<DashboardSession, Error> {
    let (cookie_secret, cookie_hash) = new_secret()?;
    let (csrf_token, _) = new_secret()?;
    let session = Session::insert(
        conn,
        &NewSession {
            id: Uuid::now_v7(),
            user_id,
            kind: Session::KIND_DASHBOARD,
            expires_at: Utc::now() + Duration::seconds(absolute),
            user_agent: client.user_agent.as_deref(),
            ip: client.ip.as_deref(),
            cookie_hash: Some(&cookie_hash),
            csrf_token: Some(&csrf_token),
        },
    )?;
    Ok(DashboardSession {
        session,
        cookie_secret,
        max_age_secs: absolute,
    })
}

/// How often a page view may record the session's last use: often enough for an idle timeout
/// measured in minutes, rare enough to cost almost nothing per page.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// Why a dashboard session ended on its own.
mod reason {
    pub const IDLE: &str = "idle_timeout";
    pub const ABSOLUTE: &str = "absolute_timeout";
}

/// The caller behind a dashboard cookie, if its session is live and its user enabled. A session
/// past its idle or absolute timeout is revoked on the spot, so it also stops being listed as
/// active.
pub async fn resume_dashboard(
    state: &AppState,
    cookie_secret: String,
    client: ClientInfo,
) -> Result<Option<Principal>, Error> {
    let idle = Duration::seconds(state.config.dashboard_idle_secs);
    let revocation = state.revocation.clone();
    db::run(&state.pool, move |conn| {
        let now = Utc::now();
        let Some(found) = Session::find_by_cookie(conn, &hash_secret(&cookie_secret))? else {
            return Ok(None);
        };
        let session = found.session;
        if session.revoked_at.is_some() || found.user_disabled {
            return Ok(None);
        }
        let timed_out = if session.expires_at <= now {
            Some(reason::ABSOLUTE)
        } else if session.last_used_at + idle <= now {
            Some(reason::IDLE)
        } else {
            None
        };
        if let Some(reason) = timed_out {
            let revoked = Session::revoke(conn, session.id, reason)?;
            revocation.revoke_sessions(&revoked);
            telemetry::sessions_revoked(reason, revoked.len());
            return Ok(None);
        }
        if now - session.last_used_at > TOUCH_EVERY {
            let (ip, ua) = (client.ip.as_deref(), client.user_agent.as_deref());
            Session::touch(conn, session.id, now, ip, ua)?;
        }
        let roles = User::role_names(conn, session.user_id)?;
        Ok(Some(Principal {
            user_id: session.user_id,
            username: found.username,
            roles,
            session_id: session.id,
            credential: Credential::DashboardCookie {
                csrf_token: found.csrf_token.unwrap_or_default(),
            },
        }))
    })
    .await
}
