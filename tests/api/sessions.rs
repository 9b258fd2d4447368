//! Logout, own sessions, password change; each revocation takes effect on the very next request.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, access, assert_problem, refresh_of, spawn_app};

#[tokio::test]
async fn logout_revokes_the_current_session_at_once() {
    let app = spawn_app().await;
    let pair = app.user_with_tokens("alice").await;
    let other: Value = app.login("alice", PASSWORD).await.json().await.unwrap();
    let res = app
        .call(Method::POST, "/api/auth/logout", access(&pair), None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(app.me(access(&pair)).await, 401, "invalid_token").await;
    assert_problem(app.refresh(refresh_of(&pair)).await, 401, "invalid_grant").await;
    // Only that session: the other one lives.
    assert_eq!(app.me(access(&other)).await.status(), StatusCode::OK);
    assert_eq!(app.audit_count("logout"), 1);
}

#[tokio::test]
async fn logout_all_revokes_every_session_of_the_user() {
    let app = spawn_app().await;
    let a = app.user_with_tokens("alice").await;
    let b: Value = app.login("alice", PASSWORD).await.json().await.unwrap();
    let bob = app.user_with_tokens("bob").await;
    let res = app
        .call(Method::POST, "/api/auth/logout-all", access(&a), None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for pair in [&a, &b] {
        assert_eq!(
            app.me(access(pair)).await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.refresh(refresh_of(pair)).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(app.me(access(&bob)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn logout_needs_a_token() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/api/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_problem(res, 401, "invalid_token").await;
}

#[tokio::test]
async fn the_session_list_marks_the_current_one_and_records_the_client() {
    let app = spawn_app().await;
    let first = app.user_with_tokens("alice").await;
    let second: Value = app
        .client
        .post(app.url("/api/auth/login"))
        .header("user-agent", "second-device/2.0")
        .json(&json!({ "username": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    app.user_with_tokens("bob").await;
    let res = app
        .call(Method::GET, "/api/auth/sessions", access(&first), None)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let sessions = body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "only alice's own sessions: {body}");
    // Newest first.
    assert_eq!(sessions[0]["id"], second["session_id"]);
    assert_eq!(sessions[0]["current"], false);
    assert_eq!(sessions[0]["user_agent"], "second-device/2.0");
    assert_eq!(sessions[0]["ip"], "127.0.0.1");
    assert_eq!(sessions[1]["id"], first["session_id"]);
    assert_eq!(sessions[1]["current"], true);
    for field in ["created_at", "last_used_at", "expires_at"] {
        assert!(sessions[0][field].is_string(), "{field}");
    }
    assert_eq!(sessions[0]["revoked_at"], Value::Null);
}

#[tokio::test]
async fn refresh_records_last_use() {
    let app = spawn_app().await;
    let pair = app.user_with_tokens("alice").await;
    let list = |token: String| {
        let app = &app;
        async move {
            let body: Value = app
                .call(Method::GET, "/api/auth/sessions", &token, None)
                .await
                .json()
                .await
                .unwrap();
            body["sessions"][0]["last_used_at"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let before = list(access(&pair).to_owned()).await;
    let next: Value = app.refresh(refresh_of(&pair)).await.json().await.unwrap();
    let after = list(access(&next).to_owned()).await;
    assert!(after > before, "{after} should be later than {before}");
}

#[tokio::test]
async fn a_user_can_revoke_one_of_their_sessions_but_not_anothers() {
    let app = spawn_app().await;
    let phone = app.user_with_tokens("alice").await;
    let laptop: Value = app.login("alice", PASSWORD).await.json().await.unwrap();
    let bob = app.user_with_tokens("bob").await;

    let path = format!(
        "/api/auth/sessions/{}",
        phone["session_id"].as_str().unwrap()
    );
    let res = app.call(Method::DELETE, &path, access(&laptop), None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.me(access(&phone)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.me(access(&laptop)).await.status(), StatusCode::OK);

    // Bob's session, seen from alice: not found, and untouched.
    let path = format!("/api/auth/sessions/{}", bob["session_id"].as_str().unwrap());
    assert_problem(
        app.call(Method::DELETE, &path, access(&laptop), None).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(app.me(access(&bob)).await.status(), StatusCode::OK);
    let random = format!("/api/auth/sessions/{}", uuid::Uuid::now_v7());
    assert_problem(
        app.call(Method::DELETE, &random, access(&laptop), None)
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.call(
            Method::DELETE,
            "/api/auth/sessions/not-a-uuid",
            access(&laptop),
            None,
        )
        .await,
        404,
        "not_found",
    )
    .await;

    // The revoked session is listed with its revocation time.
    let body: Value = app
        .call(Method::GET, "/api/auth/sessions", access(&laptop), None)
        .await
        .json()
        .await
        .unwrap();
    let revoked = body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == phone["session_id"])
        .unwrap()
        .clone();
    assert!(revoked["revoked_at"].is_string());
}

#[tokio::test]
async fn changing_the_password_revokes_the_other_sessions_only() {
    let app = spawn_app().await;
    let here = app.user_with_tokens("alice").await;
    let elsewhere: Value = app.login("alice", PASSWORD).await.json().await.unwrap();
    let new_password = "a brand new passphrase";
    let res = app
        .call(
            Method::POST,
            "/api/auth/password",
            access(&here),
            Some(json!({ "current_password": PASSWORD, "new_password": new_password })),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.me(access(&here)).await.status(), StatusCode::OK);
    assert_eq!(
        app.refresh(refresh_of(&here)).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.me(access(&elsewhere)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.refresh(refresh_of(&elsewhere)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("alice", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("alice", new_password).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.audit_count("password_changed"), 1);
}

#[tokio::test]
async fn a_password_change_needs_the_current_password_and_a_valid_new_one() {
    let app = spawn_app().await;
    let pair = app.user_with_tokens("alice").await;
    let change = |current: &str, new: &str| {
        app.call(
            Method::POST,
            "/api/auth/password",
            access(&pair),
            Some(json!({ "current_password": current, "new_password": new })),
        )
    };
    assert_problem(
        change("wrong password here", "a brand new passphrase").await,
        401,
        "invalid_credentials",
    )
    .await;
    let body = assert_problem(change(PASSWORD, "short").await, 400, "invalid_request").await;
    assert!(body["detail"].as_str().unwrap().contains("at least 12"));
    assert_problem(
        change(PASSWORD, "1qaz2wsx3edc").await,
        400,
        "invalid_request",
    )
    .await;
    // Nothing changed.
    assert_eq!(app.login("alice", PASSWORD).await.status(), StatusCode::OK);
    assert_eq!(app.me(access(&pair)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_revocation_on_one_instance_reaches_another_sharing_the_database() {
    let a = spawn_app().await;
    let b = a.second_instance().await;
    let pair = a.user_with_tokens("alice").await;
    assert_eq!(b.me(access(&pair)).await.status(), StatusCode::OK);
    let res = a
        .call(Method::POST, "/api/auth/logout", access(&pair), None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Instance b learns of it from the database within a few sync intervals (2 s each).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while b.me(access(&pair)).await.status() != StatusCode::UNAUTHORIZED {
        assert!(
            std::time::Instant::now() < deadline,
            "instance b never learned of the logout"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
