use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::sessions;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
    pub user_agent: Option<String>,
    pub ip: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: &'a str,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
    /// Dashboard sessions only: SHA-256 of the cookie secret, and the CSRF token of its forms.
    pub cookie_hash: Option<&'a [u8]>,
    pub csrf_token: Option<&'a str>,
}

impl Session {
    pub const KIND_API: &'static str = "api";
    pub const KIND_DASHBOARD: &'static str = "dashboard";

    pub fn insert(conn: &mut PgConnection, new: &NewSession<'_>) -> QueryResult<Session> {
        diesel::insert_into(sessions::table)
            .values(new)
            .returning(Session::as_returning())
            .get_result(conn)
    }

    pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Session>> {
        sessions::table
            .find(id)
            .select(Session::as_select())
            .first(conn)
            .optional()
    }
}
