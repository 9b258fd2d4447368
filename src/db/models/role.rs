//! `roles`: named sets of permissions that users hold through `user_roles`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::{roles, user_roles};
use crate::domain::RoleName;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = roles)]
pub struct Role {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

impl Role {
    pub fn insert(conn: &mut PgConnection, name: &str, description: &str) -> QueryResult<Role> {
        diesel::insert_into(roles::table)
            .values((roles::name.eq(name), roles::description.eq(description)))
            .returning(Role::as_returning())
            .get_result(conn)
    }

    /// A role created at `at` rather than now (demo data).
    pub fn insert_at(
        conn: &mut PgConnection,
        name: &str,
        description: &str,
        at: DateTime<Utc>,
    ) -> QueryResult<Role> {
        diesel::insert_into(roles::table)
            .values((
                roles::name.eq(name),
                roles::description.eq(description),
                roles::created_at.eq(at),
            ))
            .returning(Role::as_returning())
            .get_result(conn)
    }

    /// Every role with its member count, by name.
    pub fn all_with_members(conn: &mut PgConnection) -> QueryResult<Vec<(Role, i64)>> {
        let rows: Vec<(Role, Option<i64>)> = roles::table
            .left_join(user_roles::table)
            .group_by((
                roles::id,
                roles::name,
                roles::description,
                roles::created_at,
            ))
            .select((
                Role::as_select(),
                diesel::dsl::count(user_roles::user_id.nullable()).nullable(),
            ))
            .order(roles::name)
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|(role, members)| (role, members.unwrap_or(0)))
            .collect())
    }

    pub fn names(conn: &mut PgConnection) -> QueryResult<Vec<String>> {
        roles::table
            .select(roles::name)
            .order(roles::name)
            .load(conn)
    }

    /// The roles among `names` that exist.
    pub fn named(conn: &mut PgConnection, names: &[String]) -> QueryResult<Vec<Role>> {
        roles::table
            .filter(roles::name.eq_any(names))
            .select(Role::as_select())
            .load(conn)
    }

    /// The role a typed name names; a name that cannot be a role name names none (and is not
    /// sent to the database: PostgreSQL text cannot hold NUL).
    pub fn id_of(conn: &mut PgConnection, name: &str) -> QueryResult<Option<i32>> {
        if RoleName::parse(name).is_err() {
            return Ok(None);
        }
        roles::table
            .filter(roles::name.eq(name))
            .select(roles::id)
            .first(conn)
            .optional()
    }
}
