//! The JSON face's routes and their OpenAPI 3.1 document, generated from the code.
//!
//! Every route of this face is registered in [`register`] through `utoipa-actix-web`, whose
//! `service` accepts only handlers annotated with `#[utoipa::path]`, and the document is collected
//! from that very registration: a route cannot be served without being in the document. The
//! statuses every route shares (500; 400/413/415 with a body; 401 with a token; ...) and the
//! problem+json content type of every error are added here, once, by [`finish`].

use std::sync::OnceLock;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, ResponseError, get, guard, web};
use serde_json::{Value, json};
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{AppExt, scope};

use super::error::ApiError;
use super::{admin, auth, cache, cors, docs, health, json, lifecycle, mail, verify, well_known};
use crate::methods;

/// Registers every route of the JSON face; CORS (when `cors_origins` is not empty) covers all but
/// the health probes.
pub fn configure(cfg: &mut web::ServiceConfig, cors_origins: &[String]) {
    register(&mut ServiceConfig::new(cfg), cors_origins);
}

fn register(cfg: &mut ServiceConfig<'_>, cors_origins: &[String]) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(
            scope::scope("")
                .guard(guard::fn_guard(cors::covers))
                .service(auth::register)
                .service(auth::login)
                .service(auth::refresh)
                .service(auth::me)
                .service(auth::logout)
                .service(auth::logout_all)
                .service(auth::change_password)
                .service(auth::list_sessions)
                .service(auth::revoke_session)
                .service(lifecycle::redeem_reset)
                .service(mail::forgot_password)
                .service(mail::verify_request)
                .service(mail::verify_email)
                .service(admin::list_users)
                .service(admin::get_user)
                .service(admin::set_roles)
                .service(admin::disable_user)
                .service(admin::enable_user)
                .service(admin::revoke_user_sessions)
                .service(admin::revoke_session)
                .service(admin::list_roles)
                .service(admin::create_role)
                .service(lifecycle::create_user)
                .service(lifecycle::update_user)
                .service(lifecycle::delete_user)
                .service(lifecycle::create_reset_link)
                .service(verify::verify)
                .service(well_known::jwks)
                .service(openapi_json)
                .service(reference)
                // Not a route: what an unknown path or method under these prefixes gets.
                .map(|scope| scope.service(methods::fallback(json::no_route)))
                .wrap(from_fn(cache::no_store_by_default))
                .wrap(cors::middleware(cors_origins))
                .wrap(from_fn(cors::problems)),
        );
}

/// The document, built once from the registration above.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let (_, doc) = App::new()
            .into_utoipa_app()
            .configure(|cfg| register(cfg, &[]))
            .split_for_parts();
        finish(serde_json::to_value(doc).unwrap_or_default())
    })
}

/// The OpenAPI document
///
/// This API, described as OpenAPI 3.1, generated from the code.
#[utoipa::path(
    tag = "docs",
    responses((status = 200, description = "The OpenAPI document.", body = Object))
)]
#[get("/api/openapi.json")]
pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

/// The API reference
///
/// This document as an HTML page, rendered on the server (no script, nothing from other sites).
#[utoipa::path(
    tag = "docs",
    responses((status = 200, description = "An HTML page.", body = String,
        content_type = "text/html"))
)]
#[get("/api/docs")]
pub async fn reference() -> HttpResponse {
    static PAGE: OnceLock<Result<String, String>> = OnceLock::new();
    match PAGE.get_or_init(|| docs::render(document()).map_err(|e| e.to_string())) {
        Ok(page) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(page.clone()),
        Err(e) => ApiError::internal(std::io::Error::other(e.clone())).error_response(),
    }
}

const DESCRIPTION: &str = "\
The JSON API of authd: accounts, sessions with rotating refresh tokens, roles, and the endpoints \
an nginx `auth_request` or another service uses to check access tokens.

Conventions: request bodies are JSON sent as `application/json`; unknown fields are refused. \
Every error is an RFC 9457 problem document (`application/problem+json`) whose `code` is a \
stable machine-readable name. Protected routes take `Authorization: Bearer <access token>`. \
Every GET route also answers HEAD; a known path asked with another method is `405` with \
`Allow`. Every response carries `X-Request-Id`.";

/// Adds what the code does not say route by route: info, the security scheme, tags, and the
/// error responses every route shares, all as `application/problem+json`.
fn finish(mut doc: Value) -> Value {
    doc["info"] = json!({
        "title": "authd",
        "version": env!("CARGO_PKG_VERSION"),
        "description": DESCRIPTION,
        "license": {"name": "MIT", "identifier": "MIT"},
    });
    doc["components"]["securitySchemes"] = json!({
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token from `POST /api/auth/login` or `POST /api/auth/refresh`.",
        }
    });
    doc["tags"] = json!([
        {"name": "auth", "description": "Accounts, logins, tokens and the caller's own sessions."},
        {"name": "admin", "description": "For holders of the `admin` role."},
        {"name": "verify", "description": "Token checks for a reverse proxy."},
        {"name": "keys", "description": "Public keys, to verify access tokens elsewhere."},
        {"name": "health", "description": "Liveness and readiness probes (plain JSON)."},
        {"name": "docs", "description": "This document, as JSON and as a page."},
    ]);
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            for (_, operation) in item.as_object_mut().into_iter().flatten() {
                shared_responses(path, operation);
            }
        }
    }
    doc
}

const PROBLEM: &str = "#/components/schemas/Problem";

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": PROBLEM}}},
    })
}

fn shared_responses(path: &str, operation: &mut Value) {
    let has_body = operation.get("requestBody").is_some();
    let secured = operation.get("security").is_some();
    let params = |place: &str| {
        operation["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["in"] == place))
    };
    let (in_path, in_query) = (params("path"), params("query"));
    let uses_database = ["/api/auth/", "/api/admin/", "/auth/verify"]
        .iter()
        .any(|p| path.starts_with(p));
    let Some(responses) = operation["responses"].as_object_mut() else {
        return;
    };
    // Errors a route declares itself are problem documents too.
    for (status, response) in responses.iter_mut() {
        if status.as_str() >= "400" {
            as_problem_json(response);
        }
    }
    let mut add = |status: &str, response: Value| {
        responses.entry(status).or_insert(response);
    };
    if has_body || in_query {
        add(
            "400",
            problem("`invalid_request`: the body or query string is malformed."),
        );
    }
    if secured {
        add(
            "401",
            problem(
                "`invalid_token`: no access token, or one that is malformed, expired or revoked.",
            ),
        );
    }
    if path.starts_with("/api/admin/") {
        add(
            "403",
            problem("`insufficient_role`: the token does not carry the `admin` role."),
        );
    }
    if in_path {
        add(
            "404",
            problem("`not_found`: the id is malformed or names nothing."),
        );
    }
    if has_body {
        add(
            "413",
            problem("`payload_too_large`: the body is over 64 KiB."),
        );
        add(
            "415",
            problem("`unsupported_media_type`: the body is not sent as `application/json`."),
        );
    }
    if uses_database {
        add(
            "503",
            problem("`service_unavailable`: the database cannot be reached; retry later."),
        );
    }
    add("500", problem("`internal`: a bug; the cause is logged."));
    if secured {
        responses["401"]["headers"]["WWW-Authenticate"] = json!({
            "description": "With `invalid_token`: `Bearer realm=\"authd\", error=\"invalid_token\"`",
            "schema": {"type": "string"},
        });
    }
}

/// A response whose body is a problem document gets the problem+json content type.
fn as_problem_json(response: &mut Value) {
    let Some(content) = response["content"].as_object_mut() else {
        return;
    };
    let is_problem = |c: &Value| c["schema"]["$ref"] == PROBLEM;
    if let Some(json) = content.remove("application/json") {
        let key = if is_problem(&json) {
            "application/problem+json"
        } else {
            "application/json"
        };
        content.insert(key.into(), json);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use actix_web::introspection::{IntrospectionNode, IntrospectionTree, ResourceType};
    use actix_web::test as actix_test;
    use actix_web::{App, web};

    use super::document;

    /// Routes outside `/admin` and `/static` that are not part of the JSON API, on purpose: the
    /// landing page, and the Prometheus text of `/metrics`.
    const NOT_IN_THE_DOCUMENT: &[&str] = &["/", "/metrics"];
    const PROBE: &str = "/__routes";

    fn collect(node: &IntrospectionNode, out: &mut BTreeSet<(String, String)>) {
        if matches!(node.kind, ResourceType::Resource) {
            for method in &node.methods {
                out.insert((node.full_path.clone(), method.to_string()));
            }
        }
        for child in &node.children {
            collect(child, out);
        }
    }

    /// Every (path, method) the application routes, from actix's own report.
    async fn registered() -> BTreeSet<(String, String)> {
        let app = actix_test::init_service(
            App::new()
                .configure(|cfg| crate::startup::routes(cfg, &["https://a.example".into()]))
                .route(
                    PROBE,
                    web::get().to(|tree: web::Data<IntrospectionTree>| async move {
                        let mut routes = BTreeSet::new();
                        collect(&tree.root, &mut routes);
                        web::Json(routes)
                    }),
                ),
        )
        .await;
        let req = actix_test::TestRequest::get().uri(PROBE).to_request();
        let routes: BTreeSet<(String, String)> =
            actix_test::call_and_read_body_json(&app, req).await;
        routes
            .into_iter()
            .filter(|(path, _)| path != PROBE && !NOT_IN_THE_DOCUMENT.contains(&path.as_str()))
            .collect()
    }

    fn documented() -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        for (path, item) in document()["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                out.insert((path.clone(), method.to_uppercase()));
            }
        }
        out
    }

    #[actix_web::test]
    async fn every_registered_route_is_in_the_document_and_nothing_else() {
        let (registered, documented) = (registered().await, documented());
        assert!(registered.len() > 20, "too few routes seen: {registered:?}");
        let missing: Vec<_> = registered.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&registered).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "registered but not documented: {missing:?}; documented but not registered: {extra:?}"
        );
    }

    #[test]
    fn every_error_response_is_a_problem_document_except_the_probes() {
        for (path, item) in document()["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for (status, response) in op["responses"].as_object().unwrap() {
                    let media: Vec<&String> = response["content"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(m, _)| m)
                        .collect();
                    if status.as_str() >= "400" && path != "/readyz" {
                        assert_eq!(
                            media,
                            ["application/problem+json"],
                            "{method} {path} {status}"
                        );
                    }
                }
                if op.get("security").is_some() {
                    assert!(op["responses"]["401"]["headers"]["WWW-Authenticate"].is_object());
                }
            }
        }
    }

    #[test]
    fn the_document_is_openapi_3_1_with_the_bearer_scheme() {
        let doc = document();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        for schema in [
            "User",
            "TokenPair",
            "Session",
            "Role",
            "UserPage",
            "Problem",
            "ErrorCode",
        ] {
            assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
        }
    }
}
