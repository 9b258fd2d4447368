//! `/admin/users` (search, filter, pages) and `/admin/users/{id}` with its forms: roles, sessions,
//! disable/enable.

use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::error::PageError;
use super::extract::{AdminPage, CsrfForm};
use super::form::NoFields;
use super::layout::Chrome;
use super::pager::Pager;
use super::{filters, flash, render};
use crate::domain::{ClientInfo, RoleName};
use crate::services::audit::AuditView;
use crate::services::search::{self, UserQuery};
use crate::services::sessions::{AdminTarget, SessionView};
use crate::services::throttle::{self, AccountThrottle};
use crate::services::{self, Paging, admin, roles, sessions};
use crate::state::AppState;

pub const PER_PAGE: i64 = 25;

pub struct UserRow {
    pub id: Uuid,
    pub username: String,
    pub email: String,
    pub roles: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    pub active_sessions: i64,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    chrome: Chrome,
    q: String,
    role: String,
    roles: Vec<String>,
    rows: Vec<UserRow>,
    total: i64,
    pager: Pager,
}

#[derive(Deserialize)]
pub struct ListParams {
    q: Option<String>,
    role: Option<String>,
    page: Option<i64>,
}

#[get("/users")]
pub async fn list(
    state: web::Data<AppState>,
    admin: AdminPage,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, PageError> {
    let params = params.into_inner();
    let query = UserQuery::new(
        params.q.clone(),
        params.role.clone(),
        params.page,
        Some(PER_PAGE),
    );
    let listing = search::listing(&state, query).await?;
    let found = listing.page;
    let (q, role) = (
        params.q.unwrap_or_default(),
        params.role.unwrap_or_default(),
    );
    let pager = Pager::new(
        "/admin/users",
        &[("q", &q), ("role", &role)],
        Paging::new(Some(found.page), PER_PAGE),
        found.has_next(),
        Some(found.total),
    );
    let rows = found
        .users
        .into_iter()
        .map(|u| UserRow {
            active_sessions: listing.live_sessions.get(&u.id).copied().unwrap_or(0),
            id: u.id,
            email: u.email.unwrap_or_default(),
            roles: u.roles.join(", "),
            disabled: u.disabled,
            created_at: u.created_at,
            last_login_at: u.last_login_at,
            username: u.username,
        })
        .collect();
    let chrome = admin.chrome("users");
    let shown = chrome.shown_flash();
    render(
        &UsersPage {
            chrome,
            q,
            role,
            roles: listing.role_names,
            rows,
            total: found.total,
            pager,
        },
        shown,
    )
}

pub struct RoleChoice {
    pub name: String,
    pub description: String,
    pub checked: bool,
    /// Shown but not changeable here, with the reason.
    pub locked: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    chrome: Chrome,
    id: Uuid,
    username: String,
    email: String,
    disabled: bool,
    created_at: DateTime<Utc>,
    last_login_at: Option<DateTime<Utc>>,
    roles: Vec<RoleChoice>,
    sessions: Vec<SessionView>,
    active_sessions: usize,
    events: Vec<AuditView>,
    is_self: bool,
    /// Failed-login throttling of the account on this instance.
    throttle: AccountThrottle,
}

/// Parses `{id}`; an id that is not a UUID names no user.
pub(super) fn parse_id(raw: &str) -> Result<Uuid, PageError> {
    Uuid::parse_str(raw).map_err(|_| PageError::NotFound)
}

#[get("/users/{id}")]
pub async fn detail(
    state: web::Data<AppState>,
    admin: AdminPage,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = parse_id(&path)?;
    let dossier = search::dossier(&state, id).await?;
    let detail = dossier.detail;
    let is_self = detail.user.id == admin.principal.user_id;
    let roles = dossier
        .roles
        .into_iter()
        .map(|r| {
            let checked = detail.user.roles.contains(&r.name);
            let locked = (is_self && checked && r.name == RoleName::ADMIN)
                .then_some("You cannot remove your own admin role.");
            RoleChoice {
                checked,
                locked,
                name: r.name,
                description: r.description,
            }
        })
        .collect();
    let active_sessions = detail
        .sessions
        .iter()
        .filter(|s| s.revoked_at.is_none())
        .count();
    let throttle = throttle::account_state(&state, id, &detail.user.username).await?;
    let chrome = admin.chrome("users");
    let shown = chrome.shown_flash();
    let user = detail.user;
    render(
        &UserPage {
            chrome,
            id: user.id,
            email: user.email.unwrap_or_default(),
            disabled: user.disabled,
            created_at: user.created_at,
            last_login_at: user.last_login_at,
            username: user.username,
            roles,
            sessions: detail.sessions,
            active_sessions,
            events: dossier.events,
            is_self,
            throttle,
        },
        shown,
    )
}

/// Back to the user's page: with `done` on success, with the reason when a rule refused the
/// action; anything else is an error page.
pub(super) fn outcome<T>(
    state: &AppState,
    id: Uuid,
    result: Result<T, services::Error>,
    done: impl FnOnce(T) -> String,
) -> Result<HttpResponse, PageError> {
    let page = format!("/admin/users/{id}");
    let secure = state.config.cookie_secure;
    match result {
        Ok(value) => Ok(flash::redirect(&page, true, &done(value), secure)),
        Err(services::Error::Invalid(reason)) => Ok(flash::redirect(&page, false, &reason, secure)),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct RolesFields {
    #[serde(default)]
    roles: Vec<String>,
}

#[post("/users/{id}/roles")]
pub async fn set_roles(
    state: web::Data<AppState>,
    admin: AdminPage,
    path: web::Path<String>,
    CsrfForm(form): CsrfForm<RolesFields>,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    let id = parse_id(&path)?;
    let result = roles::assign(&state, &admin.principal, id, form.roles, &client).await;
    outcome(&state, id, result, |u| match u.roles.as_slice() {
        [] => "Roles saved: none.".to_owned(),
        roles => format!("Roles saved: {}.", roles.join(", ")),
    })
}

#[post("/users/{id}/sessions/revoke")]
pub async fn revoke_sessions(
    state: web::Data<AppState>,
    admin: AdminPage,
    path: web::Path<String>,
    _form: CsrfForm<NoFields>,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    let id = parse_id(&path)?;
    let target = AdminTarget::EverySessionOf(id);
    let result = sessions::revoke_by_admin(&state, &admin.principal, target, &client).await;
    outcome(&state, id, result, |n| match n {
        1 => "Revoked 1 session.".to_owned(),
        n => format!("Revoked {n} sessions."),
    })
}

/// `/admin/users/{id}/disable` and `/admin/users/{id}/enable`.
#[post("/users/{id}/{action:disable|enable}")]
pub async fn set_disabled(
    state: web::Data<AppState>,
    admin: AdminPage,
    path: web::Path<(String, String)>,
    _form: CsrfForm<NoFields>,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    let (id, action) = path.into_inner();
    let id = parse_id(&id)?;
    let disable = action == "disable";
    let result = admin::set_disabled(&state, &admin.principal, id, disable, &client).await;
    outcome(&state, id, result, |_| {
        if disable {
            "Account disabled; its sessions were revoked.".to_owned()
        } else {
            "Account enabled.".to_owned()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The revoke button of a session goes back to the user's page, not to a page named by the
    /// session's id.
    #[test]
    fn revoking_one_session_returns_to_the_users_page() {
        let (user_id, session_id) = (Uuid::now_v7(), Uuid::now_v7());
        let now = Utc::now();
        let page = UserPage {
            chrome: Chrome::bare(),
            id: user_id,
            username: "bob".into(),
            email: String::new(),
            disabled: false,
            created_at: now,
            last_login_at: None,
            roles: Vec::new(),
            sessions: vec![SessionView {
                id: session_id,
                kind: "api".into(),
                created_at: now,
                last_used_at: now,
                expires_at: now,
                revoked_at: None,
                user_agent: None,
                ip: None,
                current: None,
            }],
            active_sessions: 1,
            events: Vec::new(),
            is_self: false,
            throttle: AccountThrottle::default(),
        };
        let html = page.render().unwrap();
        assert!(html.contains(&format!(r#"action="/admin/sessions/{session_id}/revoke""#)));
        assert!(html.contains(&format!(
            r#"name="return_to" value="/admin/users/{user_id}""#
        )));
    }
}
