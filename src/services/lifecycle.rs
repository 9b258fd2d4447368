//! An account's life as administrators shape it: creating one (with or without a password),
//! changing its username and email, and deleting it. The same rules as registration (the domain
//! types), every change in one transaction with the checks it depends on, each audited.

use chrono::Utc;
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::Error;
use super::accounts::UserView;
use super::audit::{self, event};
use crate::db::models::role::Role;
use crate::db::models::user::{NO_PASSWORD, NewUser, User};
use crate::db::models::user_tombstone::UserTombstone;
use crate::db::{self};
use crate::domain::{ClientInfo, Email, Password, Principal, RoleName, Username};
use crate::state::AppState;

/// An account as an administrator submits it. Without `password` the account cannot log in until
/// a reset link sets one; without `roles` it gets `user`, like a registration.
#[derive(Debug, Default)]
pub struct NewAccount {
    pub username: String,
    pub email: Option<String>,
    pub password: Option<String>,
    pub roles: Option<Vec<String>>,
}

/// An email as typed: blank means none, as at registration.
fn parse_email(raw: Option<String>) -> Result<Option<Email>, Error> {
    raw.filter(|e| !e.trim().is_empty())
        .map(|e| Email::parse(&e))
        .transpose()
        .map_err(Error::Invalid)
}

/// Role names parsed, sorted and without repeats.
fn parse_roles(raw: Vec<String>) -> Result<Vec<String>, Error> {
    let mut names = raw
        .iter()
        .map(|r| RoleName::parse(r).map(|n| n.as_str().to_owned()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::Invalid)?;
    names.sort();
    names.dedup();
    Ok(names)
}

/// `POST /api/admin/users`.
pub async fn create(
    state: &AppState,
    actor: &Principal,
    account: NewAccount,
    client: &ClientInfo,
) -> Result<UserView, Error> {
    let username = Username::parse(&account.username).map_err(Error::Invalid)?;
    let password = account
        .password
        .map(|p| Password::parse(p, &username, state.config.password_policy))
        .transpose()
        .map_err(Error::Invalid)?;
    let email = parse_email(account.email)?;
    let roles = parse_roles(
        account
            .roles
            .unwrap_or_else(|| vec![RoleName::USER.to_owned()]),
    )?;
    let hash = match password {
        Some(p) => Some(
            state
                .hasher
                .hash(p.expose().to_owned(), client.into())
                .await?,
        ),
        None => None,
    };
    let (actor_id, client) = (actor.user_id, client.clone());
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let known = Role::named(conn, &roles)?;
            if let Some(unknown) = roles.iter().find(|n| !known.iter().any(|k| &k.name == *n)) {
                return Err(Error::Invalid(format!("unknown role {unknown:?}")));
            }
            let lower = username.lower();
            let user = User::insert(
                conn,
                &NewUser {
                    id: Uuid::now_v7(),
                    username: username.as_str(),
                    username_lower: &lower,
                    email: email.as_ref().map(Email::as_str),
                    password_hash: hash.as_deref().unwrap_or(NO_PASSWORD),
                },
            )?;
            let ids: Vec<i32> = known.iter().map(|r| r.id).collect();
            User::replace_roles(conn, user.id, &ids, Some(actor_id))?;
            audit::record(
                conn,
                audit::Entry {
                    event: event::USER_CREATED,
                    actor_id: Some(actor_id),
                    subject_id: Some(user.id),
                    client: &client,
                    detail: json!({
                        "username": user.username,
                        "roles": roles,
                        "password_set": hash.is_some(),
                    }),
                },
            )?;
            UserView::load(conn, user.id)
        })
    })
    .await
}

/// What `PATCH /api/admin/users/{id}` changes: a field left `None` stays; `email: Some(None)`
/// clears the address.
#[derive(Debug, Default)]
pub struct ProfileChange {
    pub username: Option<String>,
    pub email: Option<Option<String>>,
}

/// Changes an account's username and email. A new username (even in letter case only) ends the
/// user's access tokens at once: they carry the old one.
pub async fn update(
    state: &AppState,
    actor: &Principal,
    user_id: Uuid,
    change: ProfileChange,
    client: &ClientInfo,
) -> Result<UserView, Error> {
    let username = change
        .username
        .map(|u| Username::parse(&u))
        .transpose()
        .map_err(Error::Invalid)?;
    let email = change.email.map(parse_email).transpose()?;
    let (actor_id, client) = (actor.user_id, client.clone());
    let (view, watermark) = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            // Logins and refreshes holding the row commit first: the watermark below postdates
            // every token carrying the old name.
            let before = User::lock_for_update(conn, user_id)?.ok_or(Error::NotFound)?;
            let username = match username {
                Some(u) => u,
                None => Username::parse(&before.username).map_err(Error::Invalid)?,
            };
            let email = match email {
                Some(e) => e.map(|e| e.as_str().to_owned()),
                None => before.email.clone(),
            };
            let renamed = username.as_str() != before.username;
            let email_changed = email.as_deref().map(str::to_lowercase)
                != before.email.as_deref().map(str::to_lowercase);
            if !renamed && email == before.email {
                return Ok::<_, Error>((UserView::load(conn, user_id)?, None));
            }
            let mut user =
                User::set_profile(conn, user_id, &username, email.as_deref(), Utc::now())?;
            let watermark = if renamed {
                user = User::raise_watermark(conn, user_id)?;
                Some(user.tokens_valid_after)
            } else {
                None
            };
            audit::record(
                conn,
                audit::Entry {
                    event: event::USER_UPDATED,
                    actor_id: Some(actor_id),
                    subject_id: Some(user_id),
                    client: &client,
                    detail: json!({
                        "username": user.username,
                        "username_before": before.username,
                        "email_changed": email_changed,
                    }),
                },
            )?;
            let roles = User::role_names(conn, user_id)?;
            Ok((UserView::new(user, roles), watermark))
        })
    })
    .await?;
    if let Some(watermark) = watermark {
        state.revocation.raise_watermark(user_id, watermark);
    }
    Ok(view)
}

/// Deletes an account with its sessions, refresh tokens and reset links; its audit events stay.
/// Its access tokens stop working at once here and, through the tombstone, on every instance
/// within the sync bound. Not yourself, not the last enabled administrator.
pub async fn delete(
    state: &AppState,
    actor: &Principal,
    user_id: Uuid,
    client: &ClientInfo,
) -> Result<(), Error> {
    if user_id == actor.user_id {
        return Err(Error::Invalid("you cannot delete your own account".into()));
    }
    let (actor_id, client) = (actor.user_id, client.clone());
    let keep_secs = state.revocation.horizon().num_seconds();
    let deleted_at = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            User::lock_admin_changes(conn)?;
            let user = User::lock_for_update(conn, user_id)?.ok_or(Error::NotFound)?;
            let roles = User::role_names(conn, user_id)?;
            let is_admin = roles.iter().any(|r| r == RoleName::ADMIN);
            if is_admin && user.disabled_at.is_none() && User::count_enabled_admins(conn)? <= 1 {
                return Err(Error::Invalid(
                    "the last administrator cannot be deleted".into(),
                ));
            }
            audit::record(
                conn,
                audit::Entry {
                    event: event::USER_DELETED,
                    actor_id: Some(actor_id),
                    subject_id: Some(user_id),
                    client: &client,
                    detail: json!({ "username": user.username, "roles": roles }),
                },
            )?;
            User::delete(conn, user_id)?;
            Ok::<_, Error>(UserTombstone::insert(conn, user_id, keep_secs)?)
        })
    })
    .await?;
    state.revocation.raise_watermark(user_id, deleted_at);
    Ok(())
}
