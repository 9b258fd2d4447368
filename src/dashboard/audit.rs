//! `/admin/audit`: the audit log, newest first, filtered by event and by user.

use actix_web::{HttpResponse, get, web};
use askama::Template;
use serde::Deserialize;

use super::error::PageError;
use super::extract::AdminPage;
use super::layout::Chrome;
use super::pager::Pager;
use super::{filters, render};
use crate::services::Paging;
use crate::services::audit::{self, AuditView, EVENTS, UserFilter};
use crate::state::AppState;

pub const PER_PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    chrome: Chrome,
    events: &'static [&'static str],
    event: String,
    user: String,
    unknown_user: bool,
    rows: Vec<AuditView>,
    pager: Pager,
}

impl AuditPage {
    fn selected(&self, event: &str) -> bool {
        self.event == event
    }
}

#[derive(Deserialize)]
pub struct Params {
    event: Option<String>,
    user: Option<String>,
    page: Option<i64>,
}

#[get("/audit")]
pub async fn page(
    state: web::Data<AppState>,
    admin: AdminPage,
    params: web::Query<Params>,
) -> Result<HttpResponse, PageError> {
    let params = params.into_inner();
    let event = params.event.unwrap_or_default().trim().to_owned();
    let user = params.user.unwrap_or_default().trim().to_owned();
    let paging = Paging::new(params.page, PER_PAGE);
    let user_filter = if user.is_empty() {
        UserFilter::Anyone
    } else {
        UserFilter::Named(user.clone())
    };
    let event_filter = Some(event.clone()).filter(|e| !e.is_empty());
    let found = audit::search(&state, event_filter, user_filter, paging).await?;
    let unknown_user = found.is_none();
    let (rows, more) = found.map_or((Vec::new(), false), |p| (p.items, p.more));
    let pager = Pager::new(
        "/admin/audit",
        &[("event", &event), ("user", &user)],
        paging,
        more,
        None,
    );
    let chrome = admin.chrome("audit");
    let shown = chrome.shown_flash();
    render(
        &AuditPage {
            chrome,
            events: EVENTS,
            event,
            user,
            unknown_user,
            rows,
            pager,
        },
        shown,
    )
}
