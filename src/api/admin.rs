//! `/api/admin/*`: the administrators' JSON API. Every handler takes `RequireRole<Admin>`.

use actix_web::{HttpResponse, delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::ApiError;
use super::error::Problem;
use crate::domain::ClientInfo;
use crate::identity::{Admin, RequireRole};
use crate::services::accounts::UserView;
use crate::services::roles::RoleView;
use crate::services::search::{self, UserDetail, UserPage, UserQuery};
use crate::services::sessions::AdminTarget::{EverySessionOf, Session};
use crate::services::{admin, roles, sessions};
use crate::state::AppState;

type AdminOnly = RequireRole<Admin>;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// A substring of the username or email, without regard to case.
    q: Option<String>,
    /// Only users holding this role (exact name).
    role: Option<String>,
    /// Page number, default 1 (values below 1 count as 1).
    page: Option<i64>,
    /// Page size, default 20, at most 100.
    per_page: Option<i64>,
}

/// Search users
///
/// Newest accounts first. An unknown parameter is `400`.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "One page of matching users.", body = UserPage),
        (status = 400, description = "`invalid_request`: a malformed or unknown query \
            parameter.", body = Problem),
    )
)]
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

/// One user, with sessions
///
/// The user object with `sessions`: unexpired sessions of both kinds, revoked ones included.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A user id")),
    responses(
        (status = 200, description = "The user with their sessions.", body = UserDetail),
        (status = 404, description = "`not_found`: no such user.", body = Problem),
    )
)]
#[get("/api/admin/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    _admin: AdminOnly,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(search::detail(&state, path.into_inner()).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesBody {
    /// The complete new set of role names.
    #[schema(example = json!(["user", "billing"]))]
    roles: Vec<String>,
}

/// Replace a user's roles
///
/// Every access token of the user issued before the change stops working.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A user id")),
    responses(
        (status = 200, description = "The updated user.", body = UserView),
        (status = 400, description = "`invalid_request`: a malformed or unknown role name, or a \
            guard rail (your own admin role, the last administrator).", body = Problem),
        (status = 404, description = "`not_found`: no such user.", body = Problem),
    )
)]
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

/// Disable a user
///
/// Ends every session of the user at once. Disabling a disabled user is harmless.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A user id")),
    responses(
        (status = 200, description = "The user, `disabled: true`.", body = UserView),
        (status = 400, description = "`invalid_request`: a guard rail (yourself, the last \
            administrator).", body = Problem),
        (status = 404, description = "`not_found`: no such user.", body = Problem),
    )
)]
#[post("/api/admin/users/{id}/disable")]
pub async fn disable_user(
    state: web::Data<AppState>,
    admin: AdminOnly,
    path: web::Path<Uuid>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    set_disabled(&state, &admin, path.into_inner(), true, &client).await
}

/// Enable a user
///
/// Ended sessions stay ended; the user logs in again.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A user id")),
    responses(
        (status = 200, description = "The user, `disabled: false`.", body = UserView),
        (status = 404, description = "`not_found`: no such user.", body = Problem),
    )
)]
#[post("/api/admin/users/{id}/enable")]
pub async fn enable_user(
    state: web::Data<AppState>,
    admin: AdminOnly,
    path: web::Path<Uuid>,
    client: ClientInfo,
) -> Result<HttpResponse, ApiError> {
    set_disabled(&state, &admin, path.into_inner(), false, &client).await
}

async fn set_disabled(
    state: &AppState,
    admin: &AdminOnly,
    id: Uuid,
    disable: bool,
    client: &ClientInfo,
) -> Result<HttpResponse, ApiError> {
    let user = admin::set_disabled(state, &admin.principal, id, disable, client).await?;
    Ok(HttpResponse::Ok().json(user))
}

/// End all of a user's sessions
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A user id")),
    responses(
        (status = 204, description = "Every live session of the user is ended."),
        (status = 404, description = "`not_found`: no such user.", body = Problem),
    )
)]
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

/// End one session of any user
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "A session id")),
    responses(
        (status = 204, description = "The session is ended."),
        (status = 404, description = "`not_found`: no such session.", body = Problem),
    )
)]
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

/// Every role.
#[derive(Serialize, ToSchema)]
pub struct RoleList {
    /// Sorted by name, each with its member count.
    roles: Vec<RoleView>,
}

/// List roles
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    responses((status = 200, description = "Every role.", body = RoleList))
)]
#[get("/api/admin/roles")]
pub async fn list_roles(
    state: web::Data<AppState>,
    _admin: AdminOnly,
) -> Result<HttpResponse, ApiError> {
    let roles = roles::list(&state).await?;
    Ok(HttpResponse::Ok().json(RoleList { roles }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRoleBody {
    /// 1 to 32 characters of `a-z 0-9 _ -` (surrounding whitespace is dropped).
    #[schema(example = "billing", pattern = "^[a-z0-9_-]{1,32}$")]
    name: String,
    /// At most 200 characters; default empty.
    #[serde(default)]
    #[schema(example = "Reads invoices", max_length = 200)]
    description: String,
}

/// Create a role
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new role, with `members: 0`.", body = RoleView,
            headers(("Location" = String, description = "`/api/admin/roles`"))),
        (status = 400, description = "`invalid_request`: the body is malformed, the name breaks \
            the rules, or the description is too long.", body = Problem),
        (status = 409, description = "`role_exists`.", body = Problem),
    )
)]
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
