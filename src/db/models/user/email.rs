//! An account's address: finding an account by it, and marking it verified.

use diesel::prelude::*;
use uuid::Uuid;

use super::{User, lower};
use crate::db::clock::statement_timestamp;
use crate::db::schema::users;

impl User {
    /// The account with this address, compared without regard to case (the unique index).
    pub fn find_by_email(conn: &mut PgConnection, email: &str) -> QueryResult<Option<User>> {
        users::table
            .filter(lower(users::email).eq(Some(email.to_lowercase())))
            .select(User::as_select())
            .first(conn)
            .optional()
    }

    /// Marks the address verified if it is still `email`; false when it changed meanwhile (the
    /// link was for the old one).
    pub fn mark_email_verified(
        conn: &mut PgConnection,
        user_id: Uuid,
        email: &str,
    ) -> QueryResult<bool> {
        diesel::update(users::table.find(user_id).filter(users::email.eq(email)))
            .set(users::email_verified_at.eq(statement_timestamp().nullable()))
            .execute(conn)
            .map(|n| n == 1)
    }
}
