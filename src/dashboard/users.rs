//! `/admin/users` (search, filter, pages) and `/admin/users/{id}` with its forms: roles, sessions,
//! disable/enable.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::error::PageError;
use super::form::{CsrfOnly, Form};
use super::layout::Chrome;
use super::pager::Pager;
use super::{csrf, flash, render, when, when_opt};
use crate::auth::sessions::active_counts;
use crate::auth::{Admin, ClientInfo, RequireRole};
use crate::db;
use crate::domain::RoleName;
use crate::services::audit::{self, AuditFilter, AuditView, event};
use crate::services::roles;
use crate::services::sessions::{self as session_service, Scope, SessionView};
use crate::services::users::{self, UserError, UserQuery};
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
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, PageError> {
    let params = params.into_inner();
    let query = UserQuery::new(
        params.q.clone(),
        params.role.clone(),
        params.page,
        Some(PER_PAGE),
    );
    let (found, counts, all_roles) = db::run(&state.pool, move |conn| {
        let found = users::search(conn, &query)?;
        let ids: Vec<Uuid> = found.users.iter().map(|u| u.id).collect();
        let counts = active_counts(conn, &ids)?;
        Ok::<_, UserError>((found, counts, roles::names(conn)?))
    })
    .await?;
    let q = params.q.unwrap_or_default();
    let role = params.role.unwrap_or_default();
    let rows = found
        .users
        .into_iter()
        .map(|u| UserRow {
            active_sessions: counts.get(&u.id).copied().unwrap_or(0),
            id: u.id,
            email: u.email.unwrap_or_default(),
            roles: u.roles.join(", "),
            disabled: u.disabled,
            created: when(&u.created_at),
            last_login: when_opt(&u.last_login_at),
            username: u.username,
        })
        .collect();
    let has_next = found.page * found.per_page < found.total;
    let pager = Pager::new(
        "/admin/users",
        &[("q", &q), ("role", &role)],
        found.page,
        has_next,
        Some(found.total),
        PER_PAGE,
    );
    let chrome = Chrome::new(&req, &admin.principal, "users");
    let shown = chrome.flash.is_some();
    render(
        &UsersPage {
            chrome,
            q,
            role,
            roles: all_roles,
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

#[get("/users/{id}")]
pub async fn detail(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = Uuid::parse_str(&path.into_inner()).map_err(|_| PageError::NotFound)?;
    let (detail, all_roles, events) = db::run(&state.pool, move |conn| {
        let detail = users::detail(conn, id)?;
        let filter = AuditFilter {
            event: None,
            user_id: Some(id),
        };
        let (events, _) = audit::search(conn, &filter, 1, 20)?;
        Ok::<_, UserError>((detail, roles::list(conn)?, events))
    })
    .await?;
    let is_self = detail.user.id == admin.principal.user_id;
    let roles = all_roles
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
    let chrome = Chrome::new(&req, &admin.principal, "users");
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
            events,
            is_self,
        },
        shown,
    )
}

fn user_path(id: Uuid) -> String {
    format!("/admin/users/{id}")
}

/// Parses `{id}`; an id that is not a UUID names no user.
fn parse_id(raw: String) -> Result<Uuid, PageError> {
    Uuid::parse_str(&raw).map_err(|_| PageError::NotFound)
}

/// A refused action goes back to the page with the reason; anything else is an error page.
fn outcome<T>(
    id: Uuid,
    result: Result<T, UserError>,
    done: &str,
) -> Result<HttpResponse, PageError> {
    match result {
        Ok(_) => Ok(flash::redirect(&user_path(id), true, done)),
        Err(UserError::Invalid(reason)) => Ok(flash::redirect(&user_path(id), false, &reason)),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct RolesForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    roles: Vec<String>,
}

#[post("/users/{id}/roles")]
pub async fn set_roles(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    path: web::Path<String>,
    Form(form): Form<RolesForm>,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    csrf::verify(&req, &admin.principal, &form.csrf_token)?;
    let id = parse_id(path.into_inner())?;
    let result = users::set_roles(&state, &admin.principal, id, form.roles, client).await;
    let done = match &result {
        Ok(u) if u.roles.is_empty() => "Roles saved: none.".to_owned(),
        Ok(u) => format!("Roles saved: {}.", u.roles.join(", ")),
        Err(_) => String::new(),
    };
    outcome(id, result, &done)
}

#[post("/users/{id}/sessions/revoke")]
pub async fn revoke_sessions(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    path: web::Path<String>,
    Form(form): Form<CsrfOnly>,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    csrf::verify(&req, &admin.principal, &form.csrf_token)?;
    let id = parse_id(path.into_inner())?;
    let scope = Scope::AllOf {
        user_id: id,
        keep: None,
    };
    let result = session_service::revoke(
        &state,
        scope,
        admin.principal.user_id,
        event::SESSIONS_REVOKED,
        "revoked_by_admin",
        client,
    )
    .await;
    let done = match &result {
        Ok(ids) if ids.len() == 1 => "Revoked 1 session.".to_owned(),
        Ok(ids) => format!("Revoked {} sessions.", ids.len()),
        Err(_) => String::new(),
    };
    outcome(id, result, &done)
}

async fn set_disabled(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    raw_id: String,
    form: CsrfOnly,
    client: ClientInfo,
    turn_off: bool,
) -> Result<HttpResponse, PageError> {
    csrf::verify(&req, &admin.principal, &form.csrf_token)?;
    let id = parse_id(raw_id)?;
    let result = users::set_disabled(&state, &admin.principal, id, turn_off, client).await;
    let done = if turn_off {
        "Account disabled; its sessions were revoked."
    } else {
        "Account enabled."
    };
    outcome(id, result, done)
}

#[post("/users/{id}/disable")]
pub async fn disable(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    path: web::Path<String>,
    Form(form): Form<CsrfOnly>,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    set_disabled(req, state, admin, path.into_inner(), form, client, true).await
}

#[post("/users/{id}/enable")]
pub async fn enable(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    path: web::Path<String>,
    Form(form): Form<CsrfOnly>,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    set_disabled(req, state, admin, path.into_inner(), form, client, false).await
}
