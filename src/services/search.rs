//! Finding users: the admin user list (search, role filter, pages) and one user in full.

use std::collections::HashMap;

use chrono::Utc;
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::accounts::UserView;
use super::audit::{self, AuditFilter, AuditView};
use super::roles::{self, RoleView};
use super::sessions::{self, SessionView};
use super::{Error, Paging};
use crate::db::models::role::Role;
use crate::db::models::session::Session;
use crate::db::models::user::{User, UserFilter};
use crate::db::{self};
use crate::state::AppState;

/// Filters of the admin user list.
#[derive(Debug, Clone)]
pub struct UserQuery {
    /// A substring of the username or email, lower-cased.
    pub q: Option<String>,
    pub role: Option<String>,
    pub paging: Paging,
}

impl UserQuery {
    pub const MAX_PER_PAGE: i64 = 100;
    pub const DEFAULT_PER_PAGE: i64 = 20;

    /// Empty filters are no filters; paging is bounded (per_page 1..=100).
    pub fn new(
        q: Option<String>,
        role: Option<String>,
        page: Option<i64>,
        per_page: Option<i64>,
    ) -> Self {
        let per_page = per_page
            .unwrap_or(Self::DEFAULT_PER_PAGE)
            .clamp(1, Self::MAX_PER_PAGE);
        Self {
            q: q.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()),
            role: role.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
            paging: Paging::new(page, per_page),
        }
    }
}

/// One page of the admin user list, newest accounts first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserPage {
    pub users: Vec<UserView>,
    #[schema(example = 1)]
    pub page: i64,
    #[schema(example = 20)]
    pub per_page: i64,
    /// Every match, not just this page.
    pub total: i64,
}

impl UserPage {
    pub fn has_next(&self) -> bool {
        self.page.saturating_mul(self.per_page) < self.total
    }
}

/// Newest first; `total` counts every match, not just this page.
fn search_in(conn: &mut PgConnection, query: &UserQuery) -> Result<UserPage, Error> {
    let paging = query.paging;
    let empty = UserPage {
        users: Vec::new(),
        page: paging.page,
        per_page: paging.per_page,
        total: 0,
    };
    // No stored name or address contains NUL, and PostgreSQL text cannot even carry one.
    if query.q.as_deref().is_some_and(|q| q.contains('\0')) {
        return Ok(empty);
    }
    let role_id = match &query.role {
        None => None,
        // Nobody holds a role that does not exist.
        Some(name) => match Role::id_of(conn, name)? {
            Some(id) => Some(id),
            None => return Ok(empty),
        },
    };
    // The role is resolved to its id first so the planner sees which role it is (a join on the
    // name would estimate every role as holding half the users).
    let filter = UserFilter {
        term: query.q.clone(),
        role_id,
    };
    User::with_custom_plans(conn, |conn| {
        let total = User::count_matching(conn, &filter)?;
        let rows = User::matching_page(conn, &filter, paging.offset(), paging.per_page)?;
        let ids: Vec<Uuid> = rows.iter().map(|u| u.id).collect();
        let mut roles = User::role_names_of(conn, &ids)?;
        let users = rows
            .into_iter()
            .map(|u| {
                let r = roles.remove(&u.id).unwrap_or_default();
                UserView::new(u, r)
            })
            .collect();
        Ok(UserPage {
            users,
            total,
            ..empty
        })
    })
}

/// `GET /api/admin/users`.
pub async fn users(state: &AppState, query: UserQuery) -> Result<UserPage, Error> {
    db::run(&state.pool, move |conn| search_in(conn, &query)).await
}

/// The dashboard's users table: a page of users, their live session counts, every role name.
pub struct UserListing {
    pub page: UserPage,
    pub live_sessions: HashMap<Uuid, i64>,
    pub role_names: Vec<String>,
}

pub async fn listing(state: &AppState, query: UserQuery) -> Result<UserListing, Error> {
    db::run(&state.pool, move |conn| {
        let page = search_in(conn, &query)?;
        let ids: Vec<Uuid> = page.users.iter().map(|u| u.id).collect();
        let live_sessions = Session::live_counts(conn, &ids, Utc::now())?;
        let role_names = Role::names(conn)?;
        Ok(UserListing {
            page,
            live_sessions,
            role_names,
        })
    })
    .await
}

/// The user object with their sessions (`GET /api/admin/users/{id}`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserDetail {
    #[serde(flatten)]
    pub user: UserView,
    pub sessions: Vec<SessionView>,
}

fn detail_in(conn: &mut PgConnection, user_id: Uuid) -> Result<UserDetail, Error> {
    let user = UserView::load(conn, user_id)?;
    let sessions = sessions::of_user_in(conn, user_id, None)?;
    Ok(UserDetail { user, sessions })
}

pub async fn detail(state: &AppState, user_id: Uuid) -> Result<UserDetail, Error> {
    db::run(&state.pool, move |conn| detail_in(conn, user_id)).await
}

/// How many of a user's latest audit events their page shows.
pub const RECENT_EVENTS: i64 = 20;

/// The dashboard's user page: the user with sessions, every role, their latest audit events.
pub struct UserDossier {
    pub detail: UserDetail,
    pub roles: Vec<RoleView>,
    pub events: Vec<AuditView>,
}

pub async fn dossier(state: &AppState, user_id: Uuid) -> Result<UserDossier, Error> {
    db::run(&state.pool, move |conn| {
        let detail = detail_in(conn, user_id)?;
        let filter = AuditFilter {
            event: None,
            user_id: Some(user_id),
        };
        let events = audit::page_in(conn, &filter, Paging::new(None, RECENT_EVENTS))?.items;
        Ok(UserDossier {
            detail,
            roles: roles::list_in(conn)?,
            events,
        })
    })
    .await
}
