//! `/auth/verify`, the endpoint nginx `auth_request` calls.

use reqwest::StatusCode;

use crate::helpers::{assert_problem, spawn_admin_app, spawn_app};

#[tokio::test]
async fn verify_answers_200_with_identity_headers_and_an_empty_body() {
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    let res = app.get_verify(&alice.access_token, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    assert_eq!(h["x-auth-user-id"], alice.id.as_str());
    assert_eq!(h["x-auth-username"], "alice");
    assert_eq!(h["x-auth-roles"], "user");
    assert_eq!(h["x-auth-session-id"], alice.session_id.as_str());
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
    let alice = app.signed_in_user("alice").await;
    app.post_logout(&alice.access_token).await;
    assert_problem(
        app.get_verify(&alice.access_token, None).await,
        401,
        "invalid_token",
    )
    .await;
}

#[tokio::test]
async fn verify_with_a_role_requires_that_role() {
    let app = spawn_admin_app().await;
    let alice = app.signed_in_user("alice").await;
    assert_problem(
        app.get_verify(&alice.access_token, Some("admin")).await,
        403,
        "insufficient_role",
    )
    .await;
    assert_eq!(
        app.get_verify(&alice.access_token, Some("user"))
            .await
            .status(),
        StatusCode::OK
    );
    let admin = app.signed_in_admin().await;
    let res = app.get_verify(&admin.access_token, Some("admin")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-auth-roles"], "admin,user");
}
