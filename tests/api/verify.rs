//! `/auth/verify`, the endpoint nginx `auth_request` calls.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{access, assert_problem, spawn_admin_app, spawn_app};

#[tokio::test]
async fn verify_answers_200_with_identity_headers_and_an_empty_body() {
    let app = spawn_app().await;
    let pair = app.user_with_tokens("alice").await;
    let me: Value = app.me(access(&pair)).await.json().await.unwrap();
    let res = app.get_with_token("/auth/verify", access(&pair)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    assert_eq!(h["x-auth-user-id"], me["id"].as_str().unwrap());
    assert_eq!(h["x-auth-username"], "alice");
    assert_eq!(h["x-auth-roles"], "user");
    assert_eq!(h["x-auth-session-id"], pair["session_id"].as_str().unwrap());
    assert!(res.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn verify_refuses_missing_and_revoked_tokens() {
    let app = spawn_app().await;
    let res = app.get("/auth/verify").await;
    assert_eq!(
        res.headers()["www-authenticate"],
        r#"Bearer realm="authd", error="invalid_token""#
    );
    assert_problem(res, 401, "invalid_token").await;
    let pair = app.user_with_tokens("alice").await;
    app.call(Method::POST, "/api/auth/logout", access(&pair), None)
        .await;
    assert_problem(
        app.get_with_token("/auth/verify", access(&pair)).await,
        401,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn verify_with_a_role_requires_that_role() {
    let app = spawn_admin_app().await;
    let pair = app.user_with_tokens("alice").await;
    assert_problem(
        app.get_with_token("/auth/verify?role=admin", access(&pair))
            .await,
        403,
        "insufficient_role",
    )
    .await;
    assert_eq!(
        app.get_with_token("/auth/verify?role=user", access(&pair))
            .await
            .status(),
        StatusCode::OK
    );
    let admin = app.admin_token().await;
    let res = app.get_with_token("/auth/verify?role=admin", &admin).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-auth-roles"], "admin,user");
}
