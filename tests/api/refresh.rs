//! Refresh: rotation, the grace period, reuse detection, concurrency, absolute lifetime.

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TokenPair, assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn refresh_rotates_the_refresh_token_and_keeps_the_session() {
    let app = spawn_app().await;
    let first = app.signed_in_user("alice").await;
    let res = app.refresh(&first.refresh_token).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["refresh_expires_in"].as_i64().unwrap() <= 2_592_000);
    let second: TokenPair = serde_json::from_value(body).unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_ne!(second.access_token, first.access_token);
    assert_eq!(second.session_id, first.session_id);
    assert_eq!(app.me_status(&second.access_token).await, StatusCode::OK);
    // The new refresh token works in turn.
    assert_eq!(
        app.refresh_status(&second.refresh_token).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_or_malformed_refresh_tokens_get_invalid_grant() {
    let app = spawn_app().await;
    for token in ["", "nope", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"] {
        assert_problem(app.refresh(token).await, 401, "invalid_grant").await;
    }
    let alice = app.signed_in_user("alice").await;
    // An access token is not a refresh token.
    assert_problem(app.refresh(&alice.access_token).await, 401, "invalid_grant").await;
}

#[tokio::test]
async fn reuse_within_the_grace_period_is_refused_but_the_session_lives() {
    let app = spawn_app().await;
    let first = app.signed_in_user("alice").await;
    let second = app.refreshed(&first.refresh_token).await;
    // The old token again, right away: a lost race between two tabs, not theft.
    assert_problem(
        app.refresh(&first.refresh_token).await,
        401,
        "invalid_grant",
    )
    .await;
    assert_eq!(app.me_status(&second.access_token).await, StatusCode::OK);
    assert_eq!(
        app.refresh_status(&second.refresh_token).await,
        StatusCode::OK
    );
    assert_eq!(app.audit_count("refresh_reuse_detected"), 0);
}

#[tokio::test]
async fn reuse_after_the_grace_period_revokes_the_whole_session() {
    let app = spawn_app_with(&[("AUTHD_REFRESH_GRACE", "0")]).await;
    let first = app.signed_in_user("alice").await;
    let second = app.refreshed(&first.refresh_token).await;
    // With no grace period any replay of a rotated token is theft.
    assert_problem(
        app.refresh(&first.refresh_token).await,
        401,
        "invalid_grant",
    )
    .await;
    assert_eq!(app.audit_count("refresh_reuse_detected"), 1);
    // The thief's and the owner's tokens of that session all stop working.
    assert_problem(
        app.refresh(&second.refresh_token).await,
        401,
        "invalid_grant",
    )
    .await;
    assert_eq!(
        app.me_status(&second.access_token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.me_status(&first.access_token).await,
        StatusCode::UNAUTHORIZED
    );
    // Other sessions of the user are untouched.
    let other = first.another_session(&app).await;
    assert_eq!(app.me_status(&other.access_token).await, StatusCode::OK);
}

#[tokio::test]
async fn ten_concurrent_refreshes_of_one_token_give_exactly_one_200() {
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    let results = join_all((0..10).map(|_| app.refresh(&alice.refresh_token))).await;
    let mut winners = Vec::new();
    for res in results {
        match res.status() {
            StatusCode::OK => winners.push(res.json::<TokenPair>().await.unwrap()),
            StatusCode::UNAUTHORIZED => {
                assert_problem(res, 401, "invalid_grant").await;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(winners.len(), 1);
    // The races were lost within the grace period: the winner's tokens still work.
    assert_eq!(
        app.me_status(&winners[0].access_token).await,
        StatusCode::OK
    );
    assert_eq!(
        app.refresh_status(&winners[0].refresh_token).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_despite_refreshes() {
    use authd::db::schema::sessions;
    use diesel::prelude::*;
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    // Age the session past its absolute end, as if 30 days had gone by.
    diesel::update(sessions::table)
        .set(sessions::expires_at.eq(chrono::Utc::now() - chrono::Duration::seconds(1)))
        .execute(&mut app.db.connect())
        .unwrap();
    assert_problem(
        app.refresh(&alice.refresh_token).await,
        401,
        "invalid_grant",
    )
    .await;
}

#[tokio::test]
async fn refresh_expires_in_counts_down_to_the_absolute_end() {
    let app = spawn_app_with(&[("AUTHD_REFRESH_TTL", "3600")]).await;
    assert_eq!(
        app.register("alice", PASSWORD).await.status(),
        StatusCode::CREATED
    );
    let first = app.log_in_as("alice").await;
    assert_eq!(first.refresh_expires_in, 3600);
    let next = app.refreshed(&first.refresh_token).await;
    let left = next.refresh_expires_in;
    assert!((3590..=3600).contains(&left), "{left}");
}

#[tokio::test]
async fn refresh_refuses_unknown_fields_and_missing_token() {
    let app = spawn_app().await;
    let body = json!({ "refresh_token": "x", "scope": "admin" });
    assert_problem(app.post_refresh(&body).await, 400, "invalid_request").await;
    assert_problem(app.post_refresh(&json!({})).await, 400, "invalid_request").await;
}
