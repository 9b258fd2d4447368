//! `GET /api/openapi.json` and `GET /api/docs`: the document generated from the code, and the
//! reference page rendered from it. (That the document lists exactly the registered routes is a
//! unit test beside the code, in `src/api/openapi.rs`.)

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_openapi_document_describes_every_route_of_the_json_api() {
    let app = spawn_app().await;
    let res = app.get_openapi().await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/json");
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
    assert_eq!(doc["info"]["title"], "authd");
    for (path, method) in [
        ("/api/auth/register", "post"),
        ("/api/auth/login", "post"),
        ("/api/auth/refresh", "post"),
        ("/api/auth/me", "get"),
        ("/api/auth/sessions/{id}", "delete"),
        ("/api/admin/users", "get"),
        ("/api/admin/users/{id}/roles", "put"),
        ("/api/admin/users/{id}/disable", "post"),
        ("/api/admin/roles", "post"),
        ("/auth/verify", "get"),
        ("/.well-known/jwks.json", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/api/openapi.json", "get"),
        ("/api/docs", "get"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    let login = &doc["paths"]["/api/auth/login"]["post"];
    assert_eq!(
        login["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/LoginBody"
    );
    assert_eq!(
        login["responses"]["401"]["content"]["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
    let me = &doc["paths"]["/api/auth/me"]["get"];
    assert_eq!(me["security"][0]["bearer"], serde_json::json!([]));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let codes = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap();
    for code in [
        "invalid_request",
        "invalid_token",
        "method_not_allowed",
        "internal",
    ] {
        assert!(codes.contains(&Value::from(code)), "{code}");
    }
    // Unknown fields are refused, and the document says so.
    assert_eq!(
        doc["components"]["schemas"]["LoginBody"]["additionalProperties"],
        false
    );
}

#[tokio::test]
async fn the_api_reference_is_a_page_that_needs_nothing_from_elsewhere() {
    let app = spawn_app().await;
    let res = app.get_api_docs().await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    let page = res.text().await.unwrap();
    assert!(
        page.contains("POST /api/auth/login"),
        "an operation is listed"
    );
    assert!(
        page.contains("id=\"schema-TokenPair\""),
        "a schema is described"
    );
    assert!(page.contains("application/problem+json"));
    // Nothing from another site, no script, no inline style.
    assert!(!page.contains("http://") && !page.contains("https://"));
    assert!(!page.contains("<script") && !page.contains("style="));
}
