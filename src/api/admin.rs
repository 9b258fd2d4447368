//! `/api/admin/*`: the administrators' JSON API. Every handler takes `RequireRole<Admin>`.

use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::ApiError;
use crate::domain::ClientInfo;
use crate::identity::{Admin, RequireRole};
use crate::services::search::{self, UserQuery};
use crate::services::sessions::AdminTarget::{EverySessionOf, Session};
use crate::services::{admin, roles, sessions};
use crate::state::AppState;

type AdminOnly = RequireRole<Admin>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    q: Option<String>,
    role: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

#[get("/api/admin/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    _admin: AdminOnly,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let p = params.into_inner();
    let query = UserQuery::new(p.q, p.role, p.page, p.per_page);
    Ok(HttpResponse::Ok().json(search::users(&state, query).await?))
}

#[get("/api/admin/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    _admin: AdminOnly,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(search::detail(&state, path.into_inner()).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolesBody {
    roles: Vec<String>,
}

#[put("/api/admin/users/{id}/roles")]
pub async fn set_roles(
    state: web::Data<AppState>,
    admin: AdminOnly,
    path: web::Path<Uuid>,
    body: web::Json<RolesBody>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let (id, requested) = (path.into_inner(), body.into_inner().roles);
    let user = roles::assign(&state, &admin.principal, id, requested, &client).await?;
    Ok(HttpResponse::Ok().json(user))
}

/// `POST /api/admin/users/{id}/disable` and `.../enable`.
#[post("/api/admin/users/{id}/{action:disable|enable}")]
pub async fn disable_or_enable_user(
    state: web::Data<AppState>,
    admin: AdminOnly,
    path: web::Path<(Uuid, String)>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let (id, action) = path.into_inner();
    let disable = action == "disable";
    let user = admin::set_disabled(&state, &admin.principal, id, disable, &client).await?;
    Ok(HttpResponse::Ok().json(user))
}

#[delete("/api/admin/users/{id}/sessions")]
pub async fn revoke_user_sessions(
    state: web::Data<AppState>,
    admin: AdminOnly,
    path: web::Path<Uuid>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    sessions::revoke_by_admin(&state, &admin.principal, EverySessionOf(id), &client).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[delete("/api/admin/sessions/{id}")]
pub async fn revoke_session(
    state: web::Data<AppState>,
    admin: AdminOnly,
    path: web::Path<Uuid>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    sessions::revoke_by_admin(&state, &admin.principal, Session(id), &client).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[get("/api/admin/roles")]
pub async fn list_roles(
    state: web::Data<AppState>,
    _admin: AdminOnly,
) -> Result<HttpResponse, ApiError> {
    let roles = roles::list(&state).await?;
    Ok(HttpResponse::Ok().json(json!({ "roles": roles })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRoleBody {
    name: String,
    #[serde(default)]
    description: String,
}

#[post("/api/admin/roles")]
pub async fn create_role(
    state: web::Data<AppState>,
    admin: AdminOnly,
    body: web::Json<NewRoleBody>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let role = roles::create(
        &state,
        &admin.principal,
        &body.name,
        &body.description,
        &client,
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", "/api/admin/roles"))
        .json(role))
}
