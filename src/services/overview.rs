//! The dashboard's overview: counts, logins per day, the latest failed logins.

use chrono::{NaiveDate, Utc};

use super::audit::{self, AuditFilter, AuditView, event};
use super::{Error, Paging};
use crate::db::models::audit_event::AuditEvent;
use crate::db::models::session::Session;
use crate::db::models::user::User;
use crate::db::{self};
use crate::state::AppState;

/// Logins and failed logins of one UTC day.
pub struct LoginDay {
    pub day: NaiveDate,
    pub ok: i64,
    pub failed: i64,
}

pub struct Overview {
    pub users: i64,
    pub live_sessions: i64,
    /// Oldest first, today last.
    pub days: Vec<LoginDay>,
    pub recent_failures: Vec<AuditView>,
}

/// How many of the latest failed logins the overview lists.
pub const RECENT_FAILURES: i64 = 10;

pub async fn overview(state: &AppState, days: i32) -> Result<Overview, Error> {
    db::run(&state.pool, move |conn| {
        let users = User::count(conn)?;
        let live_sessions = Session::count_live(conn, Utc::now())?;
        let days = AuditEvent::per_day(conn, event::LOGIN_SUCCEEDED, event::LOGIN_FAILED, days)?
            .into_iter()
            .map(|d| LoginDay {
                day: d.day,
                ok: d.ok,
                failed: d.failed,
            })
            .collect();
        let filter = AuditFilter {
            event: Some(event::LOGIN_FAILED.to_owned()),
            user_id: None,
        };
        let paging = Paging::new(None, RECENT_FAILURES);
        let recent_failures = audit::page_in(conn, &filter, paging)?.items;
        Ok(Overview {
            users,
            live_sessions,
            days,
            recent_failures,
        })
    })
    .await
}
