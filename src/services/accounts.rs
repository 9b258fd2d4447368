//! Accounts: registration, the user object, password changes, and the first administrator.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Error;
use super::audit::{self, event};
use super::mail;
use super::sessions;
use super::throttle::{self, Attempt, Facts};
use crate::auth::passwords::Requester;
use crate::db::models::user::{NewUser, User};
use crate::db::{self};
use crate::domain::{ClientInfo, Email, Password, PasswordPolicy, Principal, RoleName, Username};
use crate::state::AppState;
use crate::telemetry;

/// The user object of the contract. Built from a row plus its roles; never carries the hash.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserView {
    /// Never changes.
    pub id: Uuid,
    /// As registered (letter case kept); unique without regard to case.
    #[schema(example = "alice")]
    pub username: String,
    #[schema(example = "alice@example.org", required = true)]
    pub email: Option<String>,
    /// Whether the owner proved the address reaches them (a mailed link); changing the address
    /// clears it.
    pub email_verified: bool,
    /// Role names, sorted.
    #[schema(example = json!(["user"]))]
    pub roles: Vec<String>,
    /// A disabled account cannot log in or refresh.
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    /// The latest successful login, API or dashboard.
    #[schema(required = true)]
    pub last_login_at: Option<DateTime<Utc>>,
}

impl UserView {
    pub fn new(user: User, roles: Vec<String>) -> Self {
        Self {
            id: user.id,
            username: user.username,
            email: user.email,
            email_verified: user.email_verified_at.is_some(),
            roles,
            disabled: user.disabled_at.is_some(),
            created_at: user.created_at,
            last_login_at: user.last_login_at,
        }
    }

    /// The user's row and roles, in the caller's connection.
    pub fn load(conn: &mut PgConnection, user_id: Uuid) -> Result<Self, Error> {
        let user = User::find(conn, user_id)?.ok_or(Error::NotFound)?;
        let roles = User::role_names(conn, user_id)?;
        Ok(Self::new(user, roles))
    }
}

/// A new account as submitted.
pub struct Registration {
    pub username: String,
    pub password: String,
    pub email: Option<String>,
}

impl Registration {
    fn parse(self, policy: PasswordPolicy) -> Result<(Username, Password, Option<Email>), Error> {
        let username = Username::parse(&self.username).map_err(Error::Invalid)?;
        let password = Password::parse(self.password, &username, policy).map_err(Error::Invalid)?;
        let email = self
            .email
            .filter(|e| !e.trim().is_empty())
            .map(|e| Email::parse(&e))
            .transpose()
            .map_err(Error::Invalid)?;
        Ok((username, password, email))
    }
}

/// Inserts a user with `roles`, in the caller's transaction.
fn insert_user(
    conn: &mut PgConnection,
    username: &Username,
    email: Option<&Email>,
    password_hash: &str,
    roles: &[&str],
) -> Result<User, Error> {
    let lower = username.lower();
    let user = User::insert(
        conn,
        &NewUser {
            id: Uuid::now_v7(),
            username: username.as_str(),
            username_lower: &lower,
            email: email.map(Email::as_str),
            password_hash,
        },
    )?;
    User::grant_roles(conn, user.id, roles, None)?;
    Ok(user)
}

/// `POST /api/auth/register`: a new account with the `user` role.
pub async fn register(
    state: &AppState,
    registration: Registration,
    client: &ClientInfo,
) -> Result<UserView, Error> {
    let (username, password, email) = registration.parse(state.config.password_policy)?;
    let hash = state
        .hasher
        .hash(password.expose().to_owned(), client.into())
        .await?;
    let client = client.clone();
    let mails = state.config.mail.is_some();
    let queued = email.is_some() && mails;
    let view = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let user = insert_user(conn, &username, email.as_ref(), &hash, &[RoleName::USER])?;
            if let (Some(email), true) = (&email, mails) {
                mail::queue_verification_in(conn, user.id, email.as_str())?;
            }
            audit::record(
                conn,
                audit::Entry {
                    event: event::REGISTERED,
                    actor_id: Some(user.id),
                    subject_id: Some(user.id),
                    client: &client,
                    detail: json!({ "username": user.username }),
                },
            )?;
            UserView::load(conn, user.id)
        })
    })
    .await?;
    if queued {
        state.mail_wake.notify_one();
    }
    Ok(view)
}

/// The caller's own user object.
pub async fn me(state: &AppState, principal: &Principal) -> Result<UserView, Error> {
    let user_id = principal.user_id;
    db::run(&state.pool, move |conn| UserView::load(conn, user_id)).await
}

/// Whether `create_admin` should give way to an administrator that already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfAdminExists {
    CreateAnyway,
    DoNothing,
}

/// Creates an administrator (roles `admin` and `user`), for `authd create-admin` and the
/// bootstrap. With `DoNothing`, the check that no administrator exists and the creation are one
/// transaction: instances starting together create one administrator, not several.
pub async fn create_admin(
    state: &AppState,
    username: &str,
    password: String,
    if_exists: IfAdminExists,
) -> Result<Option<UserView>, Error> {
    let registration = Registration {
        username: username.to_owned(),
        password,
        email: None,
    };
    let (username, password, _) = registration.parse(state.config.password_policy)?;
    let hash = state
        .hasher
        .hash(password.expose().to_owned(), Requester::Operator)
        .await?;
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            User::lock_admin_changes(conn)?;
            if if_exists == IfAdminExists::DoNothing
                && User::count_with_role(conn, RoleName::ADMIN)? > 0
            {
                return Ok(None);
            }
            let roles = [RoleName::ADMIN, RoleName::USER];
            let user = insert_user(conn, &username, None, &hash, &roles)?;
            audit::record(
                conn,
                audit::Entry {
                    event: event::ADMIN_BOOTSTRAPPED,
                    actor_id: None,
                    subject_id: Some(user.id),
                    client: &ClientInfo::default(),
                    detail: json!({ "username": user.username }),
                },
            )?;
            UserView::load(conn, user.id).map(Some)
        })
    })
    .await
}

/// Why other sessions end after a password change.
const PASSWORD_CHANGED_REASON: &str = "password_changed";

/// `POST /api/auth/password`: checks the current password, stores the new one, revokes the
/// user's other sessions. The calling session stays signed in.
pub async fn change_password(
    state: &AppState,
    principal: &Principal,
    current: String,
    new: String,
    client: &ClientInfo,
) -> Result<(), Error> {
    let user_id = principal.user_id;
    let user = db::run(&state.pool, move |conn| {
        let user = User::find(conn, user_id)?.ok_or(Error::NotFound)?;
        let cleared_at = User::throttle_cleared_at(conn, user_id)?;
        Ok::<_, Error>((user, cleared_at))
    })
    .await?;
    let (user, cleared_at) = user;
    // A wrong current password counts as a failed login of this name from this address; the
    // caller is signed in, so the address is the owner's (no account-wide rationing).
    let attempt = Attempt::new(&user.username, client);
    let facts = Facts {
        cleared_at,
        known_address: true,
    };
    throttle::check(state, &attempt, facts, Some(user_id), client).await?;
    let username = Username::parse(&user.username).map_err(Error::Invalid)?;
    let checked = user.password_hash.clone();
    let typed = Password::candidates(current);
    let current_ok = state
        .hasher
        .verify(typed, user.checkable_hash(), client.into())
        .await?;
    if current_ok {
        throttle::succeeded(state, &attempt);
    } else {
        throttle::failed(state, &attempt, facts);
    }
    if !current_ok {
        // A wrong current password on a valid token may be someone else at the keyboard.
        let client = client.clone();
        db::run(&state.pool, move |conn| {
            let entry = audit::Entry {
                event: event::PASSWORD_CHANGE_FAILED,
                actor_id: Some(user_id),
                subject_id: Some(user_id),
                client: &client,
                detail: json!({ "reason": "invalid_credentials" }),
            };
            Ok::<_, Error>(audit::record(conn, entry)?)
        })
        .await?;
        return Err(Error::InvalidCredentials);
    }
    let new =
        Password::parse(new, &username, state.config.password_policy).map_err(Error::Invalid)?;
    let hash = state
        .hasher
        .hash(new.expose().to_owned(), client.into())
        .await?;
    let (keep, now, client) = (principal.session_id, Utc::now(), client.clone());
    let revoked = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            // Logins holding the row commit first and their sessions end below; later ones find
            // the new hash. A change that overtook this one leaves `current` unchecked.
            let locked = User::lock_for_update(conn, user_id)?.ok_or(Error::NotFound)?;
            if locked.password_hash != checked {
                return Err(Error::InvalidCredentials);
            }
            User::set_password_hash(conn, user_id, &hash, now)?;
            let revoked =
                sessions::end_all_of_user(conn, user_id, Some(keep), PASSWORD_CHANGED_REASON)?;
            audit::record(
                conn,
                audit::Entry {
                    event: event::PASSWORD_CHANGED,
                    actor_id: Some(user_id),
                    subject_id: Some(user_id),
                    client: &client,
                    detail: json!({ "sessions_revoked": revoked.len() }),
                },
            )?;
            Ok::<_, Error>(revoked)
        })
    })
    .await?;
    state.revocation.revoke_sessions(&revoked);
    telemetry::sessions_revoked(PASSWORD_CHANGED_REASON, revoked.len());
    Ok(())
}
