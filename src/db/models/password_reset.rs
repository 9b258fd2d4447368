//! `password_resets`: one-time links that set a user's password, stored as the SHA-256 of the
//! token. A user has at most one: issuing a link deletes the older ones, using it deletes it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::clock::statement_timestamp;
use crate::db::schema::password_resets;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = password_resets)]
pub struct PasswordReset {
    pub id: Uuid,
    pub user_id: Uuid,
    pub token_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub created_by: Option<Uuid>,
}

impl PasswordReset {
    /// Replaces the user's links with a new one expiring `ttl_secs` after now (database time);
    /// returns its expiry. The caller's transaction holds the user row.
    pub fn replace_for_user(
        conn: &mut PgConnection,
        user_id: Uuid,
        token_hash: &[u8],
        ttl_secs: i64,
        created_by: Option<Uuid>,
    ) -> QueryResult<DateTime<Utc>> {
        Self::delete_of_user(conn, user_id)?;
        diesel::sql_query(
            "INSERT INTO password_resets (id, user_id, token_hash, created_at, expires_at, created_by) \
             VALUES ($1, $2, $3, statement_timestamp(), \
                     statement_timestamp() + make_interval(secs => $4), $5)",
        )
        .bind::<diesel::sql_types::Uuid, _>(Uuid::now_v7())
        .bind::<diesel::sql_types::Uuid, _>(user_id)
        .bind::<diesel::sql_types::Bytea, _>(token_hash)
        .bind::<diesel::sql_types::Double, _>(ttl_secs as f64)
        .bind::<diesel::sql_types::Nullable<diesel::sql_types::Uuid>, _>(created_by)
        .execute(conn)?;
        password_resets::table
            .filter(password_resets::token_hash.eq(token_hash))
            .select(password_resets::expires_at)
            .first(conn)
    }

    /// The unexpired link with this hash, unlocked: which user it is for, so the caller can lock
    /// that user's row before the link's (the order every change of the user takes).
    pub fn find_live(conn: &mut PgConnection, token_hash: &[u8]) -> QueryResult<Option<Self>> {
        password_resets::table
            .filter(password_resets::token_hash.eq(token_hash))
            .filter(password_resets::expires_at.gt(statement_timestamp()))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    /// Uses the unexpired link with this hash: deletes it and reports whether it was there. Of
    /// concurrent uses of one link, exactly one deletes it; the others find nothing.
    pub fn consume(conn: &mut PgConnection, token_hash: &[u8]) -> QueryResult<bool> {
        diesel::delete(
            password_resets::table
                .filter(password_resets::token_hash.eq(token_hash))
                .filter(password_resets::expires_at.gt(statement_timestamp())),
        )
        .execute(conn)
        .map(|n| n > 0)
    }

    pub fn delete_of_user(conn: &mut PgConnection, user_id: Uuid) -> QueryResult<usize> {
        diesel::delete(password_resets::table.filter(password_resets::user_id.eq(user_id)))
            .execute(conn)
    }

    /// Deletes up to `limit` links that expired before `cutoff`; returns how many.
    pub fn delete_expired(
        conn: &mut PgConnection,
        cutoff: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<usize> {
        super::delete_expired_batch(conn, "password_resets", cutoff, limit)
    }
}
