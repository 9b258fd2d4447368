//! Changing and deleting an account's row (its roles, sessions, links cascade).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::User;
use crate::db::schema::users;
use crate::domain::Username;

impl User {
    /// Sets the username (and its lower-cased key) and the email; a taken one is a unique
    /// violation (`users_username_lower_key`, `users_email_lower_key`).
    pub fn set_profile(
        conn: &mut PgConnection,
        user_id: Uuid,
        username: &Username,
        email: Option<&str>,
        now: DateTime<Utc>,
    ) -> QueryResult<User> {
        diesel::update(users::table.find(user_id))
            .set((
                users::username.eq(username.as_str()),
                users::username_lower.eq(username.lower()),
                users::email.eq(email),
                users::updated_at.eq(now),
            ))
            .returning(User::as_returning())
            .get_result(conn)
    }

    /// Deletes the account: its roles, sessions (and their refresh tokens) and reset links go
    /// with it; its audit events stay.
    pub fn delete(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<usize> {
        diesel::delete(users::table.find(user_id)).execute(conn)
    }
}
