//! Registration: the user object, username and password rules, refused bodies.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn registration_returns_the_user_object_with_the_user_role() {
    let app = spawn_app().await;
    let res = app
        .post_register(
            &json!({ "username": "Alice.Smith", "password": PASSWORD, "email": "alice@example.org" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let user: Value = res.json().await.unwrap();
    let mut keys: Vec<_> = user.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "created_at",
            "disabled",
            "email",
            "email_verified",
            "id",
            "last_login_at",
            "roles",
            "username"
        ]
    );
    assert_eq!(user["username"], "Alice.Smith");
    assert_eq!(user["email"], "alice@example.org");
    assert_eq!(user["roles"], json!(["user"]));
    assert_eq!(user["disabled"], false);
    assert_eq!(user["email_verified"], false);
    assert_eq!(user["last_login_at"], Value::Null);
    let id = uuid::Uuid::parse_str(user["id"].as_str().unwrap()).unwrap();
    assert_eq!(id.get_version_num(), 7);
    assert!(chrono::DateTime::parse_from_rfc3339(user["created_at"].as_str().unwrap()).is_ok());
    assert_eq!(app.audit_count("registered"), 1);
}

#[tokio::test]
async fn the_password_is_stored_only_as_an_argon2id_hash() {
    use diesel::prelude::*;
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let hash: String = authd::db::schema::users::table
        .select(authd::db::schema::users::password_hash)
        .first(&mut app.db.connect())
        .unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(PASSWORD));
}

#[tokio::test]
async fn a_taken_username_is_refused_in_any_letter_case() {
    let app = spawn_app().await;
    assert_eq!(
        app.register("alice", PASSWORD).await.status(),
        StatusCode::CREATED
    );
    for name in ["alice", "ALICE", "aLiCe"] {
        assert_problem(app.register(name, PASSWORD).await, 409, "username_taken").await;
    }
    // The stored spelling is the first one.
    let tokens = app.log_in_as("ALICE").await;
    let me: Value = app.get_me(&tokens.access_token).await.json().await.unwrap();
    assert_eq!(me["username"], "alice");
}

#[tokio::test]
async fn twelve_concurrent_registrations_of_one_name_give_exactly_one_201() {
    let app = spawn_app().await;
    // Each from its own address: one address may hold only a share of the hashing queue.
    let attempts = (0..12).map(|i| {
        let name = if i % 2 == 0 { "racer" } else { "RACER" };
        app.client
            .post(app.url("/api/auth/register"))
            .header("x-forwarded-for", format!("203.0.113.{}", i + 1))
            .json(&json!({ "username": name, "password": PASSWORD }))
            .send()
    });
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        11,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn each_password_rule_is_enforced_with_a_reason() {
    let app = spawn_app().await;
    let cases = [
        ("short", "elevenchars", "at least 12"),
        ("long", &"x".repeat(129), "at most 128"),
        ("blank", &" ".repeat(16), "whitespace"),
        ("common", "1qaz2wsx3edc", "too common"),
        ("common2", "PASSWORD1234", "too common"),
        ("samename", "SameName-LongEnough", "username"),
    ];
    for (i, (label, password, reason)) in cases.iter().enumerate() {
        let username = if *label == "samename" {
            "samename-longenough".to_owned()
        } else {
            format!("user{i}")
        };
        let body = assert_problem(
            app.register(&username, password).await,
            400,
            "invalid_request",
        )
        .await;
        assert!(
            body["detail"].as_str().unwrap().contains(reason),
            "{label}: {}",
            body["detail"]
        );
    }
    // Nothing was created by the refused attempts.
    assert_eq!(app.audit_count("registered"), 0);
}

#[tokio::test]
async fn passwords_count_characters_and_accept_any_script() {
    let app = spawn_app().await;
    // 12 characters, 24 bytes: long enough.
    assert_eq!(
        app.register("unicode", "ππππππππππππ").await.status(),
        StatusCode::CREATED
    );
    let res = app.login("unicode", "ππππππππππππ").await;
    assert_eq!(res.status(), StatusCode::OK);
    // The full password is significant: a longer one is not truncated.
    let long = format!("{}A", "zq".repeat(60));
    assert_eq!(
        app.register("longpw", &long).await.status(),
        StatusCode::CREATED
    );
    let truncated = &long[..long.len() - 1];
    assert_eq!(
        app.login("longpw", truncated).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_minimum_password_length_is_configurable() {
    let app = spawn_app_with(&[("AUTHD_PASSWORD_MIN_LENGTH", "20")]).await;
    let body = assert_problem(
        app.register("alice", PASSWORD[..19].trim()).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("at least 20"));
    assert_eq!(
        app.register("alice", PASSWORD).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn usernames_outside_the_rules_are_refused() {
    let app = spawn_app().await;
    for name in [
        "ab",
        &"a".repeat(65),
        "with space",
        "émile",
        "a/b",
        "semi;colon",
        "",
    ] {
        assert_problem(app.register(name, PASSWORD).await, 400, "invalid_request").await;
    }
    assert_eq!(
        app.register(&"a".repeat(64), PASSWORD).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn an_invalid_email_is_refused_and_a_taken_one_conflicts() {
    let app = spawn_app().await;
    let reg = |u: &str, e: &str| json!({ "username": u, "password": PASSWORD, "email": e });
    assert_problem(
        app.post_register(&reg("alice", "not-an-email")).await,
        400,
        "invalid_request",
    )
    .await;
    let res = app.post_register(&reg("alice", "a@example.org")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_problem(
        app.post_register(&reg("bob", "A@Example.org")).await,
        409,
        "email_taken",
    )
    .await;
}

#[tokio::test]
async fn malformed_bodies_get_400_and_wrong_content_type_415() {
    let app = spawn_app().await;
    let raw = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url("/api/auth/register"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    assert_problem(
        raw("{not json", "application/json").await.unwrap(),
        400,
        "invalid_request",
    )
    .await;
    assert_problem(
        raw("[1, 2]", "application/json").await.unwrap(),
        400,
        "invalid_request",
    )
    .await;
    assert_problem(
        raw("", "application/json").await.unwrap(),
        400,
        "invalid_request",
    )
    .await;
    assert_problem(
        raw(r#"{"username": 5, "password": "x"}"#, "application/json")
            .await
            .unwrap(),
        400,
        "invalid_request",
    )
    .await;
    assert_problem(
        raw(
            r#"{"username":"alice","password":"correct horse battery staple"}"#,
            "text/plain",
        )
        .await
        .unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    let missing = app
        .client
        .post(app.url("/api/auth/register"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(missing, 415, "unsupported_media_type").await;
}

#[tokio::test]
async fn missing_and_unknown_fields_are_refused() {
    let app = spawn_app().await;
    let missing = assert_problem(
        app.post_register(&json!({ "username": "alice" })).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(missing["detail"].as_str().unwrap().contains("password"));
    // No mass assignment: a client cannot give itself roles.
    let unknown = assert_problem(
        app.post_register(
            &json!({ "username": "alice", "password": PASSWORD, "roles": ["admin"] }),
        )
        .await,
        400,
        "invalid_request",
    )
    .await;
    assert!(unknown["detail"].as_str().unwrap().contains("roles"));
    assert_eq!(app.audit_count("registered"), 0);
}

#[tokio::test]
async fn an_oversized_body_gets_413() {
    let app = spawn_app().await;
    let body = json!({ "username": "alice", "password": "x".repeat(100_000) });
    assert_problem(app.post_register(&body).await, 413, "payload_too_large").await;
}

#[tokio::test]
async fn a_disguised_common_password_and_an_invisible_one_are_refused() {
    let app = spawn_app().await;
    let cases = [
        ("fullwidth", "ｐａｓｓｗｏｒｄ１２３４", "too common"),
        (
            "zero-width",
            &"\u{200B}\u{2060}\u{FEFF}\u{202E}".repeat(4),
            "visible characters",
        ),
    ];
    for (i, (label, password, reason)) in cases.iter().enumerate() {
        let res = app.register(&format!("user{i}"), password).await;
        let body = assert_problem(res, 400, "invalid_request").await;
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(reason), "{label}: {detail}");
    }
    assert_eq!(app.audit_count("registered"), 0);
}

#[tokio::test]
async fn a_password_registered_in_one_form_logs_in_in_any_equivalent_form() {
    let app = spawn_app().await;
    let fullwidth = "ｃｏｒｒｅｃｔ ｈｏｒｓｅ ｂａｔｔｅｒｙ ｓｔａｐｌｅ";
    assert_eq!(
        app.register("alice", fullwidth).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        app.login("alice", "correct horse battery staple")
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(app.login("alice", fullwidth).await.status(), StatusCode::OK);
    // Composed and decomposed accents are one password too.
    app.register("bob", "cafe\u{0301} cre\u{0300}me bru\u{0302}le\u{0301}e")
        .await;
    assert_eq!(
        app.login("bob", "café crème brûlée").await.status(),
        StatusCode::OK
    );
}
