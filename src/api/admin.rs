//! `/api/admin/*`: the administrators' JSON API. Every handler takes `RequireRole<Admin>`.

use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::auth::{Admin, ClientInfo, RequireRole};
use crate::db;
use crate::error::ApiError;
use crate::services::audit::event;
use crate::services::roles;
use crate::services::sessions::{self, Scope};
use crate::services::users::{self, UserQuery};
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
    let page = db::run(&state.pool, move |conn| users::search(conn, &query)).await?;
    Ok(HttpResponse::Ok().json(page))
}

#[get("/api/admin/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    _admin: AdminOnly,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let detail = db::run(&state.pool, move |conn| users::detail(conn, id)).await?;
    Ok(HttpResponse::Ok().json(detail))
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
    let user = users::set_roles(
        &state,
        &admin.principal,
        path.into_inner(),
        body.into_inner().roles,
        client,
    )
    .await?;
    Ok(HttpResponse::Ok().json(user))
}

#[post("/api/admin/users/{id}/disable")]
pub async fn disable_user(
    state: web::Data<AppState>,
    admin: AdminOnly,
    path: web::Path<Uuid>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let user =
        users::set_disabled(&state, &admin.principal, path.into_inner(), true, client).await?;
    Ok(HttpResponse::Ok().json(user))
}

#[post("/api/admin/users/{id}/enable")]
pub async fn enable_user(
    state: web::Data<AppState>,
    admin: AdminOnly,
    path: web::Path<Uuid>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let user =
        users::set_disabled(&state, &admin.principal, path.into_inner(), false, client).await?;
    Ok(HttpResponse::Ok().json(user))
}

#[delete("/api/admin/users/{id}/sessions")]
pub async fn revoke_user_sessions(
    state: web::Data<AppState>,
    admin: AdminOnly,
    path: web::Path<Uuid>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let user_id = path.into_inner();
    let scope = Scope::AllOf {
        user_id,
        keep: None,
    };
    sessions::revoke(
        &state,
        scope,
        admin.principal.user_id,
        event::SESSIONS_REVOKED,
        "revoked_by_admin",
        client,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[delete("/api/admin/sessions/{id}")]
pub async fn revoke_session(
    state: web::Data<AppState>,
    admin: AdminOnly,
    path: web::Path<Uuid>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let scope = Scope::One {
        session_id: path.into_inner(),
        owner: None,
    };
    sessions::revoke(
        &state,
        scope,
        admin.principal.user_id,
        event::SESSIONS_REVOKED,
        "revoked_by_admin",
        client,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[get("/api/admin/roles")]
pub async fn list_roles(
    state: web::Data<AppState>,
    _admin: AdminOnly,
) -> Result<HttpResponse, ApiError> {
    let roles = db::run(&state.pool, |conn| roles::list(conn)).await?;
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
    let actor = admin.principal.user_id;
    let role = db::run(&state.pool, move |conn| {
        roles::create(conn, actor, &body.name, &body.description, &client)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", "/api/admin/roles"))
        .json(role))
}
