//! `GET /admin`: counts, a 14-day chart of logins and failed logins (server-rendered SVG), and the
//! latest failed logins.

use actix_web::{HttpResponse, get, web};
use askama::Template;

use super::error::PageError;
use super::extract::AdminPage;
use super::layout::Chrome;
use super::{filters, render};
use crate::services::audit::AuditView;
use crate::services::overview::{self, LoginDay};
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

fn bars(days: &[LoginDay]) -> Vec<Bar> {
    let max = days
        .iter()
        .map(|d| d.ok.max(d.failed))
        .max()
        .unwrap_or(0)
        .max(1);
    let scale = |n: i64| n * (CHART_H - 20) / max;
    days.iter()
        .zip(0i64..)
        .map(|(d, i)| {
            let (ok_h, failed_h) = (scale(d.ok), scale(d.failed));
            Bar {
                label: d.day.format("%m-%d").to_string(),
                ok: d.ok,
                failed: d.failed,
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

#[get("")]
pub async fn page(state: web::Data<AppState>, admin: AdminPage) -> Result<HttpResponse, PageError> {
    let overview = overview::overview(&state, DAYS).await?;
    let days = &overview.days;
    let chrome = admin.chrome("overview");
    let shown = chrome.shown_flash();
    let page = OverviewPage {
        chrome,
        users: overview.users,
        active_sessions: overview.live_sessions,
        logins_14d: days.iter().map(|d| d.ok).sum(),
        failed_14d: days.iter().map(|d| d.failed).sum(),
        bars: bars(days),
        chart_w: CHART_W,
        chart_h: CHART_H,
        failures: overview.recent_failures,
    };
    render(&page, shown)
}
