//! Audit events: one row per security-relevant action, written inside the transaction of the
//! action itself, and the log as administrators read it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;
use uuid::Uuid;

use super::{Error, Page, Paging};
use crate::db::{self, models::audit_event::NewAuditEvent, models::user::User};
use crate::domain::ClientInfo;
use crate::state::AppState;

pub use crate::db::models::audit_event::{AuditEvent, AuditFilter};

/// Event names, stable: the dashboard filters on them.
pub mod event {
    pub const REGISTERED: &str = "registered";
    pub const LOGIN_SUCCEEDED: &str = "login_succeeded";
    pub const LOGIN_FAILED: &str = "login_failed";
    pub const ADMIN_BOOTSTRAPPED: &str = "admin_bootstrapped";
    pub const LOGOUT: &str = "logout";
    pub const SESSIONS_REVOKED: &str = "sessions_revoked";
    pub const PASSWORD_CHANGED: &str = "password_changed";
    pub const PASSWORD_CHANGE_FAILED: &str = "password_change_failed";
    pub const ROLES_CHANGED: &str = "roles_changed";
    pub const USER_DISABLED: &str = "user_disabled";
    pub const USER_ENABLED: &str = "user_enabled";
    pub const ROLE_CREATED: &str = "role_created";
    pub const REFRESH_REUSE_DETECTED: &str = "refresh_reuse_detected";
    pub const LOGIN_THROTTLED: &str = "login_throttled";
    pub const LOGIN_THROTTLE_CLEARED: &str = "login_throttle_cleared";
    pub const USER_CREATED: &str = "user_created";
    pub const USER_UPDATED: &str = "user_updated";
    pub const USER_DELETED: &str = "user_deleted";
    pub const PASSWORD_RESET_ISSUED: &str = "password_reset_issued";
    pub const PASSWORD_RESET_USED: &str = "password_reset_used";
    pub const EMAIL_VERIFIED: &str = "email_verified";
    pub const MAIL_FAILED: &str = "mail_failed";
}

/// Every event name the service writes, for the log's filter.
pub const EVENTS: &[&str] = &[
    event::ADMIN_BOOTSTRAPPED,
    event::EMAIL_VERIFIED,
    event::LOGIN_FAILED,
    event::LOGIN_SUCCEEDED,
    event::LOGIN_THROTTLE_CLEARED,
    event::LOGIN_THROTTLED,
    event::LOGOUT,
    event::MAIL_FAILED,
    event::PASSWORD_CHANGE_FAILED,
    event::PASSWORD_CHANGED,
    event::PASSWORD_RESET_ISSUED,
    event::PASSWORD_RESET_USED,
    event::REFRESH_REUSE_DETECTED,
    event::REGISTERED,
    event::ROLE_CREATED,
    event::ROLES_CHANGED,
    event::SESSIONS_REVOKED,
    event::USER_CREATED,
    event::USER_DELETED,
    event::USER_DISABLED,
    event::USER_ENABLED,
    event::USER_UPDATED,
];

pub struct Entry<'a> {
    pub event: &'a str,
    pub actor_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub client: &'a ClientInfo,
    pub detail: Value,
}

impl<'a> Entry<'a> {
    fn row(self) -> NewAuditEvent<'a> {
        NewAuditEvent {
            event: self.event,
            actor_id: self.actor_id,
            subject_id: self.subject_id,
            ip: self.client.ip.as_deref(),
            user_agent: self.client.user_agent.as_deref(),
            detail: self.detail,
        }
    }
}

/// `jsonb` cannot hold `\u0000`, and `detail` may quote what a client typed (a login name):
/// NUL becomes U+FFFD.
fn storable(value: &mut Value) {
    match value {
        Value::String(s) if s.contains('\0') => *s = s.replace('\0', "\u{FFFD}"),
        Value::Array(items) => items.iter_mut().for_each(storable),
        Value::Object(map) => map.values_mut().for_each(storable),
        _ => {}
    }
}

/// Writes one event, in the caller's transaction.
pub fn record(conn: &mut PgConnection, mut entry: Entry<'_>) -> QueryResult<()> {
    storable(&mut entry.detail);
    AuditEvent::insert(conn, &entry.row()).map(|_| ())
}

/// Writes one event that happened at `at` rather than now (demo data), in the caller's
/// transaction.
pub fn record_at(
    conn: &mut PgConnection,
    mut entry: Entry<'_>,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    storable(&mut entry.detail);
    AuditEvent::insert_at(conn, &entry.row(), at).map(|_| ())
}

/// An audit row as people read it: names instead of ids where the user still exists.
#[derive(Debug, Clone)]
pub struct AuditView {
    pub at: DateTime<Utc>,
    pub event: String,
    pub actor: Option<String>,
    pub subject_id: Option<Uuid>,
    pub subject: Option<String>,
    pub ip: Option<String>,
    pub detail: String,
}

fn with_names(conn: &mut PgConnection, rows: Vec<AuditEvent>) -> QueryResult<Vec<AuditView>> {
    let mut ids: Vec<Uuid> = rows
        .iter()
        .flat_map(|r| [r.actor_id, r.subject_id])
        .flatten()
        .collect();
    ids.sort();
    ids.dedup();
    let names = User::names_of(conn, &ids)?;
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

/// One page of events, newest first, in the caller's connection.
pub fn page_in(
    conn: &mut PgConnection,
    filter: &AuditFilter,
    paging: Paging,
) -> QueryResult<Page<AuditView>> {
    let rows = AuditEvent::page(conn, filter, paging.offset(), paging.per_page)?;
    let (rows, more) = paging.split(rows);
    Ok(Page {
        items: with_names(conn, rows)?,
        more,
    })
}

/// Where the audit log's user filter points.
pub enum UserFilter {
    Anyone,
    /// A username; events where that user acted or was acted upon.
    Named(String),
}

/// The audit log: `None` when the filter names a user who does not exist.
pub async fn search(
    state: &AppState,
    event: Option<String>,
    user: UserFilter,
    paging: Paging,
) -> Result<Option<Page<AuditView>>, Error> {
    db::run(&state.pool, move |conn| {
        let user_id = match user {
            UserFilter::Anyone => None,
            UserFilter::Named(name) => match User::find_by_username(conn, &name)? {
                Some(u) => Some(u.id),
                None => return Ok(None),
            },
        };
        // Only listed names are events; anything else (NUL included) finds none.
        if event.as_deref().is_some_and(|e| !EVENTS.contains(&e)) {
            return Ok(Some(Page {
                items: Vec::new(),
                more: false,
            }));
        }
        let filter = AuditFilter { event, user_id };
        Ok(Some(page_in(conn, &filter, paging)?))
    })
    .await
}
