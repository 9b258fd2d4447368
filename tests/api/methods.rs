//! HTTP method conventions: every GET route answers HEAD (same headers, no body), and a known
//! path asked with another method is 405 with `Allow` (problem+json, or an HTML page under
//! `/admin`), while an unknown path stays 404.

use reqwest::{Method, StatusCode};

use crate::helpers::{assert_problem, spawn_admin_app};

#[tokio::test]
async fn every_get_route_answers_head_with_the_same_headers_and_no_body() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    for (path, token) in [
        ("/healthz", None),
        ("/readyz", None),
        ("/.well-known/jwks.json", None),
        ("/api/openapi.json", None),
        ("/api/docs", None),
        ("/", None),
        ("/admin/login", None),
        ("/static/admin.css", None),
        ("/api/auth/me", Some(&admin.access_token)),
        ("/auth/verify", Some(&admin.access_token)),
        ("/api/admin/users", Some(&admin.access_token)),
    ] {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = bearer
            .as_deref()
            .map(|b| vec![("authorization", b)])
            .unwrap_or_default();
        let get = app.send(Method::GET, path, &headers).await;
        let head = app.send(Method::HEAD, path, &headers).await;
        assert_eq!(head.status(), get.status(), "HEAD {path}");
        assert_eq!(head.status(), StatusCode::OK, "HEAD {path}");
        for name in ["content-type", "content-length", "cache-control"] {
            assert_eq!(
                head.headers().get(name),
                get.headers().get(name),
                "{name} of HEAD {path}"
            );
        }
        assert!(
            head.bytes().await.unwrap().is_empty(),
            "HEAD {path} has a body"
        );
    }
}

#[tokio::test]
async fn a_known_api_path_with_another_method_is_405_with_allow() {
    let app = spawn_admin_app().await;
    for (method, path, allow) in [
        (Method::POST, "/healthz", "GET, HEAD"),
        (Method::DELETE, "/readyz", "GET, HEAD"),
        (Method::GET, "/api/auth/login", "POST"),
        (Method::PUT, "/api/admin/roles", "GET, HEAD, POST"),
        (
            Method::PUT,
            "/api/admin/users/00000000-0000-7000-8000-000000000000",
            "GET, HEAD, PATCH, DELETE",
        ),
        (Method::GET, "/api/auth/sessions/anything", "DELETE"),
        (Method::POST, "/.well-known/jwks.json", "GET, HEAD"),
        (Method::OPTIONS, "/auth/verify", "GET, HEAD"),
        (Method::HEAD, "/api/auth/logout", "POST"),
    ] {
        let res = app.send(method.clone(), path, &[]).await;
        assert_eq!(
            res.headers().get("allow").map(|v| v.to_str().unwrap()),
            Some(allow),
            "{method} {path}"
        );
        if method == Method::HEAD {
            assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        } else {
            assert_problem(res, 405, "method_not_allowed").await;
        }
    }
}

#[tokio::test]
async fn an_unknown_path_stays_404_whatever_the_method() {
    let app = spawn_admin_app().await;
    for method in [Method::GET, Method::POST, Method::DELETE] {
        for path in [
            "/api/nope",
            "/api/auth/me/more",
            "/nowhere",
            "/auth/verify/x",
        ] {
            let res = app.send(method.clone(), path, &[]).await;
            assert!(res.headers().get("allow").is_none(), "{method} {path}");
            assert_problem(res, 404, "not_found").await;
        }
    }
}

#[tokio::test]
async fn a_known_dashboard_path_with_another_method_is_a_405_page() {
    let app = spawn_admin_app().await;
    for (method, path, allow) in [
        (Method::PUT, "/admin/login", "GET, HEAD, POST"),
        (Method::GET, "/admin/logout", "POST"),
        (Method::DELETE, "/admin/users", "GET, HEAD"),
        (
            Method::GET,
            "/admin/sessions/00000000-0000-7000-8000-000000000000/revoke",
            "POST",
        ),
        (Method::POST, "/admin", "GET, HEAD"),
    ] {
        let res = app.send(method.clone(), path, &[]).await;
        assert_eq!(
            res.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(res.headers()["allow"], allow, "{method} {path}");
        assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
        let page = res.text().await.unwrap();
        assert!(page.contains("405"), "{page}");
    }
    let unknown = app.send(Method::POST, "/admin/nowhere", &[]).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(unknown.headers().get("allow").is_none());
}
