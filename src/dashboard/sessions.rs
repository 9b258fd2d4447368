//! `/admin/sessions`: live sessions of every user, newest first; revoke one.

use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::error::PageError;
use super::extract::{AdminPage, CsrfForm};
use super::layout::Chrome;
use super::pager::Pager;
use super::{filters, flash, render};
use crate::domain::ClientInfo;
use crate::services::sessions::AdminTarget;
use crate::services::{Paging, sessions};
use crate::state::AppState;

pub const PER_PAGE: i64 = 50;

pub struct Row {
    pub id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    pub kind: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: String,
    pub user_agent: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "admin/sessions.html")]
struct SessionsPage {
    chrome: Chrome,
    rows: Vec<Row>,
    pager: Pager,
}

#[derive(Deserialize)]
pub struct Params {
    page: Option<i64>,
}

#[get("/sessions")]
pub async fn list(
    state: web::Data<AppState>,
    admin: AdminPage,
    params: web::Query<Params>,
) -> Result<HttpResponse, PageError> {
    let paging = Paging::new(params.page, PER_PAGE);
    let page = sessions::list_active(&state, paging).await?;
    let current = admin.principal.session_id;
    let rows = page
        .items
        .into_iter()
        .map(|a| {
            let s = a.session;
            Row {
                current: s.id == current,
                id: s.id,
                user_id: s.user_id,
                username: a.username,
                kind: s.kind,
                created_at: s.created_at,
                last_used_at: s.last_used_at,
                expires_at: s.expires_at,
                ip: s.ip.unwrap_or_default(),
                user_agent: s.user_agent.unwrap_or_default(),
            }
        })
        .collect();
    let chrome = admin.chrome("sessions");
    let shown = chrome.shown_flash();
    let pager = Pager::new("/admin/sessions", &[], paging, page.more, None);
    render(
        &SessionsPage {
            chrome,
            rows,
            pager,
        },
        shown,
    )
}

#[derive(Deserialize)]
pub struct RevokeFields {
    #[serde(default)]
    return_to: String,
}

/// Only back to a dashboard page: never an open redirect.
fn back_to(return_to: &str) -> &str {
    let safe = return_to.starts_with("/admin/")
        && !return_to.starts_with("//")
        && return_to
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'\\');
    if safe { return_to } else { "/admin/sessions" }
}

#[post("/sessions/{id}/revoke")]
pub async fn revoke(
    state: web::Data<AppState>,
    admin: AdminPage,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<RevokeFields>,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    let id = Uuid::parse_str(&path).map_err(|_| PageError::NotFound)?;
    let target = AdminTarget::Session(id);
    sessions::revoke_by_admin(&state, &admin.principal, target, &client).await?;
    Ok(flash::redirect(
        back_to(&form.return_to),
        true,
        "Session revoked.",
        state.config.cookie_secure,
    ))
}

#[cfg(test)]
mod tests {
    use super::back_to;

    #[test]
    fn only_dashboard_paths_are_followed() {
        assert_eq!(back_to("/admin/users/1"), "/admin/users/1");
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/admin\\..",
            "",
            "/api/x",
            "/admin/a b",
        ] {
            assert_eq!(back_to(bad), "/admin/sessions", "{bad}");
        }
    }
}
