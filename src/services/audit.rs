//! Audit events: one row per security-relevant action, in `audit_events`.

use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::ClientInfo;
use crate::db::models::audit_event::{AuditEvent, NewAuditEvent};

/// Event names, stable: the dashboard filters on them.
pub mod event {
    pub const REGISTERED: &str = "registered";
    pub const LOGIN_SUCCEEDED: &str = "login_succeeded";
    pub const LOGIN_FAILED: &str = "login_failed";
    pub const ADMIN_BOOTSTRAPPED: &str = "admin_bootstrapped";
    pub const LOGOUT: &str = "logout";
    pub const SESSIONS_REVOKED: &str = "sessions_revoked";
    pub const PASSWORD_CHANGED: &str = "password_changed";
    pub const ROLES_CHANGED: &str = "roles_changed";
    pub const USER_DISABLED: &str = "user_disabled";
    pub const USER_ENABLED: &str = "user_enabled";
    pub const ROLE_CREATED: &str = "role_created";
    pub const REFRESH_REUSE_DETECTED: &str = "refresh_reuse_detected";
}

pub struct Entry<'a> {
    pub event: &'a str,
    pub actor_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub client: &'a ClientInfo,
    pub detail: Value,
}

pub fn record(conn: &mut PgConnection, entry: Entry<'_>) -> QueryResult<()> {
    AuditEvent::insert(
        conn,
        &NewAuditEvent {
            event: entry.event,
            actor_id: entry.actor_id,
            subject_id: entry.subject_id,
            ip: entry.client.ip.as_deref(),
            user_agent: entry.client.user_agent.as_deref(),
            detail: entry.detail,
        },
    )
    .map(|_| ())
}

/// An audit row as people read it: names instead of ids where the user still exists.
#[derive(Debug, Clone)]
pub struct AuditView {
    pub at: chrono::DateTime<chrono::Utc>,
    pub event: String,
    pub actor: Option<String>,
    pub subject_id: Option<Uuid>,
    pub subject: Option<String>,
    pub ip: Option<String>,
    pub detail: String,
}

/// Every event name the service writes, for the log's filter.
pub const EVENTS: &[&str] = &[
    event::ADMIN_BOOTSTRAPPED,
    event::LOGIN_FAILED,
    event::LOGIN_SUCCEEDED,
    event::LOGOUT,
    event::PASSWORD_CHANGED,
    event::REFRESH_REUSE_DETECTED,
    event::REGISTERED,
    event::ROLE_CREATED,
    event::ROLES_CHANGED,
    event::SESSIONS_REVOKED,
    event::USER_DISABLED,
    event::USER_ENABLED,
];

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub event: Option<String>,
    /// Events where this user acted or was acted upon.
    pub user_id: Option<Uuid>,
}

fn with_names(conn: &mut PgConnection, rows: Vec<AuditEvent>) -> QueryResult<Vec<AuditView>> {
    use crate::db::schema::users;
    let mut ids: Vec<Uuid> = rows
        .iter()
        .flat_map(|r| [r.actor_id, r.subject_id])
        .flatten()
        .collect();
    ids.sort();
    ids.dedup();
    let names: std::collections::HashMap<Uuid, String> = users::table
        .filter(users::id.eq_any(&ids))
        .select((users::id, users::username))
        .load::<(Uuid, String)>(conn)?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| AuditView {
            at: r.at,
            actor: r.actor_id.and_then(|id| names.get(&id).cloned()),
            subject: r.subject_id.and_then(|id| names.get(&id).cloned()),
            subject_id: r.subject_id,
            event: r.event,
            ip: r.ip,
            detail: if r.detail.as_object().is_some_and(|o| o.is_empty()) {
                String::new()
            } else {
                r.detail.to_string()
            },
        })
        .collect())
}

/// Newest first; the flag says whether an older page exists.
pub fn search(
    conn: &mut PgConnection,
    filter: &AuditFilter,
    page: i64,
    per_page: i64,
) -> QueryResult<(Vec<AuditView>, bool)> {
    use crate::db::schema::audit_events as a;
    let mut q = a::table.into_boxed();
    if let Some(e) = &filter.event {
        q = q.filter(a::event.eq(e.clone()));
    }
    if let Some(id) = filter.user_id {
        q = q.filter(a::subject_id.eq(id).or(a::actor_id.eq(id)));
    }
    let mut rows: Vec<AuditEvent> = q
        .order((a::at.desc(), a::id.desc()))
        .limit(per_page + 1)
        .offset((page - 1).max(0).saturating_mul(per_page))
        .select(AuditEvent::as_select())
        .load(conn)?;
    let more = rows.len() as i64 > per_page;
    rows.truncate(usize::try_from(per_page).unwrap_or(0));
    Ok((with_names(conn, rows)?, more))
}

/// Logins and failed logins per UTC day, oldest first, for the last `days` days (today included).
pub fn logins_per_day(
    conn: &mut PgConnection,
    days: i32,
) -> QueryResult<Vec<(chrono::NaiveDate, i64, i64)>> {
    use diesel::sql_types::{BigInt, Date, Integer};
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Date)]
        day: chrono::NaiveDate,
        #[diesel(sql_type = BigInt)]
        ok: i64,
        #[diesel(sql_type = BigInt)]
        failed: i64,
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT d::date AS day, \
                count(e.id) FILTER (WHERE e.event = 'login_succeeded') AS ok, \
                count(e.id) FILTER (WHERE e.event = 'login_failed') AS failed \
         FROM generate_series((now() AT TIME ZONE 'UTC')::date - ($1 - 1), (now() AT TIME ZONE 'UTC')::date, interval '1 day') AS d \
         LEFT JOIN audit_events e \
           ON e.event IN ('login_succeeded', 'login_failed') \
          AND e.at >= d AT TIME ZONE 'UTC' AND e.at < (d + interval '1 day') AT TIME ZONE 'UTC' \
         GROUP BY d ORDER BY d",
    )
    .bind::<Integer, _>(days)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.day, r.ok, r.failed)).collect())
}
