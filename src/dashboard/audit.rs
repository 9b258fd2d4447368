//! `/admin/audit`: the audit log, newest first, filtered by event and by user.

use actix_web::{HttpRequest, HttpResponse, get, web};
use askama::Template;
use serde::Deserialize;

use super::error::PageError;
use super::layout::Chrome;
use super::pager::Pager;
use super::{render, when};
use crate::auth::{Admin, RequireRole};
use crate::db;
use crate::db::models::user::User;
use crate::services::audit::{self, AuditFilter, AuditView, EVENTS};
use crate::services::users::UserError;
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

    fn when(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        when(t)
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
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    params: web::Query<Params>,
) -> Result<HttpResponse, PageError> {
    let params = params.into_inner();
    let event = params.event.unwrap_or_default().trim().to_owned();
    let user = params.user.unwrap_or_default().trim().to_owned();
    let page = crate::services::page_number(params.page);
    let (event_q, user_q) = (event.clone(), user.clone());
    let (rows, more, unknown_user) = db::run(&state.pool, move |conn| {
        let user_id = if user_q.is_empty() {
            None
        } else {
            match User::find_by_username(conn, &user_q.to_ascii_lowercase())? {
                Some(u) => Some(u.id),
                None => return Ok::<_, UserError>((Vec::new(), false, true)),
            }
        };
        let filter = AuditFilter {
            event: Some(event_q).filter(|e| !e.is_empty()),
            user_id,
        };
        let (rows, more) = audit::search(conn, &filter, page, PER_PAGE)?;
        Ok((rows, more, false))
    })
    .await?;
    let pager = Pager::new(
        "/admin/audit",
        &[("event", &event), ("user", &user)],
        page,
        more,
        None,
        PER_PAGE,
    );
    let chrome = Chrome::new(&req, &admin.principal, "audit");
    let shown = chrome.flash.is_some();
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
