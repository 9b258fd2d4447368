//! Users: registration, login, the user object, the first administrator.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, event};
use crate::auth::ClientInfo;
use crate::auth::passwords::{HashError, Hasher};
use crate::auth::sessions::{SessionError, create_api_session};
use crate::auth::tokens::{SignError, TokenService, sorted_roles};
use crate::db::models::user::{NewUser, User};
use crate::db::{self, DbPool, StoreError};
use crate::domain::{Email, Password, PasswordPolicy, RoleName, Username};
use crate::error::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("{0}")]
    Invalid(String),
    #[error("username taken")]
    UsernameTaken,
    #[error("email taken")]
    EmailTaken,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("account disabled")]
    AccountDisabled,
    #[error("no such user")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Sign(#[from] SignError),
}

impl From<DieselError> for UserError {
    fn from(e: DieselError) -> Self {
        if let DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) = &e {
            return match info.constraint_name() {
                Some("users_email_lower_key") => Self::EmailTaken,
                _ => Self::UsernameTaken,
            };
        }
        Self::Store(e.into())
    }
}

impl From<SessionError> for UserError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Query(q) => q.into(),
            SessionError::Random(r) => Self::Sign(SignError::from_message(r)),
        }
    }
}

impl From<UserError> for ApiError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::Invalid(detail) => Self::InvalidRequest(detail),
            UserError::UsernameTaken => Self::UsernameTaken,
            UserError::EmailTaken => Self::EmailTaken,
            UserError::InvalidCredentials => Self::InvalidCredentials,
            UserError::AccountDisabled => Self::AccountDisabled,
            UserError::NotFound => Self::NotFound,
            UserError::Store(s) => s.into(),
            UserError::Hash(h) => Self::internal(h),
            UserError::Sign(s) => Self::internal(s),
        }
    }
}

/// The user object of the contract. Built from a row plus its roles; never carries the hash.
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    pub email: Option<String>,
    pub roles: Vec<String>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl UserView {
    pub fn new(user: User, roles: Vec<String>) -> Self {
        Self {
            id: user.id,
            username: user.username,
            email: user.email,
            roles,
            disabled: user.disabled_at.is_some(),
            created_at: user.created_at,
            last_login_at: user.last_login_at,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenPair {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
    pub refresh_expires_in: i64,
    pub session_id: Uuid,
}

pub struct Registration {
    pub username: String,
    pub password: String,
    pub email: Option<String>,
}

fn parse_registration(
    r: Registration,
    policy: PasswordPolicy,
) -> Result<(Username, Password, Option<Email>), UserError> {
    let username = Username::parse(&r.username).map_err(UserError::Invalid)?;
    let password = Password::parse(r.password, &username, policy).map_err(UserError::Invalid)?;
    let email = r
        .email
        .filter(|e| !e.trim().is_empty())
        .map(|e| Email::parse(&e))
        .transpose()
        .map_err(UserError::Invalid)?;
    Ok((username, password, email))
}

/// Inserts a user with `roles`, in the caller's transaction.
fn insert_user(
    conn: &mut PgConnection,
    username: &Username,
    email: Option<&Email>,
    password_hash: &str,
    roles: &[&str],
) -> Result<User, UserError> {
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

pub async fn register(
    pool: &DbPool,
    hasher: &Hasher,
    policy: PasswordPolicy,
    registration: Registration,
    client: ClientInfo,
) -> Result<UserView, UserError> {
    let (username, password, email) = parse_registration(registration, policy)?;
    let hash = hasher.hash(password.expose().to_owned()).await?;
    db::run(pool, move |conn| {
        conn.transaction(|conn| {
            let user = insert_user(conn, &username, email.as_ref(), &hash, &[RoleName::USER])?;
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
            let roles = User::role_names(conn, user.id)?;
            Ok(UserView::new(user, roles))
        })
    })
    .await
}

pub async fn login(
    pool: &DbPool,
    hasher: &Hasher,
    tokens: &TokenService,
    refresh_ttl_secs: i64,
    username: String,
    password: String,
    client: ClientInfo,
) -> Result<TokenPair, UserError> {
    // A name that could never be registered is looked up anyway (and found absent), so every
    // failure takes the same path and the same hash work.
    let lower = username.to_ascii_lowercase();
    let user = db::run(pool, move |conn| {
        User::find_by_username(conn, &lower).map_err(UserError::from)
    })
    .await?;
    let password_ok = hasher
        .verify(password, user.as_ref().map(|u| u.password_hash.clone()))
        .await?;

    let user = match user {
        Some(user) if password_ok => user,
        other => {
            let subject_id = other.map(|u| u.id);
            let failed = client.clone();
            db::run(pool, move |conn| {
                audit::record(
                    conn,
                    audit::Entry {
                        event: event::LOGIN_FAILED,
                        actor_id: None,
                        subject_id,
                        client: &failed,
                        detail: json!({ "username": username, "reason": "invalid_credentials" }),
                    },
                )
                .map_err(UserError::from)
            })
            .await?;
            return Err(UserError::InvalidCredentials);
        }
    };

    if user.disabled_at.is_some() {
        let user_id = user.id;
        db::run(pool, move |conn| {
            audit::record(
                conn,
                audit::Entry {
                    event: event::LOGIN_FAILED,
                    actor_id: Some(user_id),
                    subject_id: Some(user_id),
                    client: &client,
                    detail: json!({ "reason": "account_disabled" }),
                },
            )
            .map_err(UserError::from)
        })
        .await?;
        return Err(UserError::AccountDisabled);
    }

    let user_id = user.id;
    let (session, roles) = db::run(pool, move |conn| {
        conn.transaction(|conn| {
            let session = create_api_session(conn, user_id, refresh_ttl_secs, &client)?;
            User::record_login(conn, user_id, Utc::now())?;
            audit::record(
                conn,
                audit::Entry {
                    event: event::LOGIN_SUCCEEDED,
                    actor_id: Some(user_id),
                    subject_id: Some(user_id),
                    client: &client,
                    detail: json!({ "session_id": session.session.id, "kind": "api" }),
                },
            )?;
            let roles = User::role_names(conn, user_id)?;
            Ok::<_, UserError>((session, roles))
        })
    })
    .await?;

    let access = tokens.issue(
        user.id,
        &user.username,
        sorted_roles(roles),
        session.session.id,
    )?;
    Ok(TokenPair {
        access_token: access.token,
        token_type: "Bearer",
        expires_in: access.expires_in,
        refresh_token: session.refresh_token,
        refresh_expires_in: session.refresh_expires_in,
        session_id: session.session.id,
    })
}

pub async fn find_view(pool: &DbPool, user_id: Uuid) -> Result<UserView, UserError> {
    db::run(pool, move |conn| {
        let user = User::find(conn, user_id)?.ok_or(UserError::NotFound)?;
        let roles = User::role_names(conn, user_id)?;
        Ok(UserView::new(user, roles))
    })
    .await
}

/// Creates an administrator (roles `admin` and `user`). Used by `create-admin` and the bootstrap.
pub fn create_admin(
    conn: &mut PgConnection,
    username: &str,
    password: String,
    policy: PasswordPolicy,
    password_hash: impl FnOnce(&Password) -> Result<String, HashError>,
) -> Result<UserView, UserError> {
    let (username, password, _) = parse_registration(
        Registration {
            username: username.to_owned(),
            password,
            email: None,
        },
        policy,
    )?;
    let hash = password_hash(&password)?;
    conn.transaction(|conn| {
        let user = insert_user(
            conn,
            &username,
            None,
            &hash,
            &[RoleName::ADMIN, RoleName::USER],
        )?;
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
        let roles = User::role_names(conn, user.id)?;
        Ok(UserView::new(user, roles))
    })
}

pub fn admin_exists(conn: &mut PgConnection) -> Result<bool, UserError> {
    Ok(User::count_with_role(conn, RoleName::ADMIN)? > 0)
}
