//! Users: registration, login, the user object, the first administrator.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::audit::{self, event};
use super::sessions::{LIST_LIMIT, SessionView};
use crate::auth::passwords::{HashError, Hasher};
use crate::auth::sessions::{
    SessionError, create_api_session, list_for_user, revoke_user_sessions,
};
use crate::auth::tokens::{SignError, TokenService, sorted_roles};
use crate::auth::{ClientInfo, Principal};
use crate::db::models::user::{NewUser, User};
use crate::db::schema::{roles, user_roles, users};
use crate::db::{self, DbPool, StoreError};
use crate::domain::{Email, Password, PasswordPolicy, RoleName, Username};
use crate::error::ApiError;
use crate::state::AppState;

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
    #[error("invalid grant")]
    InvalidGrant,
    #[error("role exists")]
    RoleExists,
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
                Some("roles_name_key") => Self::RoleExists,
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
            UserError::InvalidGrant => Self::InvalidGrant,
            UserError::RoleExists => Self::RoleExists,
            UserError::NotFound => Self::NotFound,
            UserError::Store(s) => s.into(),
            UserError::Hash(HashError::Busy) => Self::RateLimited {
                retry_after_secs: 1,
            },
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

fn record_failure(
    conn: &mut PgConnection,
    subject_id: Option<Uuid>,
    detail: serde_json::Value,
    client: &ClientInfo,
) -> Result<(), UserError> {
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
    .map_err(UserError::from)
}

/// Checks a username and password with one shape for every failure: an unknown name costs the
/// same hash work as a wrong password and both are `InvalidCredentials` (audited). The user is
/// returned even when disabled: what that means is the caller's decision.
pub async fn authenticate(
    pool: &DbPool,
    hasher: &Hasher,
    username: String,
    password: String,
    client: &ClientInfo,
) -> Result<User, UserError> {
    let lower = username.to_ascii_lowercase();
    let user = db::run(pool, move |conn| {
        User::find_by_username(conn, &lower).map_err(UserError::from)
    })
    .await?;
    let password_ok = hasher
        .verify(password, user.as_ref().map(|u| u.password_hash.clone()))
        .await?;
    match user {
        Some(user) if password_ok => Ok(user),
        other => {
            let subject_id = other.map(|u| u.id);
            let client = client.clone();
            db::run(pool, move |conn| {
                let detail = json!({ "username": username, "reason": "invalid_credentials" });
                record_failure(conn, subject_id, detail, &client)
            })
            .await?;
            Err(UserError::InvalidCredentials)
        }
    }
}

/// Records a login refused after a correct password (disabled account, not an administrator).
pub async fn refuse_login(
    pool: &DbPool,
    user_id: Uuid,
    reason: &'static str,
    client: &ClientInfo,
) -> Result<(), UserError> {
    let client = client.clone();
    db::run(pool, move |conn| {
        record_failure(conn, Some(user_id), json!({ "reason": reason }), &client)
    })
    .await
}

/// Records a successful login of a session just created.
pub fn record_login(
    conn: &mut PgConnection,
    user_id: Uuid,
    session_id: Uuid,
    kind: &str,
    client: &ClientInfo,
) -> Result<(), UserError> {
    User::record_login(conn, user_id, Utc::now())?;
    audit::record(
        conn,
        audit::Entry {
            event: event::LOGIN_SUCCEEDED,
            actor_id: Some(user_id),
            subject_id: Some(user_id),
            client,
            detail: json!({ "session_id": session_id, "kind": kind }),
        },
    )?;
    Ok(())
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
    let user = authenticate(pool, hasher, username, password, &client).await?;
    if user.disabled_at.is_some() {
        refuse_login(pool, user.id, "account_disabled", &client).await?;
        return Err(UserError::AccountDisabled);
    }
    let user_id = user.id;
    let (session, roles) = db::run(pool, move |conn| {
        conn.transaction(|conn| {
            let session = create_api_session(conn, user_id, refresh_ttl_secs, &client)?;
            record_login(conn, user_id, session.session.id, "api", &client)?;
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

/// `POST /api/auth/password`: checks the current password, stores the new one, revokes the user's
/// other sessions. The calling session stays signed in.
pub async fn change_password(
    state: &AppState,
    principal: &Principal,
    current: String,
    new: String,
    client: ClientInfo,
) -> Result<(), UserError> {
    let user_id = principal.user_id;
    let user = db::run(&state.pool, move |conn| {
        User::find(conn, user_id)?.ok_or(UserError::NotFound)
    })
    .await?;
    let username = Username::parse(&user.username).map_err(UserError::Invalid)?;
    if !state
        .hasher
        .verify(current, Some(user.password_hash))
        .await?
    {
        return Err(UserError::InvalidCredentials);
    }
    let new = Password::parse(new, &username, state.config.password_policy)
        .map_err(UserError::Invalid)?;
    let hash = state.hasher.hash(new.expose().to_owned()).await?;
    let keep = principal.session_id;
    let now = Utc::now();
    let revoked = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            diesel::update(users::table.find(user_id))
                .set((users::password_hash.eq(&hash), users::updated_at.eq(now)))
                .execute(conn)?;
            let revoked = revoke_user_sessions(conn, user_id, Some(keep), "password_changed", now)?;
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
            Ok::<_, UserError>(revoked)
        })
    })
    .await?;
    state.revocation.revoke_sessions(&revoked, now);
    Ok(())
}

/// Filters of the admin user list.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    pub q: Option<String>,
    pub role: Option<String>,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct UserPage {
    pub users: Vec<UserView>,
    pub page: i64,
    pub per_page: i64,
    pub total: i64,
}

impl UserQuery {
    pub const MAX_PER_PAGE: i64 = 100;
    pub const DEFAULT_PER_PAGE: i64 = 20;

    /// Clamps paging to sane bounds: page from 1, per_page 1..=100.
    pub fn new(
        q: Option<String>,
        role: Option<String>,
        page: Option<i64>,
        per_page: Option<i64>,
    ) -> Self {
        Self {
            q: q.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()),
            role: role.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
            page: super::page_number(page),
            per_page: per_page
                .unwrap_or(Self::DEFAULT_PER_PAGE)
                .clamp(1, Self::MAX_PER_PAGE),
        }
    }
}

diesel::define_sql_function! {
    /// SQL `lower()`, for the expression index on email.
    fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// `%term%` for LIKE, with the pattern characters of the term escaped.
fn like_pattern(term: &str) -> String {
    let escaped = term
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// `role_id`: the role filter, resolved to its id first so the planner sees which role it is (a
/// join on the name would estimate every role as holding half the users).
fn filtered<'a>(query: &UserQuery, role_id: Option<i32>) -> users::BoxedQuery<'a, diesel::pg::Pg> {
    let mut q = users::table.into_boxed();
    if let Some(term) = &query.q {
        let pattern = like_pattern(term);
        q = q.filter(
            users::username_lower
                .like(pattern.clone())
                .or(lower(users::email).like(pattern).assume_not_null()),
        );
    }
    if let Some(role_id) = role_id {
        q = q.filter(diesel::dsl::exists(
            user_roles::table
                .filter(user_roles::user_id.eq(users::id))
                .filter(user_roles::role_id.eq(role_id)),
        ));
    }
    q
}

/// Loads the roles of many users in one query.
fn roles_of(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<HashMap<Uuid, Vec<String>>> {
    let pairs: Vec<(Uuid, String)> = user_roles::table
        .inner_join(roles::table)
        .filter(user_roles::user_id.eq_any(ids))
        .select((user_roles::user_id, roles::name))
        .order(roles::name)
        .load(conn)?;
    let mut map: HashMap<Uuid, Vec<String>> = HashMap::new();
    for (id, name) in pairs {
        map.entry(id).or_default().push(name);
    }
    Ok(map)
}

/// Newest first; `total` counts every match, not just this page.
pub fn search(conn: &mut PgConnection, query: &UserQuery) -> Result<UserPage, UserError> {
    conn.transaction(|conn| {
        // diesel prepares and caches statements; after five runs PostgreSQL may switch one to a
        // generic plan, which cannot see a search pattern's selectivity and walks 100,000 users by
        // date instead of using the trigram indexes (measured: 4 ms -> 100 ms). Plan these
        // queries for their actual values; other queries keep their cached plans.
        diesel::sql_query("SET LOCAL plan_cache_mode = force_custom_plan").execute(conn)?;
        search_in(conn, query)
    })
}

fn search_in(conn: &mut PgConnection, query: &UserQuery) -> Result<UserPage, UserError> {
    let role_id = match &query.role {
        None => None,
        Some(name) => match roles::table
            .filter(roles::name.eq(name))
            .select(roles::id)
            .first::<i32>(conn)
            .optional()?
        {
            Some(id) => Some(id),
            // Nobody holds a role that does not exist.
            None => {
                return Ok(UserPage {
                    users: Vec::new(),
                    page: query.page,
                    per_page: query.per_page,
                    total: 0,
                });
            }
        },
    };
    let total: i64 = match (&query.q, role_id) {
        // Every holder of a role is a user (foreign key): counting the role's rows is enough, an
        // index-only scan instead of a join over every user.
        (None, Some(role_id)) => user_roles::table
            .filter(user_roles::role_id.eq(role_id))
            .count()
            .get_result(conn)?,
        _ => filtered(query, role_id).count().get_result(conn)?,
    };
    let rows: Vec<User> = filtered(query, role_id)
        .order((users::created_at.desc(), users::id.desc()))
        .limit(query.per_page)
        .offset((query.page - 1).saturating_mul(query.per_page))
        .select(User::as_select())
        .load(conn)?;
    let ids: Vec<Uuid> = rows.iter().map(|u| u.id).collect();
    let mut roles = roles_of(conn, &ids)?;
    let users = rows
        .into_iter()
        .map(|u| {
            let r = roles.remove(&u.id).unwrap_or_default();
            UserView::new(u, r)
        })
        .collect();
    Ok(UserPage {
        users,
        page: query.page,
        per_page: query.per_page,
        total,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct UserDetail {
    #[serde(flatten)]
    pub user: UserView,
    pub sessions: Vec<SessionView>,
}

pub fn detail(conn: &mut PgConnection, user_id: Uuid) -> Result<UserDetail, UserError> {
    let user = User::find(conn, user_id)?.ok_or(UserError::NotFound)?;
    let roles = User::role_names(conn, user_id)?;
    let sessions = list_for_user(conn, user_id, LIST_LIMIT)?
        .into_iter()
        .map(|s| SessionView::new(s, None))
        .collect();
    Ok(UserDetail {
        user: UserView::new(user, roles),
        sessions,
    })
}

/// Serialises every change that could leave the service without an administrator.
fn lock_admin_changes(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(4242001)")
        .execute(conn)
        .map(|_| ())
}

/// Administrators who can still sign in.
fn enabled_admins(conn: &mut PgConnection) -> QueryResult<i64> {
    user_roles::table
        .inner_join(roles::table)
        .inner_join(users::table.on(users::id.eq(user_roles::user_id)))
        .filter(roles::name.eq(RoleName::ADMIN))
        .filter(users::disabled_at.is_null())
        .count()
        .get_result(conn)
}

/// Replaces a user's roles. Tokens issued before the change stop working at once; the next
/// refresh carries the new roles.
pub async fn set_roles(
    state: &AppState,
    actor: &Principal,
    user_id: Uuid,
    requested: Vec<String>,
    client: ClientInfo,
) -> Result<UserView, UserError> {
    let mut names = requested
        .iter()
        .map(|r| RoleName::parse(r).map(|n| n.as_str().to_owned()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(UserError::Invalid)?;
    names.sort();
    names.dedup();
    let actor_id = actor.user_id;
    let now = Utc::now();
    let view = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            lock_admin_changes(conn)?;
            let user = User::find(conn, user_id)?.ok_or(UserError::NotFound)?;
            let known: Vec<(i32, String)> = roles::table
                .filter(roles::name.eq_any(&names))
                .select((roles::id, roles::name))
                .load(conn)?;
            if let Some(unknown) = names.iter().find(|n| !known.iter().any(|(_, k)| k == *n)) {
                return Err(UserError::Invalid(format!("unknown role {unknown:?}")));
            }
            let before = User::role_names(conn, user_id)?;
            let loses_admin = before.iter().any(|r| r == RoleName::ADMIN)
                && !names.iter().any(|r| r == RoleName::ADMIN);
            if loses_admin && user_id == actor_id {
                return Err(UserError::Invalid(
                    "you cannot remove your own admin role".into(),
                ));
            }
            if loses_admin && user.disabled_at.is_none() && enabled_admins(conn)? <= 1 {
                return Err(UserError::Invalid(
                    "the last administrator cannot lose the admin role".into(),
                ));
            }
            diesel::delete(user_roles::table.filter(user_roles::user_id.eq(user_id)))
                .execute(conn)?;
            let rows: Vec<_> = known
                .iter()
                .map(|(role_id, _)| {
                    (
                        user_roles::user_id.eq(user_id),
                        user_roles::role_id.eq(*role_id),
                        user_roles::granted_by.eq(Some(actor_id)),
                    )
                })
                .collect();
            diesel::insert_into(user_roles::table)
                .values(&rows)
                .execute(conn)?;
            let user = bump_watermark(conn, user_id, now)?;
            audit::record(
                conn,
                audit::Entry {
                    event: event::ROLES_CHANGED,
                    actor_id: Some(actor_id),
                    subject_id: Some(user_id),
                    client: &client,
                    detail: json!({ "before": before, "after": names }),
                },
            )?;
            let roles = User::role_names(conn, user_id)?;
            Ok(UserView::new(user, roles))
        })
    })
    .await?;
    state.revocation.raise_watermark(user_id, now);
    Ok(view)
}

fn bump_watermark(conn: &mut PgConnection, user_id: Uuid, now: DateTime<Utc>) -> QueryResult<User> {
    diesel::update(users::table.find(user_id))
        .set((users::tokens_valid_after.eq(now), users::updated_at.eq(now)))
        .returning(User::as_returning())
        .get_result(conn)
}

/// Disables (revoking every session and token) or re-enables an account.
pub async fn set_disabled(
    state: &AppState,
    actor: &Principal,
    user_id: Uuid,
    disable: bool,
    client: ClientInfo,
) -> Result<UserView, UserError> {
    if disable && user_id == actor.user_id {
        return Err(UserError::Invalid(
            "you cannot disable your own account".into(),
        ));
    }
    let actor_id = actor.user_id;
    let now = Utc::now();
    let (view, revoked) = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            lock_admin_changes(conn)?;
            let user = User::find(conn, user_id)?.ok_or(UserError::NotFound)?;
            let roles = User::role_names(conn, user_id)?;
            let is_admin = roles.iter().any(|r| r == RoleName::ADMIN);
            if disable && is_admin && user.disabled_at.is_none() && enabled_admins(conn)? <= 1 {
                return Err(UserError::Invalid(
                    "the last administrator cannot be disabled".into(),
                ));
            }
            let (user, revoked) = if disable {
                diesel::update(users::table.find(user_id))
                    .set(users::disabled_at.eq(user.disabled_at.unwrap_or(now)))
                    .execute(conn)?;
                let revoked = revoke_user_sessions(conn, user_id, None, "user_disabled", now)?;
                (bump_watermark(conn, user_id, now)?, revoked)
            } else {
                let user = diesel::update(users::table.find(user_id))
                    .set((
                        users::disabled_at.eq(None::<DateTime<Utc>>),
                        users::updated_at.eq(now),
                    ))
                    .returning(User::as_returning())
                    .get_result(conn)?;
                (user, Vec::new())
            };
            audit::record(
                conn,
                audit::Entry {
                    event: if disable {
                        event::USER_DISABLED
                    } else {
                        event::USER_ENABLED
                    },
                    actor_id: Some(actor_id),
                    subject_id: Some(user_id),
                    client: &client,
                    detail: json!({ "sessions_revoked": revoked.len() }),
                },
            )?;
            Ok::<_, UserError>((UserView::new(user, roles), revoked))
        })
    })
    .await?;
    if disable {
        state.revocation.revoke_sessions(&revoked, now);
        state.revocation.raise_watermark(user_id, now);
    }
    Ok(view)
}
