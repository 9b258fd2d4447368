//! Roles: the list (with member counts) and creation.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;

use super::audit::{self, event};
use super::users::UserError;
use crate::auth::ClientInfo;
use crate::db::models::role::Role;
use crate::db::schema::{roles, user_roles};
use crate::domain::RoleName;

#[derive(Debug, Clone, Serialize)]
pub struct RoleView {
    pub name: String,
    pub description: String,
    pub members: i64,
    pub created_at: DateTime<Utc>,
}

pub fn list(conn: &mut PgConnection) -> Result<Vec<RoleView>, UserError> {
    let rows: Vec<(String, String, DateTime<Utc>, Option<i64>)> = roles::table
        .left_join(user_roles::table)
        .group_by((
            roles::id,
            roles::name,
            roles::description,
            roles::created_at,
        ))
        .select((
            roles::name,
            roles::description,
            roles::created_at,
            diesel::dsl::count(user_roles::user_id.nullable()).nullable(),
        ))
        .order(roles::name)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(name, description, created_at, members)| RoleView {
            name,
            description,
            members: members.unwrap_or(0),
            created_at,
        })
        .collect())
}

/// Role names only, for filters and forms: no counting.
pub fn names(conn: &mut PgConnection) -> Result<Vec<String>, UserError> {
    Ok(roles::table
        .select(roles::name)
        .order(roles::name)
        .load(conn)?)
}

pub const MAX_DESCRIPTION: usize = 200;

pub fn create(
    conn: &mut PgConnection,
    actor_id: uuid::Uuid,
    name: &str,
    description: &str,
    client: &ClientInfo,
) -> Result<RoleView, UserError> {
    let name = RoleName::parse(name).map_err(UserError::Invalid)?;
    let description = description.trim();
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(UserError::Invalid(format!(
            "description must be at most {MAX_DESCRIPTION} characters"
        )));
    }
    conn.transaction(|conn| {
        let role: Role = diesel::insert_into(roles::table)
            .values((
                roles::name.eq(name.as_str()),
                roles::description.eq(description),
            ))
            .returning(Role::as_returning())
            .get_result(conn)?;
        audit::record(
            conn,
            audit::Entry {
                event: event::ROLE_CREATED,
                actor_id: Some(actor_id),
                subject_id: None,
                client,
                detail: json!({ "name": name.as_str(), "description": description }),
            },
        )?;
        Ok(RoleView {
            name: role.name,
            description: role.description,
            members: 0,
            created_at: role.created_at,
        })
    })
}
