use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::audit_events;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub event: String,
    pub actor_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: serde_json::Value,
}

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent<'a> {
    pub event: &'a str,
    pub actor_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub detail: serde_json::Value,
}

impl AuditEvent {
    pub fn insert(conn: &mut PgConnection, new: &NewAuditEvent<'_>) -> QueryResult<usize> {
        diesel::insert_into(audit_events::table)
            .values(new)
            .execute(conn)
    }
}
