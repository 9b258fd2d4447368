//! Health checks, request ids, and what any visitor sees: problem+json 404s, the home page.

use reqwest::StatusCode;

use crate::helpers::{PASSWORD, assert_problem, spawn_app, url_for_database};

#[tokio::test]
async fn healthz_and_readyz_answer_200_on_a_migrated_database() {
    let app = spawn_app().await;
    assert_eq!(app.get_healthz().await.status(), StatusCode::OK);
    assert_eq!(app.get_readyz().await.status(), StatusCode::OK);
}

#[tokio::test]
async fn readyz_answers_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    use diesel::prelude::*;
    let mut admin = diesel::PgConnection::establish(&url_for_database("postgres")).unwrap();
    diesel::sql_query(format!("DROP DATABASE {} WITH (FORCE)", app.db.name))
        .execute(&mut admin)
        .unwrap();
    assert_eq!(
        app.get_readyz().await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(app.get_healthz().await.status(), StatusCode::OK);
    // A request that needs the database gets 503, not 500.
    let res = app.login("alice", PASSWORD).await;
    assert_problem(res, 503, "service_unavailable").await;
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let generated = app.get_healthz().await;
    let id = generated.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);

    let echoed = app
        .client
        .get(app.url("/api/auth/me"))
        .header("x-request-id", "client-chosen-42")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(echoed.headers()["x-request-id"], "client-chosen-42");

    // A hostile value is replaced, not echoed.
    let replaced = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "a b<script>")
        .send()
        .await
        .unwrap();
    assert_ne!(replaced.headers()["x-request-id"], "a b<script>");
}

#[tokio::test]
async fn unknown_paths_get_a_problem_404() {
    let app = spawn_app().await;
    assert_problem(app.get("/api/nope").await, 404, "not_found").await;
}

#[tokio::test]
async fn the_home_page_is_rendered_with_its_stylesheet() {
    let app = spawn_app().await;
    let res = app.get("/").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    for header in [
        "content-security-policy",
        "x-frame-options",
        "x-content-type-options",
        "referrer-policy",
    ] {
        assert!(res.headers().contains_key(header), "missing {header}");
    }
    let html = res.text().await.unwrap();
    assert!(html.contains(env!("CARGO_PKG_VERSION")));
    let css_href = html
        .split("href=\"")
        .find(|s| s.starts_with("/static/admin.css"))
        .and_then(|s| s.split('"').next())
        .expect("a stylesheet link")
        .to_owned();
    let css = app.get(&css_href).await;
    assert_eq!(css.status(), StatusCode::OK);
    assert!(
        css.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}
