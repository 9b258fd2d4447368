//! `email_verifications`: links that prove an address reaches its owner, stored as the SHA-256
//! of the token, bound to the address they were sent to; using one deletes it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bytea, Double, Text};
use uuid::Uuid;

use crate::db::schema::email_verifications;

#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = email_verifications)]
pub struct EmailVerification {
    pub id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub token_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl EmailVerification {
    /// A link for `email` of `user_id`, expiring `ttl_secs` after now (database time).
    pub fn insert(
        conn: &mut PgConnection,
        user_id: Uuid,
        email: &str,
        token_hash: &[u8],
        ttl_secs: i64,
    ) -> QueryResult<Uuid> {
        let id = Uuid::now_v7();
        diesel::sql_query(
            "INSERT INTO email_verifications (id, user_id, email, token_hash, expires_at) \
             VALUES ($1, $2, $3, $4, statement_timestamp() + make_interval(secs => $5))",
        )
        .bind::<diesel::sql_types::Uuid, _>(id)
        .bind::<diesel::sql_types::Uuid, _>(user_id)
        .bind::<Text, _>(email)
        .bind::<Bytea, _>(token_hash)
        .bind::<Double, _>(ttl_secs as f64)
        .execute(conn)?;
        Ok(id)
    }

    /// Uses up the unexpired link with this hash: of concurrent uses exactly one gets the row.
    pub fn consume(conn: &mut PgConnection, token_hash: &[u8]) -> QueryResult<Option<Self>> {
        diesel::sql_query(
            "DELETE FROM email_verifications \
             WHERE token_hash = $1 AND expires_at > statement_timestamp() RETURNING *",
        )
        .bind::<Bytea, _>(token_hash)
        .get_result(conn)
        .optional()
    }

    /// A link whose mail could not be sent: no one holds it, it goes.
    pub fn delete(conn: &mut PgConnection, id: Uuid) -> QueryResult<()> {
        diesel::delete(email_verifications::table.find(id))
            .execute(conn)
            .map(|_| ())
    }

    /// Every link of the user: once the address is verified they have served.
    pub fn delete_of_user(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<usize> {
        diesel::delete(email_verifications::table.filter(email_verifications::user_id.eq(user_id)))
            .execute(conn)
    }
}
