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
