//! CORS (`AUTHD_CORS_ORIGINS`): listed origins only, never `*` nor `null`, no credentials; only
//! on `/api/*`, `/auth/verify` and `/.well-known/jwks.json`; nothing at all when unset.

use reqwest::{Method, StatusCode};

use crate::helpers::{PASSWORD, assert_problem, spawn_app, spawn_app_with};

const APP: &str = "https://app.example.org";

fn preflight(origin: &str, method: &str) -> [(&'static str, String); 3] {
    [
        ("origin", origin.to_owned()),
        ("access-control-request-method", method.to_owned()),
        (
            "access-control-request-headers",
            "authorization,content-type".to_owned(),
        ),
    ]
}

fn pairs<'a>(h: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    h.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn an_allowed_origin_gets_its_preflight_answered_and_its_answers_readable() {
    let app = spawn_app_with(&[(
        "AUTHD_CORS_ORIGINS",
        "https://App.Example.org, http://localhost:5173",
    )])
    .await;
    for path in [
        "/api/auth/login",
        "/api/auth/me",
        "/auth/verify",
        "/.well-known/jwks.json",
    ] {
        let res = app
            .send(Method::OPTIONS, path, &pairs(&preflight(APP, "POST")))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "preflight of {path}");
        let h = res.headers();
        assert_eq!(h["access-control-allow-origin"], APP);
        assert!(h.get("access-control-allow-credentials").is_none());
        let methods = h["access-control-allow-methods"].to_str().unwrap();
        assert!(
            methods.contains("POST") && methods.contains("DELETE"),
            "{methods}"
        );
        let headers = h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_lowercase();
        assert!(headers.contains("authorization") && headers.contains("content-type"));
        assert!(h.get("access-control-max-age").is_some());
    }

    let res = app
        .send(Method::GET, "/api/auth/me", &[("origin", APP)])
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()["access-control-allow-origin"], APP);
    let exposed = res.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(exposed.contains("www-authenticate") && exposed.contains("x-request-id"));
    assert!(res.headers()["vary"].to_str().unwrap().contains("Origin"));

    app.register("alice", PASSWORD).await;
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .header("origin", "http://localhost:5173")
        .json(&serde_json::json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
}

#[tokio::test]
async fn other_origins_and_null_get_no_cors_headers_and_no_preflight() {
    let app = spawn_app_with(&[("AUTHD_CORS_ORIGINS", APP)]).await;
    for origin in [
        "https://evil.example",
        "null",
        "https://app.example.org.evil.example",
    ] {
        let res = app
            .send(
                Method::OPTIONS,
                "/api/auth/login",
                &pairs(&preflight(origin, "POST")),
            )
            .await;
        assert!(
            res.headers().get("access-control-allow-origin").is_none(),
            "{origin}"
        );
        assert_problem(res, 400, "invalid_request").await;

        // The request itself is answered as usual, without CORS headers: the browser withholds it.
        let res = app
            .send(Method::GET, "/healthz", &[("origin", origin)])
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = app
            .send(Method::GET, "/api/auth/me", &[("origin", origin)])
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(
            res.headers().get("access-control-allow-origin").is_none(),
            "{origin}"
        );
    }
}

#[tokio::test]
async fn cors_stays_off_the_dashboard_and_the_probes() {
    let app = spawn_app_with(&[("AUTHD_CORS_ORIGINS", APP)]).await;
    for path in ["/admin/login", "/healthz", "/readyz", "/"] {
        let res = app.send(Method::GET, path, &[("origin", APP)]).await;
        assert!(
            res.headers().get("access-control-allow-origin").is_none(),
            "{path}"
        );
        let res = app
            .send(Method::OPTIONS, path, &pairs(&preflight(APP, "GET")))
            .await;
        assert_eq!(
            res.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "preflight of {path}"
        );
        assert!(
            res.headers().get("access-control-allow-origin").is_none(),
            "{path}"
        );
    }
}

#[tokio::test]
async fn without_configured_origins_no_cors_header_is_ever_sent() {
    let app = spawn_app().await;
    let res = app
        .send(Method::GET, "/api/auth/me", &[("origin", APP)])
        .await;
    assert!(
        res.headers()
            .keys()
            .all(|name| !name.as_str().starts_with("access-control-"))
    );
    let res = app
        .send(
            Method::OPTIONS,
            "/api/auth/login",
            &pairs(&preflight(APP, "POST")),
        )
        .await;
    assert!(res.headers().get("access-control-allow-origin").is_none());
    assert_eq!(res.headers()["allow"], "POST");
    assert_problem(res, 405, "method_not_allowed").await;
}
