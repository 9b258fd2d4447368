//! `/admin/sessions`: live sessions of every user, newest first; revoke one.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::error::PageError;
use super::form::Form;
use super::layout::Chrome;
use super::pager::Pager;
use super::{csrf, flash, render, when};
use crate::auth::sessions::list_active;
use crate::auth::{Admin, ClientInfo, RequireRole};
use crate::db;
use crate::services::audit::event;
use crate::services::sessions::{self as session_service, Scope};
use crate::services::users::UserError;
use crate::state::AppState;

pub const PER_PAGE: i64 = 50;

pub struct Row {
    pub id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    pub kind: String,
    pub created: String,
    pub last_used: String,
    pub expires: String,
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
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    params: web::Query<Params>,
) -> Result<HttpResponse, PageError> {
    let page = crate::services::page_number(params.page);
    let (rows, more) = db::run(&state.pool, move |conn| {
        list_active(conn, page, PER_PAGE).map_err(UserError::from)
    })
    .await?;
    let current = admin.principal.session_id;
    let rows = rows
        .into_iter()
        .map(|(s, username)| Row {
            current: s.id == current,
            id: s.id,
            user_id: s.user_id,
            username,
            kind: s.kind,
            created: when(&s.created_at),
            last_used: when(&s.last_used_at),
            expires: when(&s.expires_at),
            ip: s.ip.unwrap_or_default(),
            user_agent: s.user_agent.unwrap_or_default(),
        })
        .collect();
    let chrome = Chrome::new(&req, &admin.principal, "sessions");
    let shown = chrome.flash.is_some();
    render(
        &SessionsPage {
            chrome,
            rows,
            pager: Pager::new("/admin/sessions", &[], page, more, None, PER_PAGE),
        },
        shown,
    )
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf_token: String,
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
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    path: web::Path<String>,
    Form(form): Form<RevokeForm>,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    csrf::verify(&req, &admin.principal, &form.csrf_token)?;
    let id = Uuid::parse_str(&path.into_inner()).map_err(|_| PageError::NotFound)?;
    let scope = Scope::One {
        session_id: id,
        owner: None,
    };
    session_service::revoke(
        &state,
        scope,
        admin.principal.user_id,
        event::SESSIONS_REVOKED,
        "revoked_by_admin",
        client,
    )
    .await?;
    Ok(flash::redirect(
        back_to(&form.return_to),
        true,
        "Session revoked.",
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
