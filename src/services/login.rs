//! Logging in, for both faces: one check of name and password with the same shape for every
//! failure, one refusal of disabled accounts, one place that opens the session and records it.

use chrono::Utc;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Error;
use super::audit::{self, event};
use super::sessions::{self, DashboardSession};
use crate::auth::tokens::IssuedAccessToken;
use crate::db::models::session::Session;
use crate::db::models::user::User;
use crate::db::{self};
use crate::domain::{ClientInfo, RoleName, Username};
use crate::state::AppState;
use crate::telemetry::{self, LoginOutcome};

/// The token pair of the contract.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenPair {
    /// The JWT to send as `Authorization: Bearer ...`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(value_type = String, example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
    /// The opaque token for `POST /api/auth/refresh`.
    pub refresh_token: String,
    /// Seconds until the session ends (absolute; counts down across refreshes).
    #[schema(example = 2592000)]
    pub refresh_expires_in: i64,
    /// The session both tokens belong to (the `sid` claim).
    pub session_id: Uuid,
}

impl TokenPair {
    pub fn new(
        access: IssuedAccessToken,
        refresh_token: String,
        refresh_expires_in: i64,
        session_id: Uuid,
    ) -> Self {
        Self {
            access_token: access.token,
            token_type: "Bearer",
            expires_in: access.expires_in,
            refresh_token,
            refresh_expires_in,
            session_id,
        }
    }
}

/// A name and a password as typed.
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// Why a login with the right password was refused, as the audit log records it.
mod refusal {
    pub const DISABLED: &str = "account_disabled";
    pub const NOT_ADMIN: &str = "not_admin";
}

fn record_failure(
    conn: &mut PgConnection,
    subject_id: Option<Uuid>,
    detail: serde_json::Value,
    client: &ClientInfo,
) -> QueryResult<()> {
    audit::record(
        conn,
        audit::Entry {
            event: event::LOGIN_FAILED,
            actor_id: subject_id,
            subject_id,
            client,
            detail,
        },
    )
}

/// Checks a name and a password with one shape for every failure: an unknown name costs the same
/// hash work as a wrong password and both are `InvalidCredentials` (audited). Then refuses a
/// disabled account, and one without `required_role` when one is required (audited as
/// well). Returns the user and their roles.
async fn authenticate(
    state: &AppState,
    credentials: Credentials,
    required_role: Option<&'static str>,
    client: &ClientInfo,
) -> Result<(User, Vec<String>), Error> {
    let Credentials { username, password } = credentials;
    let name = username.clone();
    let found = db::run(&state.pool, move |conn| {
        let Some(user) = User::find_by_username(conn, &name)? else {
            return Ok::<_, Error>(None);
        };
        let roles = User::role_names(conn, user.id)?;
        Ok(Some((user, roles)))
    })
    .await?;
    let stored_hash = found.as_ref().map(|(u, _)| u.password_hash.clone());
    let password_ok = state.hasher.verify(password, stored_hash).await?;
    let refusal = match &found {
        Some((user, _)) if !password_ok => Err(Some(user.id)),
        None => Err(None),
        Some((user, _)) if user.disabled_at.is_some() => Ok(Some(refusal::DISABLED)),
        Some((_, roles)) if required_role.is_some_and(|r| !roles.iter().any(|h| h == r)) => {
            Ok(Some(refusal::NOT_ADMIN))
        }
        Some(_) => Ok(None),
    };
    let client = client.clone();
    match refusal {
        Err(subject_id) => {
            db::run(&state.pool, move |conn| {
                let username = Username::for_audit(&username);
                let detail = json!({ "username": username, "reason": "invalid_credentials" });
                Ok::<_, Error>(record_failure(conn, subject_id, detail, &client)?)
            })
            .await?;
            Err(Error::InvalidCredentials)
        }
        Ok(Some(reason)) => {
            let user_id = found.as_ref().map(|(u, _)| u.id);
            db::run(&state.pool, move |conn| {
                Ok::<_, Error>(record_failure(
                    conn,
                    user_id,
                    json!({ "reason": reason }),
                    &client,
                )?)
            })
            .await?;
            Err(if reason == refusal::DISABLED {
                Error::AccountDisabled
            } else {
                Error::NotPermitted
            })
        }
        Ok(None) => found.ok_or(Error::InvalidCredentials),
    }
}

/// Records a successful login of a session just opened, in the caller's transaction.
fn record_login(
    conn: &mut PgConnection,
    user_id: Uuid,
    session: &Session,
    client: &ClientInfo,
) -> QueryResult<()> {
    User::record_login(conn, user_id, Utc::now())?;
    audit::record(
        conn,
        audit::Entry {
            event: event::LOGIN_SUCCEEDED,
            actor_id: Some(user_id),
            subject_id: Some(user_id),
            client,
            detail: json!({ "session_id": session.id, "kind": session.kind }),
        },
    )
}

/// Counts a login attempt by how it ended; an outage or a bug is no outcome of the attempt.
fn counted<T>(result: Result<T, Error>) -> Result<T, Error> {
    let outcome = match &result {
        Ok(_) => Some(LoginOutcome::Success),
        Err(Error::InvalidCredentials | Error::NotPermitted) => Some(LoginOutcome::Failure),
        Err(Error::AccountDisabled) => Some(LoginOutcome::Disabled),
        Err(Error::Busy) => Some(LoginOutcome::Throttled),
        Err(_) => None,
    };
    if let Some(outcome) = outcome {
        telemetry::login(outcome);
    }
    result
}

/// `POST /api/auth/login`: an API session and its token pair.
pub async fn login_api(
    state: &AppState,
    credentials: Credentials,
    client: &ClientInfo,
) -> Result<TokenPair, Error> {
    counted(open_api_session(state, credentials, client).await)
}

async fn open_api_session(
    state: &AppState,
    credentials: Credentials,
    client: &ClientInfo,
) -> Result<TokenPair, Error> {
    let (user, roles) = authenticate(state, credentials, None, client).await?;
    let (user_id, ttl, client) = (user.id, state.config.refresh_ttl_secs, client.clone());
    let opened = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let opened = sessions::open_api(conn, user_id, ttl, &client)?;
            record_login(conn, user_id, &opened.session, &client)?;
            Ok::<_, Error>(opened)
        })
    })
    .await?;
    let access = state
        .tokens
        .issue(user.id, &user.username, roles, opened.session.id)?;
    Ok(TokenPair::new(
        access,
        opened.refresh_token,
        opened.refresh_expires_in,
        opened.session.id,
    ))
}

/// `POST /admin/login`: a dashboard session, for administrators only.
pub async fn login_dashboard(
    state: &AppState,
    credentials: Credentials,
    client: &ClientInfo,
) -> Result<DashboardSession, Error> {
    counted(open_dashboard_session(state, credentials, client).await)
}

async fn open_dashboard_session(
    state: &AppState,
    credentials: Credentials,
    client: &ClientInfo,
) -> Result<DashboardSession, Error> {
    let (user, _) = authenticate(state, credentials, Some(RoleName::ADMIN), client).await?;
    let (user_id, client) = (user.id, client.clone());
    let absolute = state.config.dashboard_absolute_secs;
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let opened = sessions::open_dashboard(conn, user_id, absolute, &client)?;
            record_login(conn, user_id, &opened.session, &client)?;
            Ok(opened)
        })
    })
    .await
}
