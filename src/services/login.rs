//! Logging in, for both faces: one check of name and password with the same shape for every
//! failure, one refusal of disabled accounts, one place that opens the session and records it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Error;
use super::audit::{self, event};
use super::sessions::{self, DashboardSession};
use super::throttle::{self, Attempt, Facts};
use crate::auth::tokens::IssuedAccessToken;
use crate::db::clock;
use crate::db::models::session::Session;
use crate::db::models::user::User;
use crate::db::{self};
use crate::domain::{ClientInfo, Password, RoleName, Username};
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
/// hash work as a wrong password and both are `InvalidCredentials` (audited); throttling decides
/// before any hashing, alike for both, and counts the failure. Then refuses a
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
    let attempt = Attempt::new(&username, client);
    let read = attempt.clone();
    let (found, facts) = db::run(&state.pool, move |conn| {
        let Some(user) = User::find_by_username(conn, &name)? else {
            return Ok::<_, Error>((None, Facts::default()));
        };
        let roles = User::role_names(conn, user.id)?;
        let facts = Facts::read(conn, user.id, &read)?;
        Ok((Some((user, roles)), facts))
    })
    .await?;
    let subject = found.as_ref().map(|(u, _)| u.id);
    throttle::check(state, &attempt, facts, subject, client).await?;
    let stored_hash = found.as_ref().and_then(|(u, _)| u.checkable_hash());
    let typed = Password::candidates(password);
    let password_ok = state
        .hasher
        .verify(typed, stored_hash, client.into())
        .await?;
    if password_ok {
        throttle::succeeded(state, &attempt);
    } else {
        throttle::failed(state, &attempt, facts);
    }
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
        Err(Error::Busy | Error::Throttled { .. }) => Some(LoginOutcome::Throttled),
        Err(_) => None,
    };
    if let Some(outcome) = outcome {
        telemetry::login(outcome);
    }
    result
}

/// A login whose password checked out, but which lost to a change made while it was in flight.
#[derive(Debug, Clone, Copy)]
enum Lost {
    /// The password it checked is no longer the account's (or the account is gone).
    PasswordChanged,
    Disabled,
    /// Every session of the user was ended after the password was checked.
    SessionsEnded,
    /// The role this way in requires was taken away.
    RoleRemoved,
}

impl Lost {
    fn reason(self) -> &'static str {
        match self {
            Self::PasswordChanged => "password_changed",
            Self::Disabled => refusal::DISABLED,
            Self::SessionsEnded => "sessions_ended",
            Self::RoleRemoved => refusal::NOT_ADMIN,
        }
    }

    fn error(self) -> Error {
        match self {
            Self::PasswordChanged | Self::SessionsEnded => Error::InvalidCredentials,
            Self::Disabled => Error::AccountDisabled,
            Self::RoleRemoved => Error::NotPermitted,
        }
    }
}

/// What a session is opened and its token signed from: the user row and roles as of the lock.
struct Confirmed {
    user: User,
    roles: Vec<String>,
    /// The database's clock under the lock: the access token's issue time.
    issued_at: DateTime<Utc>,
}

/// Confirms, under the user row's lock, what the password check read: the same password hash, the
/// account enabled, no "end every session" since, and the required role. The transaction holds
/// the row until it commits, so a change that ends sessions (which locks the row for update)
/// either commits first and is seen here, or waits and then ends this session too.
fn confirm(
    conn: &mut PgConnection,
    read: &User,
    required_role: Option<&str>,
) -> Result<Result<Confirmed, Lost>, Error> {
    let Some(user) = User::lock_for_login(conn, read.id)? else {
        return Ok(Err(Lost::PasswordChanged));
    };
    if user.password_hash != read.password_hash {
        return Ok(Err(Lost::PasswordChanged));
    }
    if user.disabled_at.is_some() {
        return Ok(Err(Lost::Disabled));
    }
    if user.sessions_valid_after != read.sessions_valid_after {
        return Ok(Err(Lost::SessionsEnded));
    }
    let roles = User::role_names(conn, user.id)?;
    if required_role.is_some_and(|r| !roles.iter().any(|h| h == r)) {
        return Ok(Err(Lost::RoleRemoved));
    }
    let issued_at = clock::now(conn)?;
    Ok(Ok(Confirmed {
        user,
        roles,
        issued_at,
    }))
}

/// Opens a session for the user whose password was checked (`read`), in one transaction with the
/// confirmation and the audit event; a login that lost a race is audited and refused.
async fn open_session<T: Send + 'static>(
    state: &AppState,
    read: User,
    required_role: Option<&'static str>,
    client: &ClientInfo,
    open: impl FnOnce(&mut PgConnection, Uuid, &ClientInfo) -> Result<T, Error> + Send + 'static,
) -> Result<(T, Confirmed), Error> {
    let client = client.clone();
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| match confirm(conn, &read, required_role)? {
            Ok(confirmed) => {
                let opened = open(conn, read.id, &client)?;
                Ok(Ok((opened, confirmed)))
            }
            Err(lost) => {
                let detail = json!({ "reason": lost.reason() });
                record_failure(conn, Some(read.id), detail, &client)?;
                Ok::<_, Error>(Err(lost))
            }
        })
    })
    .await?
    .map_err(Lost::error)
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
    let (user, _) = authenticate(state, credentials, None, client).await?;
    let ttl = state.config.refresh_ttl_secs;
    let (opened, confirmed) = open_session(state, user, None, client, move |conn, id, client| {
        let opened = sessions::open_api(conn, id, ttl, client)?;
        record_login(conn, id, &opened.session, client)?;
        Ok(opened)
    })
    .await?;
    let Confirmed {
        user,
        roles,
        issued_at,
    } = confirmed;
    let access =
        state
            .tokens
            .issue(user.id, &user.username, roles, opened.session.id, issued_at)?;
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
    let required = Some(RoleName::ADMIN);
    let (user, _) = authenticate(state, credentials, required, client).await?;
    let absolute = state.config.dashboard_absolute_secs;
    let (opened, _) = open_session(state, user, required, client, move |conn, id, client| {
        let opened = sessions::open_dashboard(conn, id, absolute, client)?;
        record_login(conn, id, &opened.session, client)?;
        Ok(opened)
    })
    .await?;
    Ok(opened)
}
