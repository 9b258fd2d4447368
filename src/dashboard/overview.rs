//! `GET /admin`: counts, a 14-day chart of logins and failed logins (server-rendered SVG), and the
//! latest failed logins.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use chrono::Utc;
use diesel::prelude::*;

use super::error::PageError;
use super::layout::Chrome;
use super::{render, when};
use crate::auth::{Admin, RequireRole};
use crate::db;
use crate::db::schema::{sessions, users};
use crate::services::audit::{self, AuditFilter, AuditView, event};
use crate::services::users::UserError;
use crate::state::AppState;

pub const DAYS: i32 = 14;

/// One day of the chart, laid out in SVG user units.
pub struct Bar {
    pub label: String,
    pub ok: i64,
    pub failed: i64,
    pub x: i64,
    pub ok_y: i64,
    pub ok_h: i64,
    pub failed_x: i64,
    pub failed_y: i64,
    pub failed_h: i64,
}

pub const CHART_H: i64 = 160;
const SLOT_W: i64 = 40;
pub const CHART_W: i64 = SLOT_W * DAYS as i64;

fn bars(days: &[(chrono::NaiveDate, i64, i64)]) -> Vec<Bar> {
    let max = days
        .iter()
        .map(|(_, ok, failed)| (*ok).max(*failed))
        .max()
        .unwrap_or(0)
        .max(1);
    let scale = |n: i64| n * (CHART_H - 20) / max;
    days.iter()
        .zip(0i64..)
        .map(|((day, ok, failed), i)| {
            let (ok_h, failed_h) = (scale(*ok), scale(*failed));
            Bar {
                label: day.format("%m-%d").to_string(),
                ok: *ok,
                failed: *failed,
                x: i * SLOT_W + 6,
                ok_y: CHART_H - ok_h,
                ok_h,
                failed_x: i * SLOT_W + 20,
                failed_y: CHART_H - failed_h,
                failed_h,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "admin/overview.html")]
struct OverviewPage {
    chrome: Chrome,
    users: i64,
    active_sessions: i64,
    logins_14d: i64,
    failed_14d: i64,
    bars: Vec<Bar>,
    chart_w: i64,
    chart_h: i64,
    failures: Vec<AuditView>,
}

impl OverviewPage {
    fn when(&self, t: &chrono::DateTime<Utc>) -> String {
        when(t)
    }
}

#[get("")]
pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
) -> Result<HttpResponse, PageError> {
    let (users, active_sessions, days, failures) = db::run(&state.pool, |conn| {
        let users: i64 = users::table.count().get_result(conn)?;
        let active: i64 = sessions::table
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(Utc::now()))
            .count()
            .get_result(conn)?;
        let days = audit::logins_per_day(conn, DAYS)?;
        let filter = AuditFilter {
            event: Some(event::LOGIN_FAILED.to_owned()),
            user_id: None,
        };
        let (failures, _) = audit::search(conn, &filter, 1, 10)?;
        Ok::<_, UserError>((users, active, days, failures))
    })
    .await?;
    let chrome = Chrome::new(&req, &admin.principal, "overview");
    let shown = chrome.flash.is_some();
    let page = OverviewPage {
        chrome,
        users,
        active_sessions,
        logins_14d: days.iter().map(|d| d.1).sum(),
        failed_14d: days.iter().map(|d| d.2).sum(),
        bars: bars(&days),
        chart_w: CHART_W,
        chart_h: CHART_H,
        failures,
    };
    render(&page, shown)
}
