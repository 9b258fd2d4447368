//! What administrators do to an account besides its roles: disable and enable it.

use chrono::Utc;
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::Error;
use super::accounts::UserView;
use super::audit::{self, event};
use super::sessions;
use crate::db::models::user::User;
use crate::db::{self};
use crate::domain::{ClientInfo, Principal, RoleName};
use crate::state::AppState;
use crate::telemetry;

/// Why sessions end when their user is disabled.
const DISABLED_REASON: &str = "user_disabled";

/// Disables an account (revoking every session and access token) or enables it again. An
/// administrator cannot disable themselves, and the last enabled administrator stays enabled.
pub async fn set_disabled(
    state: &AppState,
    actor: &Principal,
    user_id: Uuid,
    disable: bool,
    client: &ClientInfo,
) -> Result<UserView, Error> {
    if disable && user_id == actor.user_id {
        return Err(Error::Invalid("you cannot disable your own account".into()));
    }
    let (actor_id, now, client) = (actor.user_id, Utc::now(), client.clone());
    let (view, revoked, watermark) = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            User::lock_admin_changes(conn)?;
            let user = User::lock_for_update(conn, user_id)?.ok_or(Error::NotFound)?;
            let roles = User::role_names(conn, user_id)?;
            let is_admin = roles.iter().any(|r| r == RoleName::ADMIN);
            if disable
                && is_admin
                && user.disabled_at.is_none()
                && User::count_enabled_admins(conn)? <= 1
            {
                return Err(Error::Invalid(
                    "the last administrator cannot be disabled".into(),
                ));
            }
            let (user, revoked, watermark) = if disable {
                User::set_disabled(conn, user_id, Some(user.disabled_at.unwrap_or(now)), now)?;
                let revoked = sessions::end_all_of_user(conn, user_id, None, DISABLED_REASON)?;
                let user = User::raise_watermark(conn, user_id)?;
                let watermark = Some(user.tokens_valid_after);
                (user, revoked, watermark)
            } else {
                (
                    User::set_disabled(conn, user_id, None, now)?,
                    Vec::new(),
                    None,
                )
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
            Ok::<_, Error>((UserView::new(user, roles), revoked, watermark))
        })
    })
    .await?;
    state.revocation.revoke_sessions(&revoked);
    telemetry::sessions_revoked(DISABLED_REASON, revoked.len());
    if let Some(watermark) = watermark {
        state.revocation.raise_watermark(user_id, watermark);
    }
    Ok(view)
}
