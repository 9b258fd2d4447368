//! `/admin/roles`: roles with member counts; create one.

use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use serde::Deserialize;

use super::error::PageError;
use super::extract::{AdminPage, CsrfForm};
use super::layout::Chrome;
use super::{flash, render};
use crate::domain::ClientInfo;
use crate::services::roles::{self, RoleView};
use crate::services::{self};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "admin/roles.html")]
struct RolesPage {
    chrome: Chrome,
    roles: Vec<RoleView>,
}

#[get("/roles")]
pub async fn list(state: web::Data<AppState>, admin: AdminPage) -> Result<HttpResponse, PageError> {
    let roles = roles::list(&state).await?;
    let chrome = admin.chrome("roles");
    let shown = chrome.shown_flash();
    render(&RolesPage { chrome, roles }, shown)
}

#[derive(Deserialize)]
pub struct NewRole {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

#[post("/roles")]
pub async fn create(
    state: web::Data<AppState>,
    admin: AdminPage,
    CsrfForm(form): CsrfForm<NewRole>,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    let result = roles::create(
        &state,
        &admin.principal,
        &form.name,
        &form.description,
        &client,
    )
    .await;
    let secure = state.config.cookie_secure;
    let back = |ok, message: &str| Ok(flash::redirect("/admin/roles", ok, message, secure));
    match result {
        Ok(role) => back(true, &format!("Role {} created.", role.name)),
        Err(services::Error::Invalid(reason)) => back(false, &reason),
        Err(services::Error::RoleExists) => back(false, "A role with that name already exists."),
        Err(e) => Err(e.into()),
    }
}
