//! `/admin/roles`: roles with member counts; create one.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::error::PageError;
use super::form::Form;
use super::layout::Chrome;
use super::{csrf, flash, render};
use crate::auth::{Admin, ClientInfo, RequireRole};
use crate::db;
use crate::services::roles::{self, RoleView};
use crate::services::users::UserError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "admin/roles.html")]
struct RolesPage {
    chrome: Chrome,
    roles: Vec<RoleView>,
}

#[get("/roles")]
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
) -> Result<HttpResponse, PageError> {
    let roles = db::run(&state.pool, |conn| roles::list(conn)).await?;
    let chrome = Chrome::new(&req, &admin.principal, "roles");
    let shown = chrome.flash.is_some();
    render(&RolesPage { chrome, roles }, shown)
}

#[derive(Deserialize)]
pub struct NewRole {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

#[post("/roles")]
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireRole<Admin>,
    Form(form): Form<NewRole>,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    csrf::verify(&req, &admin.principal, &form.csrf_token)?;
    let actor = admin.principal.user_id;
    let name = form.name.trim().to_owned();
    let result = db::run(&state.pool, move |conn| {
        roles::create(conn, actor, &name, &form.description, &client)
    })
    .await;
    match result {
        Ok(role) => Ok(flash::redirect(
            "/admin/roles",
            true,
            &format!("Role {} created.", role.name),
        )),
        Err(UserError::Invalid(reason)) => Ok(flash::redirect("/admin/roles", false, &reason)),
        Err(UserError::RoleExists) => Ok(flash::redirect(
            "/admin/roles",
            false,
            "A role with that name already exists.",
        )),
        Err(e) => Err(e.into()),
    }
}
