use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{roles, user_roles, users};

/// A user row. `password_hash` is deliberately not `Serialize`: nothing here is.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: Uuid,
    pub username: String,
    pub username_lower: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub disabled_at: Option<DateTime<Utc>>,
    pub tokens_valid_after: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: Uuid,
    pub username: &'a str,
    pub username_lower: &'a str,
    pub email: Option<&'a str>,
    pub password_hash: &'a str,
}

impl User {
    pub fn insert(conn: &mut PgConnection, new: &NewUser<'_>) -> QueryResult<User> {
        diesel::insert_into(users::table)
            .values(new)
            .returning(User::as_returning())
            .get_result(conn)
    }

    pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<User>> {
        users::table
            .find(id)
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    pub fn find_by_username(
        conn: &mut PgConnection,
        username_lower: &str,
    ) -> QueryResult<Option<User>> {
        users::table
            .filter(users::username_lower.eq(username_lower))
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    pub fn role_names(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<Vec<String>> {
        user_roles::table
            .inner_join(roles::table)
            .filter(user_roles::user_id.eq(user_id))
            .select(roles::name)
            .order(roles::name)
            .load(conn)
    }

    pub fn grant_roles(
        conn: &mut PgConnection,
        user_id: Uuid,
        names: &[&str],
        granted_by: Option<Uuid>,
    ) -> QueryResult<usize> {
        let role_ids: Vec<i32> = roles::table
            .filter(roles::name.eq_any(names))
            .select(roles::id)
            .load(conn)?;
        let rows: Vec<_> = role_ids
            .into_iter()
            .map(|role_id| {
                (
                    user_roles::user_id.eq(user_id),
                    user_roles::role_id.eq(role_id),
                    user_roles::granted_by.eq(granted_by),
                )
            })
            .collect();
        diesel::insert_into(user_roles::table)
            .values(&rows)
            .on_conflict_do_nothing()
            .execute(conn)
    }

    pub fn record_login(
        conn: &mut PgConnection,
        user_id: Uuid,
        at: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::update(users::table.find(user_id))
            .set(users::last_login_at.eq(at))
            .execute(conn)
    }

    pub fn count_with_role(conn: &mut PgConnection, role: &str) -> QueryResult<i64> {
        user_roles::table
            .inner_join(roles::table)
            .filter(roles::name.eq(role))
            .count()
            .get_result(conn)
    }
}
