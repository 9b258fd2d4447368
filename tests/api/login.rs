//! Login: the token pair, what is stored of it, identical refusals, the hashing queue.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TokenPair, assert_problem, spawn_app, spawn_app_with};

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn login_returns_the_full_token_pair() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let res = app.login("alice", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let pair: Value = res.json().await.unwrap();
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 900);
    assert_eq!(pair["refresh_expires_in"], 2_592_000);
    let refresh = pair["refresh_token"].as_str().unwrap();
    assert!(
        URL_SAFE_NO_PAD.decode(refresh).unwrap().len() >= 32,
        "refresh token under 256 bits"
    );
    let session_id = pair["session_id"].as_str().unwrap();

    let access = pair["access_token"].as_str().unwrap();
    let header = decode_part(access, 0);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "at+jwt");
    assert!(header["kid"].is_string());
    let claims = decode_part(access, 1);
    for claim in [
        "iss", "aud", "sub", "exp", "iat", "nbf", "jti", "sid", "roles", "username",
    ] {
        assert!(!claims[claim].is_null(), "missing claim {claim}");
    }
    assert_eq!(claims["iss"], "authd");
    assert_eq!(claims["aud"], "authd");
    assert_eq!(claims["sid"], session_id);
    assert_eq!(claims["roles"], json!(["user"]));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    let text = claims.to_string();
    assert!(
        !text.contains("argon2") && !text.contains("email"),
        "secret material in claims: {text}"
    );
    assert_eq!(app.audit_count("login_succeeded"), 1);
}

#[tokio::test]
async fn only_the_refresh_token_hash_is_stored() {
    use authd::db::schema::refresh_tokens;
    use diesel::prelude::*;
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    let refresh = alice.refresh_token.as_str();
    let stored: Vec<Vec<u8>> = refresh_tokens::table
        .select(refresh_tokens::token_hash)
        .load(&mut app.db.connect())
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0], authd::auth::tokens::hash_refresh_token(refresh));
    assert_ne!(stored[0], refresh.as_bytes());
}

#[tokio::test]
async fn login_records_the_session_and_last_login() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let tokens: TokenPair = app.log_in_from("alice", "authd-tests/1.0").await;
    let me: Value = app.get_me(&tokens.access_token).await.json().await.unwrap();
    assert!(me["last_login_at"].is_string());

    use authd::db::schema::sessions;
    use diesel::prelude::*;
    let (kind, agent, ip): (String, Option<String>, Option<String>) = sessions::table
        .select((sessions::kind, sessions::user_agent, sessions::ip))
        .first(&mut app.db.connect())
        .unwrap();
    assert_eq!(kind, "api");
    assert_eq!(agent.as_deref(), Some("authd-tests/1.0"));
    assert_eq!(ip.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn unknown_user_and_wrong_password_get_byte_identical_answers() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let wrong_password = app.login("alice", "not the right password").await;
    let unknown_user = app.login("mallory", "not the right password").await;
    let unparseable_user = app.login("x", "not the right password").await;
    let mut bodies = Vec::new();
    for res in [wrong_password, unknown_user, unparseable_user] {
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        bodies.push(res.bytes().await.unwrap());
    }
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(bodies[1], bodies[2]);
    let body: Value = serde_json::from_slice(&bodies[0]).unwrap();
    assert_eq!(body["code"], "invalid_credentials");
    assert_eq!(app.audit_count("login_failed"), 3);
}

#[tokio::test]
async fn login_looks_usernames_up_case_insensitively() {
    let app = spawn_app().await;
    app.register("Alice", PASSWORD).await;
    assert_eq!(app.login("aLICE", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn login_refuses_bad_bodies_like_register() {
    let app = spawn_app().await;
    assert_problem(
        app.post_login(&json!({ "username": "a" })).await,
        400,
        "invalid_request",
    )
    .await;
    let extra = json!({ "username": "alice", "password": PASSWORD, "remember": true });
    assert_problem(app.post_login(&extra).await, 400, "invalid_request").await;
}

#[tokio::test]
async fn each_login_opens_a_distinct_session() {
    let app = spawn_app().await;
    let first = app.signed_in_user("alice").await;
    let second = first.another_session(&app).await;
    assert_ne!(first.session_id, second.session_id);
    assert_ne!(first.refresh_token, second.refresh_token);
}

#[tokio::test]
async fn a_login_flood_beyond_the_queue_is_answered_429_at_once() {
    let app = spawn_app_with(&[("AUTHD_HASH_QUEUE", "2")]).await;
    app.register("alice", PASSWORD).await;
    let attempts = (0..40).map(|_| app.login("alice", PASSWORD));
    let results = futures_util::future::join_all(attempts).await;
    let mut ok = 0;
    let mut limited = 0;
    for res in results {
        match res.status().as_u16() {
            200 => ok += 1,
            429 => {
                assert_eq!(res.headers()["retry-after"], "1");
                assert_problem(res, 429, "rate_limited").await;
                limited += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(ok >= 1 && limited >= 1, "ok {ok}, limited {limited}");
    // Once the flood is over, logins work again.
    assert_eq!(app.login("alice", PASSWORD).await.status(), StatusCode::OK);
}

/// Found by the contract fuzzer: a NUL in the name reached PostgreSQL (a 500), and the failed
/// login's audit detail quoted it into `jsonb`, which cannot hold it.
#[tokio::test]
async fn a_name_with_a_nul_character_is_just_wrong_credentials() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    for name in ["ali\u{0}ce", "\u{0}", "alice\u{0}"] {
        let res = app.login(name, PASSWORD).await;
        assert_problem(res, 401, "invalid_credentials").await;
    }
    assert_eq!(app.audit_count("login_failed"), 3);
}

/// Logs in as `username` from `address` (the test client is a trusted proxy).
async fn login_from(
    app: &crate::helpers::TestApp,
    address: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    app.client
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", address)
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn one_address_flooding_logins_cannot_take_the_hash_queue_from_another() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    // A queue of 16: each address may hold 2 checks; the flood alone could fill it 8 times over.
    let app = Arc::new(spawn_app_with(&[("AUTHD_HASH_QUEUE", "16")]).await);
    app.register("alice", PASSWORD).await;
    let stop = Arc::new(AtomicBool::new(false));
    let refused = Arc::new(AtomicUsize::new(0));
    let flood: Vec<_> = (0..32)
        .map(|i| {
            let (app, stop, refused) = (app.clone(), stop.clone(), refused.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let name = format!("guess{i}");
                    let res = login_from(&app, "203.0.113.50", &name, "not the password").await;
                    if res.status() == StatusCode::TOO_MANY_REQUESTS {
                        assert!(res.headers().contains_key("retry-after"));
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    // With the flood in flight, the owner at another address logs in every time.
    while refused.load(Ordering::Relaxed) == 0 {
        tokio::task::yield_now().await;
    }
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(
            login_from(&app, "198.51.100.7", "alice", PASSWORD)
                .await
                .status(),
        );
    }
    stop.store(true, Ordering::Relaxed);
    for task in flood {
        task.await.unwrap();
    }
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert!(refused.load(Ordering::Relaxed) > 0);
}

#[tokio::test]
async fn a_password_hashed_before_normalisation_still_logs_in_as_typed() {
    use authd::db::schema::users;
    use diesel::prelude::*;
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    // As an older authd stored it: the hash of the fullwidth form exactly as it was typed.
    let typed = "ｆｕｌｌｗｉｄｔｈ ｂｅｆｏｒｅ ｎｏｒｍａｌｉｓｉｎｇ";
    let legacy = authd::auth::passwords::hash_blocking(typed).unwrap();
    diesel::update(users::table)
        .set(users::password_hash.eq(&legacy))
        .execute(&mut app.db.connect())
        .unwrap();
    assert_eq!(app.login("alice", typed).await.status(), StatusCode::OK);
    // Its normalised form never was the password.
    let ascii = "fullwidth before normalising";
    assert_problem(app.login("alice", ascii).await, 401, "invalid_credentials").await;
}
