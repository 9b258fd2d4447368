//! Administrators create, change and delete accounts: the rules of registration, the guard rails,
//! the audit trail, and tokens that end at once when the name they carry changes or the account
//! goes.

use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ADMIN, PASSWORD, TestApp, spawn_admin_app};

/// Two revocation syncs (2 s apart) and then some.
const SYNC_BOUND: Duration = Duration::from_secs(8);

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + SYNC_BOUND;
    while !check().await {
        assert!(
            Instant::now() < deadline,
            "not within {SYNC_BOUND:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn code_of(res: reqwest::Response) -> (StatusCode, String) {
    let status = res.status();
    let body: Value = res.json().await.unwrap_or_default();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

/// A new account made by the administrator `token`; its user object.
async fn created(app: &TestApp, token: &str, body: Value) -> Value {
    let res = app.post_admin_users(token, &body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{body}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn an_admin_creates_a_user_with_a_password_and_roles_who_can_log_in() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    let res = app
        .post_admin_users(
            &admin.access_token,
            &json!({"username": "Carol", "email": "carol@example.org", "password": PASSWORD,
                    "roles": ["user", "admin"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let user: Value = res.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/admin/users/{}", user["id"].as_str().unwrap())
    );
    assert_eq!(user["username"], "Carol");
    assert_eq!(user["email"], "carol@example.org");
    assert_eq!(user["roles"], json!(["admin", "user"]));
    assert_eq!(app.login("carol", PASSWORD).await.status(), StatusCode::OK);
    assert_eq!(app.audit_count("user_created"), 1);
}

#[tokio::test]
async fn a_user_created_without_a_password_is_refused_like_a_wrong_password() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    let user = created(&app, &admin.access_token, json!({"username": "dave"})).await;
    assert_eq!(user["roles"], json!(["user"]));
    for guess in ["", "!no-password", PASSWORD] {
        let (status, code) = code_of(app.login("dave", guess).await).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNAUTHORIZED, "invalid_credentials")
        );
    }
}

#[tokio::test]
async fn creating_a_user_follows_the_rules_of_registration() {
    let app = spawn_admin_app().await;
    let token = app.signed_in_admin().await.access_token;
    created(
        &app,
        &token,
        json!({"username": "erin", "email": "erin@example.org"}),
    )
    .await;
    for (body, status, code) in [
        (
            json!({"username": "x"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({"username": "frank", "password": "short"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({"username": "frank", "password": "frank"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({"username": "frank", "email": "not an address"}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({"username": "frank", "roles": ["nosuchrole"]}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({"username": "frank", "disabled": true}),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            json!({"username": "ERIN"}),
            StatusCode::CONFLICT,
            "username_taken",
        ),
        (
            json!({"username": "frank", "email": "Erin@Example.org"}),
            StatusCode::CONFLICT,
            "email_taken",
        ),
    ] {
        let got = code_of(app.post_admin_users(&token, &body).await).await;
        assert_eq!(got, (status, code.to_owned()), "{body}");
    }
    assert_eq!(app.audit_count("user_created"), 1);
    // Only administrators create accounts.
    let user = app.signed_in_user("mallory").await;
    let res = app
        .post_admin_users(&user.access_token, &json!({"username": "sneaky"}))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_admin_changes_a_username_and_email_and_the_old_token_is_refused_at_once() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    let other = app.second_instance().await;
    let user = app.signed_in_user("grace").await;
    app.register("taken", PASSWORD).await;
    let patch = |body: Value| {
        let (app, token, id) = (&app, admin.access_token.clone(), user.id.clone());
        async move { app.patch_admin_user(&token, &id, &body).await }
    };
    assert_eq!(
        code_of(patch(json!({"username": "TAKEN"})).await).await,
        (StatusCode::CONFLICT, "username_taken".to_owned())
    );
    assert_eq!(
        code_of(patch(json!({"username": "no spaces"})).await)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    // Refused changes leave the token alone.
    assert_eq!(
        app.get_me(&user.access_token).await.status(),
        StatusCode::OK
    );
    let res = patch(json!({"email": "grace@example.org"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        app.get_me(&user.access_token).await.status(),
        StatusCode::OK
    );
    let res = patch(json!({"username": "grace.hopper"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["username"], "grace.hopper");
    assert_eq!(body["email"], "grace@example.org");
    assert_eq!(
        app.get_me(&user.access_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    eventually(
        "the other instance refuses the renamed user's token",
        || async { other.get_me(&user.access_token).await.status() == StatusCode::UNAUTHORIZED },
    )
    .await;
    // `email: null` clears the address; the new name logs in.
    let body: Value = patch(json!({"email": null})).await.json().await.unwrap();
    assert_eq!(body["email"], Value::Null);
    assert_eq!(body["username"], "grace.hopper");
    assert_eq!(
        app.login("grace.hopper", PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.audit_count("user_updated"), 3);
    let _ = ADMIN;
}

#[tokio::test]
async fn a_deleted_users_token_is_refused_on_the_next_request_on_every_instance() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    let other = app.second_instance().await;
    let user = app.signed_in_user("heidi").await;
    assert_eq!(
        other.get_me(&user.access_token).await.status(),
        StatusCode::OK
    );
    let res = app.delete_admin_user(&admin.access_token, &user.id).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get_me(&user.access_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    eventually(
        "the other instance refuses the deleted user's token",
        || async { other.get_me(&user.access_token).await.status() == StatusCode::UNAUTHORIZED },
    )
    .await;
    let refresh = app
        .post_refresh(&json!({"refresh_token": user.refresh_token}))
        .await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login("heidi", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let res = app.get_admin_user(&admin.access_token, &user.id).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // The name is free again, and the audit trail keeps the old account's.
    let res = app.delete_admin_user(&admin.access_token, &user.id).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.register("heidi", PASSWORD).await.status(),
        StatusCode::CREATED
    );
    let kept: Vec<(String, Option<String>)> = audit_of(&app, &user.id);
    assert!(kept.iter().any(|(e, _)| e == "registered"), "{kept:?}");
    assert!(
        kept.iter()
            .any(|(e, d)| e == "user_deleted"
                && d.as_deref().is_some_and(|d| d.contains("\"heidi\""))),
        "{kept:?}"
    );
}

/// (event, detail) of the audit events about `subject_id`.
fn audit_of(app: &TestApp, subject_id: &str) -> Vec<(String, Option<String>)> {
    use diesel::prelude::*;
    #[derive(QueryableByName, Debug)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        event: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        detail: Option<String>,
    }
    diesel::sql_query(
        "SELECT event, detail::text AS detail FROM audit_events WHERE subject_id::text = $1",
    )
    .bind::<diesel::sql_types::Text, _>(subject_id)
    .load::<Row>(&mut app.db.connect())
    .unwrap()
    .into_iter()
    .map(|r| (r.event, r.detail))
    .collect()
}

#[tokio::test]
async fn an_admin_cannot_delete_themselves_or_the_last_admin() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    let (status, code) = code_of(app.delete_admin_user(&admin.access_token, &admin.id).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    // A second admin may delete the first, but then not themselves (the last one).
    let second = created(
        &app,
        &admin.access_token,
        json!({"username": "ivan", "password": PASSWORD, "roles": ["admin"]}),
    )
    .await;
    let ivan = app.log_in_as("ivan").await;
    let res = app.delete_admin_user(&ivan.access_token, &admin.id).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .delete_admin_user(&ivan.access_token, second["id"].as_str().unwrap())
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], 400);
    assert!(
        body["detail"].as_str().unwrap().contains("your own"),
        "{body}"
    );
    assert_eq!(app.audit_count("user_deleted"), 1);
}

#[tokio::test]
async fn two_admins_deleting_each_other_at_once_leave_one_admin() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    let ivan = created(
        &app,
        &admin.access_token,
        json!({"username": "ivan", "password": PASSWORD, "roles": ["admin"]}),
    )
    .await;
    let ivan_token = app.log_in_as("ivan").await.access_token;
    let ivan_id = ivan["id"].as_str().unwrap();
    let (a, b) = tokio::join!(
        app.delete_admin_user(&admin.access_token, ivan_id),
        app.delete_admin_user(&ivan_token, &admin.id),
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::NO_CONTENT, StatusCode::BAD_REQUEST]);
    assert_eq!(app.audit_count("user_deleted"), 1);
}
