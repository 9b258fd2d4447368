//! Password-reset links: issued by an administrator (or, with no actor, by forgot-password) and
//! used once to set a new password. The token is 256 random bits, URL-safe, stored only as its
//! SHA-256; a user has at most one live link (a newer one voids the older), and using it ends every
//! session of the user, in the same transaction that sets the password.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::Error;
use super::audit::{self, event};
use super::sessions;
use crate::auth::secrets::{hash_secret, new_secret};
use crate::config::Config;
use crate::db::models::password_reset::PasswordReset;
use crate::db::models::user::User;
use crate::db::{self};
use crate::domain::{ClientInfo, Password, Principal, Username};
use crate::state::AppState;
use crate::telemetry;

/// Why sessions end when a reset link is used.
const RESET_REASON: &str = "password_reset";

/// A link just issued. `token` goes to whoever hands the link over (the page, the mail); it is
/// never stored or logged.
#[derive(Debug, Clone)]
pub struct IssuedReset {
    /// `AUTHD_PUBLIC_URL` + `/reset-password?token=...`
    pub url: String,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// The link a token is used at.
pub fn reset_url(config: &Config, token: &str) -> String {
    format!("{}/reset-password?token={token}", config.public_url)
}

/// Issues a link for `user_id` in the caller's transaction (so forgot-password can queue its mail
/// in the same one): locks the user row, voids the user's older links, audits
/// `password_reset_issued` (`actor_id` `None`: the user asked for it). `NotFound` when there is no
/// such user.
pub fn issue_in(
    conn: &mut PgConnection,
    config: &Config,
    actor_id: Option<Uuid>,
    user_id: Uuid,
    client: &ClientInfo,
) -> Result<IssuedReset, Error> {
    let user = User::lock_for_update(conn, user_id)?.ok_or(Error::NotFound)?;
    let (token, hash) = new_secret()?;
    let expires_at =
        PasswordReset::replace_for_user(conn, user_id, &hash, config.reset_ttl_secs, actor_id)?;
    audit::record(
        conn,
        audit::Entry {
            event: event::PASSWORD_RESET_ISSUED,
            actor_id,
            subject_id: Some(user_id),
            client,
            detail: json!({ "username": user.username, "expires_at": expires_at }),
        },
    )?;
    Ok(IssuedReset {
        url: reset_url(config, &token),
        token,
        expires_at,
    })
}

/// Issues a link for `user_id`: an administrator's (`actor`) or, with `None`, the user's own
/// request. Each issue voids the links issued before it.
pub async fn issue(
    state: &AppState,
    actor: Option<&Principal>,
    user_id: Uuid,
    client: &ClientInfo,
) -> Result<IssuedReset, Error> {
    let (actor_id, client) = (actor.map(|a| a.user_id), client.clone());
    let config = state.config.clone();
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| issue_in(conn, &config, actor_id, user_id, &client))
    })
    .await
}

/// Uses a link: sets `new_password` (the usual policy) and ends every session of the user. A token
/// that is unknown, used, voided by a newer one or expired is `InvalidGrant`; of concurrent uses
/// of one token exactly one succeeds.
pub async fn redeem(
    state: &AppState,
    token: &str,
    new_password: String,
    client: &ClientInfo,
) -> Result<(), Error> {
    let hash = hash_secret(token);
    let lookup = hash.clone();
    let found = db::run(&state.pool, move |conn| {
        let Some(reset) = PasswordReset::find_live(conn, &lookup)? else {
            return Ok::<_, Error>(None);
        };
        Ok(User::find(conn, reset.user_id)?.map(|u| (reset, u)))
    })
    .await?;
    let (reset, user) = found.ok_or(Error::InvalidGrant)?;
    let username = Username::parse(&user.username).map_err(Error::Invalid)?;
    let password = Password::parse(new_password, &username, state.config.password_policy)
        .map_err(Error::Invalid)?;
    let new_hash = state
        .hasher
        .hash(password.expose().to_owned(), client.into())
        .await?;
    let (user_id, client) = (reset.user_id, client.clone());
    let revoked = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            // The user row before the link's, like every change of the user: an issue racing
            // this one queues behind it instead of deadlocking.
            User::lock_for_update(conn, user_id)?.ok_or(Error::InvalidGrant)?;
            if !PasswordReset::consume(conn, &hash)? {
                return Err(Error::InvalidGrant);
            }
            User::set_password_hash(conn, user_id, &new_hash, Utc::now())?;
            let revoked = sessions::end_all_of_user(conn, user_id, None, RESET_REASON)?;
            audit::record(
                conn,
                audit::Entry {
                    event: event::PASSWORD_RESET_USED,
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
    telemetry::sessions_revoked(RESET_REASON, revoked.len());
    Ok(())
}
