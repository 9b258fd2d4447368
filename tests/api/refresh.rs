//! Refresh: rotation, the grace period, reuse detection, concurrency, absolute lifetime.

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{PASSWORD, access, assert_problem, refresh_of, spawn_app, spawn_app_with};

#[tokio::test]
async fn refresh_rotates_the_refresh_token_and_keeps_the_session() {
    let app = spawn_app().await;
    let first = app.user_with_tokens("alice").await;
    let res = app.refresh(refresh_of(&first)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let second: Value = res.json().await.unwrap();
    assert_ne!(refresh_of(&second), refresh_of(&first));
    assert_ne!(access(&second), access(&first));
    assert_eq!(second["session_id"], first["session_id"]);
    assert_eq!(second["token_type"], "Bearer");
    assert!(second["refresh_expires_in"].as_i64().unwrap() <= 2_592_000);
    assert_eq!(app.me(access(&second)).await.status(), StatusCode::OK);
    // The new refresh token works in turn.
    assert_eq!(
        app.refresh(refresh_of(&second)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_or_malformed_refresh_tokens_get_invalid_grant() {
    let app = spawn_app().await;
    for token in ["", "nope", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
        assert_problem(app.refresh(token).await, 401, "invalid_grant").await;
    }
    let pair = app.user_with_tokens("alice").await;
    // An access token is not a refresh token.
    assert_problem(app.refresh(access(&pair)).await, 401, "invalid_grant").await;
}

#[tokio::test]
async fn reuse_within_the_grace_period_is_refused_but_the_session_lives() {
    let app = spawn_app().await;
    let first = app.user_with_tokens("alice").await;
    let second: Value = app.refresh(refresh_of(&first)).await.json().await.unwrap();
    // The old token again, right away: a lost race between two tabs, not theft.
    assert_problem(app.refresh(refresh_of(&first)).await, 401, "invalid_grant").await;
    assert_eq!(app.me(access(&second)).await.status(), StatusCode::OK);
    assert_eq!(
        app.refresh(refresh_of(&second)).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.audit_count("refresh_reuse_detected"), 0);
}

#[tokio::test]
async fn reuse_after_the_grace_period_revokes_the_whole_session() {
    let app = spawn_app_with(&[("AUTHD_REFRESH_GRACE", "0")]).await;
    let first = app.user_with_tokens("alice").await;
    let second: Value = app.refresh(refresh_of(&first)).await.json().await.unwrap();
    // With no grace period any replay of a rotated token is theft.
    assert_problem(app.refresh(refresh_of(&first)).await, 401, "invalid_grant").await;
    assert_eq!(app.audit_count("refresh_reuse_detected"), 1);
    // The thief's and the owner's tokens of that session all stop working.
    assert_problem(app.refresh(refresh_of(&second)).await, 401, "invalid_grant").await;
    assert_eq!(
        app.me(access(&second)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.me(access(&first)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Other sessions of the user are untouched.
    let other: Value = app.login("alice", PASSWORD).await.json().await.unwrap();
    assert_eq!(app.me(access(&other)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn ten_concurrent_refreshes_of_one_token_give_exactly_one_200() {
    let app = spawn_app().await;
    let pair = app.user_with_tokens("alice").await;
    let token = refresh_of(&pair).to_owned();
    let results = join_all((0..10).map(|_| app.refresh(&token))).await;
    let mut winners = Vec::new();
    for res in results {
        match res.status() {
            StatusCode::OK => winners.push(res.json::<Value>().await.unwrap()),
            StatusCode::UNAUTHORIZED => {
                assert_problem(res, 401, "invalid_grant").await;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(winners.len(), 1);
    // The races were lost within the grace period: the winner's tokens still work.
    assert_eq!(app.me(access(&winners[0])).await.status(), StatusCode::OK);
    assert_eq!(
        app.refresh(refresh_of(&winners[0])).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_despite_refreshes() {
    use authd::db::schema::sessions;
    use diesel::prelude::*;
    let app = spawn_app().await;
    let pair = app.user_with_tokens("alice").await;
    // Age the session past its absolute end, as if 30 days had gone by.
    diesel::update(sessions::table)
        .set(sessions::expires_at.eq(chrono::Utc::now() - chrono::Duration::seconds(1)))
        .execute(&mut app.db.connect())
        .unwrap();
    assert_problem(app.refresh(refresh_of(&pair)).await, 401, "invalid_grant").await;
}

#[tokio::test]
async fn refresh_expires_in_counts_down_to_the_absolute_end() {
    let app = spawn_app_with(&[("AUTHD_REFRESH_TTL", "3600")]).await;
    let pair = app.user_with_tokens("alice").await;
    assert_eq!(pair["refresh_expires_in"], 3600);
    let next: Value = app.refresh(refresh_of(&pair)).await.json().await.unwrap();
    let left = next["refresh_expires_in"].as_i64().unwrap();
    assert!((3590..=3600).contains(&left), "{left}");
}

#[tokio::test]
async fn refresh_refuses_unknown_fields_and_missing_token() {
    let app = spawn_app().await;
    let body = serde_json::json!({ "refresh_token": "x", "scope": "admin" });
    assert_problem(
        app.post_json("/api/auth/refresh", &body).await,
        400,
        "invalid_request",
    )
    .await;
    assert_problem(
        app.post_json("/api/auth/refresh", &serde_json::json!({}))
            .await,
        400,
        "invalid_request",
    )
    .await;
}
