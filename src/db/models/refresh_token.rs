//! `refresh_tokens`: one row per issued refresh token of an API session, stored as a hash.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::refresh_tokens;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub id: Uuid,
    pub session_id: Uuid,
    pub token_hash: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct NewRefreshToken<'a> {
    pub id: Uuid,
    pub session_id: Uuid,
    pub token_hash: &'a [u8],
    pub expires_at: DateTime<Utc>,
}

impl RefreshToken {
    pub fn insert(conn: &mut PgConnection, new: &NewRefreshToken<'_>) -> QueryResult<usize> {
        diesel::insert_into(refresh_tokens::table)
            .values(new)
            .execute(conn)
    }

    /// The token with this hash, locked until the transaction ends: concurrent refreshes of one
    /// token queue here, so exactly one of them rotates it.
    pub fn find_for_update(
        conn: &mut PgConnection,
        token_hash: &[u8],
    ) -> QueryResult<Option<RefreshToken>> {
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(token_hash))
            .select(RefreshToken::as_select())
            .for_update()
            .first(conn)
            .optional()
    }

    pub fn mark_rotated(
        conn: &mut PgConnection,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::update(refresh_tokens::table.find(id))
            .set(refresh_tokens::rotated_at.eq(at))
            .execute(conn)
    }

    /// Deletes up to `limit` refresh tokens that expired before `cutoff`; returns how many. Rows
    /// another transaction holds are skipped (the next run gets them), so nobody waits on this.
    pub fn delete_expired(
        conn: &mut PgConnection,
        cutoff: DateTime<Utc>,
        limit: i64,
    ) -> QueryResult<usize> {
        super::delete_expired_batch(conn, "refresh_tokens", cutoff, limit)
    }
}
