//! `/admin/users` (search, filter, pages) and `/admin/users/{id}` with its forms: roles, sessions,
//! disable/enable.

use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::error::PageError;
use super::extract::{AdminPage, CsrfForm};
use super::form::NoFields;
use super::layout::Chrome;
use super::pager::Pager;
use super::{flash, render, when, when_opt};
use crate::domain::{ClientInfo, RoleName};
use crate::services::audit::AuditView;
use crate::services::search::{self, UserQuery};
use crate::services::sessions::SessionView;
use crate::services::{self, Paging, admin, roles, sessions};
use crate::state::AppState;

pub const PER_PAGE: i64 = 25;

pub struct UserRow {
    pub id: Uuid,
    pub username: String,
    pub email: String,
    pub roles: String,
    pub disabled: bool,
    pub created: String,
    pub last_login: String,
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
            created: when(&u.created_at),
            last_login: when_opt(&u.last_login_at),
            username: u.username,
        })
        .collect();
    let chrome = admin.chrome("users");
    let shown = chrome.flash.is_some();
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

pub struct SessionRow {
    pub id: Uuid,
    pub kind: String,
    pub created: String,
    pub last_used: String,
    pub expires: String,
    pub revoked: Option<String>,
    pub ip: String,
    pub user_agent: String,
}

impl From<SessionView> for SessionRow {
    fn from(s: SessionView) -> Self {
        Self {
            id: s.id,
            kind: s.kind,
            created: when(&s.created_at),
            last_used: when(&s.last_used_at),
            expires: when(&s.expires_at),
            revoked: s.revoked_at.as_ref().map(when),
            ip: s.ip.unwrap_or_default(),
            user_agent: s.user_agent.unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    chrome: Chrome,
    id: Uuid,
    username: String,
    email: String,
    disabled: bool,
    created: String,
    last_login: String,
    roles: Vec<RoleChoice>,
    sessions: Vec<SessionRow>,
    active_sessions: usize,
    events: Vec<AuditView>,
    is_self: bool,
}

impl UserPage {
    fn when(&self, t: &chrono::DateTime<chrono::Utc>) -> String {
        when(t)
    }
}

/// Parses `{id}`; an id that is not a UUID names no user.
fn parse_id(raw: &str) -> Result<Uuid, PageError> {
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
    let chrome = admin.chrome("users");
    let shown = chrome.flash.is_some();
    let user = detail.user;
    render(
        &UserPage {
            chrome,
            id: user.id,
            email: user.email.unwrap_or_default(),
            disabled: user.disabled,
            created: when(&user.created_at),
            last_login: when_opt(&user.last_login_at),
            username: user.username,
            roles,
            sessions: detail.sessions.into_iter().map(SessionRow::from).collect(),
            active_sessions,
            events: dossier.events,
            is_self,
        },
        shown,
    )
}

/// Back to the user's page: with `done` on success, with the reason when a rule refused the
/// action; anything else is an error page.
fn outcome<T>(
    id: Uuid,
    result: Result<T, services::Error>,
    done: impl FnOnce(T) -> String,
) -> Result<HttpResponse, PageError> {
    let page = format!("/admin/users/{id}");
    match result {
        Ok(value) => Ok(flash::redirect(&page, true, &done(value))),
        Err(services::Error::Invalid(reason)) => Ok(flash::redirect(&page, false, &reason)),
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
    outcome(id, result, |u| match u.roles.as_slice() {
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
    let result = sessions::revoke_all_by_admin(&state, &admin.principal, id, &client).await;
    outcome(id, result, |n| match n {
        1 => "Revoked 1 session.".to_owned(),
        n => format!("Revoked {n} sessions."),
    })
}

#[post("/users/{id}/disable")]
pub async fn disable(
    state: web::Data<AppState>,
    admin: AdminPage,
    path: web::Path<String>,
    _form: CsrfForm<NoFields>,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    let id = parse_id(&path)?;
    let result = admin::set_disabled(&state, &admin.principal, id, true, &client).await;
    outcome(id, result, |_| {
        "Account disabled; its sessions were revoked.".to_owned()
    })
}

#[post("/users/{id}/enable")]
pub async fn enable(
    state: web::Data<AppState>,
    admin: AdminPage,
    path: web::Path<String>,
    _form: CsrfForm<NoFields>,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    let id = parse_id(&path)?;
    let result = admin::set_disabled(&state, &admin.principal, id, false, &client).await;
    outcome(id, result, |_| "Account enabled.".to_owned())
}
