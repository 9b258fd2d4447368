//! Roles: the list (with member counts), creation, and assigning a user's set of roles. Names are
//! parsed by `RoleName` (surrounding whitespace dropped) wherever they come from, so both faces
//! answer the same input the same way.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Error;
use super::accounts::UserView;
use super::audit::{self, event};
use crate::db::models::role::Role;
use crate::db::models::user::User;
use crate::db::{self};
use crate::domain::{ClientInfo, Principal, RoleName};
use crate::state::AppState;

/// A role with its member count.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Role)]
pub struct RoleView {
    /// 1 to 32 characters of `a-z`, `0-9`, `_` and `-`.
    #[schema(example = "billing")]
    pub name: String,
    #[schema(example = "Reads invoices")]
    pub description: String,
    /// How many users hold the role.
    pub members: i64,
    pub created_at: DateTime<Utc>,
}

impl RoleView {
    fn new(role: Role, members: i64) -> Self {
        Self {
            name: role.name,
            description: role.description,
            members,
            created_at: role.created_at,
        }
    }
}

/// Every role with its member count, in the caller's connection.
pub fn list_in(conn: &mut PgConnection) -> QueryResult<Vec<RoleView>> {
    Ok(Role::all_with_members(conn)?
        .into_iter()
        .map(|(role, members)| RoleView::new(role, members))
        .collect())
}

pub async fn list(state: &AppState) -> Result<Vec<RoleView>, Error> {
    db::run(&state.pool, |conn| Ok(list_in(conn)?)).await
}

pub const MAX_DESCRIPTION: usize = 200;

pub async fn create(
    state: &AppState,
    actor: &Principal,
    name: &str,
    description: &str,
    client: &ClientInfo,
) -> Result<RoleView, Error> {
    let name = RoleName::parse(name).map_err(Error::Invalid)?;
    let description = description.trim().to_owned();
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(Error::Invalid(format!(
            "description must be at most {MAX_DESCRIPTION} characters"
        )));
    }
    if description.chars().any(char::is_control) {
        return Err(Error::Invalid(
            "description must be one line of text, without control characters".into(),
        ));
    }
    let (actor_id, client) = (actor.user_id, client.clone());
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let role = Role::insert(conn, name.as_str(), &description)?;
            audit::record(
                conn,
                audit::Entry {
                    event: event::ROLE_CREATED,
                    actor_id: Some(actor_id),
                    subject_id: None,
                    client: &client,
                    detail: json!({ "name": name.as_str(), "description": description }),
                },
            )?;
            Ok(RoleView::new(role, 0))
        })
    })
    .await
}

/// Replaces a user's roles. Tokens issued before the change stop working at once; the next
/// refresh carries the new roles. An administrator cannot drop their own admin role, and the
/// last enabled administrator keeps it.
pub async fn assign(
    state: &AppState,
    actor: &Principal,
    user_id: Uuid,
    requested: Vec<String>,
    client: &ClientInfo,
) -> Result<UserView, Error> {
    let mut names = requested
        .iter()
        .map(|r| RoleName::parse(r).map(|n| n.as_str().to_owned()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::Invalid)?;
    names.sort();
    names.dedup();
    let (actor_id, client) = (actor.user_id, client.clone());
    let (view, watermark) = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            User::lock_admin_changes(conn)?;
            // Logins and refreshes holding the row commit first: the watermark below postdates
            // every token signed with the roles replaced here.
            let user = User::lock_for_update(conn, user_id)?.ok_or(Error::NotFound)?;
            let known = Role::named(conn, &names)?;
            if let Some(unknown) = names.iter().find(|n| !known.iter().any(|k| &k.name == *n)) {
                return Err(Error::Invalid(format!("unknown role {unknown:?}")));
            }
            let before = User::role_names(conn, user_id)?;
            let loses_admin = before.iter().any(|r| r == RoleName::ADMIN)
                && !names.iter().any(|r| r == RoleName::ADMIN);
            if loses_admin && user_id == actor_id {
                return Err(Error::Invalid(
                    "you cannot remove your own admin role".into(),
                ));
            }
            if loses_admin && user.disabled_at.is_none() && User::count_enabled_admins(conn)? <= 1 {
                return Err(Error::Invalid(
                    "the last administrator cannot lose the admin role".into(),
                ));
            }
            let ids: Vec<i32> = known.iter().map(|r| r.id).collect();
            User::replace_roles(conn, user_id, &ids, Some(actor_id))?;
            let user = User::raise_watermark(conn, user_id)?;
            let watermark = user.tokens_valid_after;
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
            Ok((UserView::new(user, roles), watermark))
        })
    })
    .await?;
    state.revocation.raise_watermark(user_id, watermark);
    Ok(view)
}
