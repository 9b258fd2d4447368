//! Reset links: made by an administrator, used once to set a password, voided by a newer one,
//! expiring, and ending every session of the user.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, spawn_admin_app, spawn_app_with};

const NEW_PASSWORD: &str = "a brand new passphrase";

/// A reset link for `user_id`, made by the administrator `token`: (token, answer).
async fn reset_link(app: &TestApp, admin_token: &str, user_id: &str) -> (String, Value) {
    let res = app.post_admin_password_reset(admin_token, user_id).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    let url = body["reset_url"].as_str().unwrap();
    let token = url.split_once("?token=").unwrap().1.to_owned();
    (token, body)
}

async fn code_of(res: reqwest::Response) -> (StatusCode, String) {
    let status = res.status();
    let body: Value = res.json().await.unwrap_or_default();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

fn invalid_grant() -> (StatusCode, String) {
    (StatusCode::UNAUTHORIZED, "invalid_grant".to_owned())
}

#[tokio::test]
async fn a_user_created_without_a_password_sets_one_with_the_link_and_logs_in() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    let res = app
        .post_admin_users(&admin.access_token, &json!({"username": "judy"}))
        .await;
    let user: Value = res.json().await.unwrap();
    let (token, body) = reset_link(&app, &admin.access_token, user["id"].as_str().unwrap()).await;
    assert!(body["expires_at"].is_string());
    // 256 random bits, URL-safe.
    assert!(
        token.len() >= 43
            && token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
    );
    let res = app.post_password_reset(&token, NEW_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.login("judy", NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
    // Once only.
    assert_eq!(
        code_of(
            app.post_password_reset(&token, "yet another passphrase")
                .await
        )
        .await,
        invalid_grant()
    );
    assert_eq!(app.audit_count("password_reset_issued"), 1);
    assert_eq!(app.audit_count("password_reset_used"), 1);
    // Only the digest was ever stored, and the used link is gone.
    use diesel::prelude::*;
    let left: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM password_resets)",
    ))
    .get_result(&mut app.db.connect())
    .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn the_link_starts_with_the_public_url_and_expires_after_the_reset_ttl() {
    let app = spawn_app_with(&[
        ("AUTHD_BOOTSTRAP_ADMIN", &format!("root:{PASSWORD}")),
        ("AUTHD_PUBLIC_URL", "https://auth.example.org/"),
        ("AUTHD_RESET_TTL", "120"),
    ])
    .await;
    let admin = app.signed_in_admin().await;
    let user = app.signed_in_user("kim").await;
    let before = chrono::Utc::now();
    let (token, body) = reset_link(&app, &admin.access_token, &user.id).await;
    assert_eq!(
        body["reset_url"].as_str().unwrap(),
        format!("https://auth.example.org/reset-password?token={token}")
    );
    let expires: chrono::DateTime<chrono::Utc> =
        body["expires_at"].as_str().unwrap().parse().unwrap();
    let ttl = (expires - before).num_seconds();
    assert!((118..=122).contains(&ttl), "{ttl}");
    // Past its expiry (moved there in the database) the link is refused.
    use diesel::prelude::*;
    diesel::sql_query("UPDATE password_resets SET expires_at = now() - interval '1 second'")
        .execute(&mut app.db.connect())
        .unwrap();
    assert_eq!(
        code_of(app.post_password_reset(&token, NEW_PASSWORD).await).await,
        invalid_grant()
    );
    assert_eq!(app.login("kim", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_newer_link_voids_the_older_one() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    let user = app.signed_in_user("leo").await;
    let (old, _) = reset_link(&app, &admin.access_token, &user.id).await;
    let (new, _) = reset_link(&app, &admin.access_token, &user.id).await;
    assert_ne!(old, new);
    assert_eq!(
        code_of(app.post_password_reset(&old, NEW_PASSWORD).await).await,
        invalid_grant()
    );
    assert_eq!(
        app.post_password_reset(&new, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn bad_tokens_and_weak_passwords_are_refused() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    let user = app.signed_in_user("mia").await;
    let (token, _) = reset_link(&app, &admin.access_token, &user.id).await;
    for bad in ["", "nonsense", &token[..token.len() - 1]] {
        assert_eq!(
            code_of(app.post_password_reset(bad, NEW_PASSWORD).await).await,
            invalid_grant()
        );
    }
    let (status, code) = code_of(app.post_password_reset(&token, "short").await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    // A refused password leaves the link usable.
    assert_eq!(
        app.post_password_reset(&token, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn using_a_link_ends_every_session_of_the_user() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    let user = app.signed_in_user("nina").await;
    let second = app.log_in_as("nina").await;
    let (token, _) = reset_link(&app, &admin.access_token, &user.id).await;
    assert_eq!(
        app.get_me(&user.access_token).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.post_password_reset(&token, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
    for access in [&user.access_token, &second.access_token] {
        assert_eq!(app.get_me(access).await.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app
        .post_refresh(&json!({"refresh_token": second.refresh_token}))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login("nina", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_link_used_by_many_requests_at_once_works_for_one() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    let user = app.signed_in_user("omar").await;
    let (token, _) = reset_link(&app, &admin.access_token, &user.id).await;
    let passwords: Vec<String> = (0..6)
        .map(|i| format!("concurrent passphrase {i}"))
        .collect();
    let answers = futures_util::future::join_all(
        passwords.iter().map(|p| app.post_password_reset(&token, p)),
    )
    .await;
    let won: Vec<&String> = answers
        .iter()
        .zip(&passwords)
        .filter(|(r, _)| r.status() == StatusCode::NO_CONTENT)
        .map(|(_, p)| p)
        .collect();
    assert_eq!(
        won.len(),
        1,
        "{:?}",
        answers.iter().map(|r| r.status()).collect::<Vec<_>>()
    );
    assert!(
        answers
            .iter()
            .all(|r| [StatusCode::NO_CONTENT, StatusCode::UNAUTHORIZED].contains(&r.status()))
    );
    assert_eq!(app.login("omar", won[0]).await.status(), StatusCode::OK);
    assert_eq!(app.audit_count("password_reset_used"), 1);
}
