//! Signing keys an operator manages with `authd keys`: rotation and retirement reach every
//! instance sharing the database, private keys can be sealed at rest, HS256 secrets can change.

use std::future::Future;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::Value;

use authd::db::schema::signing_keys;

use crate::helpers::{PASSWORD, TestApp, spawn_app, spawn_app_with};

/// How long a change made with `authd keys` may take to reach a running instance (the contract
/// allows 30 s; instances re-read the keys every 2 s).
const BOUND: Duration = Duration::from_secs(30);

/// Polls `check` every 200 ms until it holds; fails after `BOUND`.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + BOUND;
    while !check().await {
        assert!(Instant::now() < deadline, "not within {BOUND:?}: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

async fn published_kids(app: &TestApp) -> Vec<String> {
    let set: Value = app.get_jwks().await.json().await.unwrap();
    set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// The kid `authd keys rotate` printed.
fn rotated_kid(out: &str) -> String {
    out.split_whitespace()
        .skip_while(|w| *w != "key")
        .nth(1)
        .unwrap_or_else(|| panic!("no kid in {out:?}"))
        .trim_end_matches(',')
        .to_owned()
}

#[tokio::test]
async fn a_rotation_reaches_every_instance_which_then_signs_with_the_new_key_and_accepts_both() {
    let a = spawn_app().await;
    let b = a.second_instance().await;
    a.register("alice", PASSWORD).await;
    let before = a.log_in_as("alice").await;
    let old_kid = kid_of(&before.access_token);

    let new_kid = rotated_kid(&a.cli_ok(&["keys", "rotate"], &[]).await);
    assert_ne!(new_kid, old_kid);
    for app in [&a, &b] {
        eventually("the new key is published and signs", || async {
            published_kids(app).await.contains(&new_kid)
                && kid_of(&app.log_in_as("alice").await.access_token) == new_kid
        })
        .await;
        // The old key verifies until its last token has expired.
        assert!(published_kids(app).await.contains(&old_kid));
        assert_eq!(app.me_status(&before.access_token).await, StatusCode::OK);
    }
    let after = b.log_in_as("alice").await;
    assert_eq!(a.me_status(&after.access_token).await, StatusCode::OK);
    let list = a.cli_ok(&["keys", "list"], &[]).await;
    assert!(
        list.lines()
            .any(|l| l.starts_with(&new_kid) && l.contains("signing")),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with(&old_kid) && l.contains("verifying")),
        "{list}"
    );
}

#[tokio::test]
async fn retiring_a_key_refuses_its_tokens_on_every_instance_and_a_new_key_takes_over() {
    let a = spawn_app().await;
    let b = a.second_instance().await;
    a.register("alice", PASSWORD).await;
    let doomed = a.log_in_as("alice").await;
    let kid = kid_of(&doomed.access_token);
    assert_eq!(b.me_status(&doomed.access_token).await, StatusCode::OK);

    let out = a.cli_ok(&["keys", "retire", &kid], &[]).await;
    assert!(out.contains("new signing key"), "{out}");
    for app in [&a, &b] {
        eventually("the retired key's token is refused", || async {
            app.me_status(&doomed.access_token).await == StatusCode::UNAUTHORIZED
        })
        .await;
        assert!(!published_kids(app).await.contains(&kid));
        eventually("a new key signs", || async {
            let fresh = app.log_in_as("alice").await;
            kid_of(&fresh.access_token) != kid
                && app.me_status(&fresh.access_token).await == StatusCode::OK
        })
        .await;
    }
    let again = a.run_cli(&["keys", "retire", &kid], &[], "").await;
    assert!(!again.status.success());
}

#[tokio::test]
async fn the_previous_key_retires_by_itself_once_its_last_token_has_expired() {
    // Tokens live 1 s (+5 s leeway): the old key is done six seconds after the new one signs.
    let app = spawn_app_with(&[("AUTHD_ACCESS_TTL", "1")]).await;
    app.register("alice", PASSWORD).await;
    let old_kid = kid_of(&app.log_in_as("alice").await.access_token);
    app.cli_ok(&["keys", "rotate"], &[("AUTHD_ACCESS_TTL", "1")])
        .await;
    eventually("the old key retires", || async {
        !published_kids(&app).await.contains(&old_kid)
    })
    .await;
    let retired: Option<chrono::DateTime<chrono::Utc>> = signing_keys::table
        .find(&old_kid)
        .select(signing_keys::retired_at)
        .first(&mut app.db.connect())
        .unwrap();
    assert!(retired.is_some());
}

#[tokio::test]
async fn a_key_published_ahead_is_in_the_jwks_before_it_signs() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let old_kid = kid_of(&app.log_in_as("alice").await.access_token);
    let out = app
        .cli_ok(&["keys", "rotate", "--publish-ahead", "8"], &[])
        .await;
    let new_kid = rotated_kid(&out);
    let list = app.cli_ok(&["keys", "list"], &[]).await;
    assert!(
        list.lines()
            .any(|l| l.starts_with(&new_kid) && l.contains("pending")),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with(&old_kid) && l.contains("signing")),
        "{list}"
    );
    eventually("the pending key is published", || async {
        published_kids(&app).await.contains(&new_kid)
    })
    .await;
    assert_eq!(kid_of(&app.log_in_as("alice").await.access_token), old_kid);
    eventually("the new key signs once its time has come", || async {
        kid_of(&app.log_in_as("alice").await.access_token) == new_kid
    })
    .await;
}

fn kek(byte: u8) -> String {
    STANDARD.encode([byte; 32])
}

/// (kid, private_key, private_key_encryption) of every stored key.
fn stored_keys(app: &TestApp) -> Vec<(String, Vec<u8>, Option<String>)> {
    signing_keys::table
        .select((
            signing_keys::kid,
            signing_keys::private_key,
            signing_keys::private_key_encryption,
        ))
        .load(&mut app.db.connect())
        .unwrap()
}

fn is_plain_pkcs8(der: &[u8]) -> bool {
    aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(der).is_ok()
}

#[tokio::test]
async fn with_a_key_encryption_key_private_keys_are_never_stored_in_plain_form() {
    let key = kek(7);
    let app = spawn_app_with(&[("AUTHD_KEY_ENCRYPTION_KEY", &key)]).await;
    app.cli_ok(&["keys", "rotate"], &[("AUTHD_KEY_ENCRYPTION_KEY", &key)])
        .await;
    let stored = stored_keys(&app);
    assert_eq!(stored.len(), 2);
    for (kid, private, scheme) in stored {
        assert_eq!(scheme.as_deref(), Some("A256GCM"), "{kid}");
        assert!(!is_plain_pkcs8(&private), "{kid} is stored in plain form");
    }
    // Tokens are signed and verified with the sealed keys.
    let alice = app.signed_in_user("alice").await;
    assert_eq!(app.me_status(&alice.access_token).await, StatusCode::OK);
}

#[tokio::test]
async fn plain_keys_can_be_encrypted_later_and_start_up_then_needs_the_right_key() {
    let app = spawn_app().await;
    assert!(
        stored_keys(&app)
            .iter()
            .all(|(_, k, s)| s.is_none() && is_plain_pkcs8(k))
    );
    let key = kek(9);
    let out = app
        .cli_ok(&["keys", "encrypt"], &[("AUTHD_KEY_ENCRYPTION_KEY", &key)])
        .await;
    assert!(out.contains("encrypted 1"), "{out}");
    assert!(
        stored_keys(&app)
            .iter()
            .all(|(_, k, s)| s.is_some() && !is_plain_pkcs8(k))
    );

    // Without the key, or with another one, start-up refuses with one line naming the variable.
    for env in [vec![], vec![("AUTHD_KEY_ENCRYPTION_KEY", kek(1))]] {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let out = app.run_cli(&["migrate"], &env, "").await;
        assert!(out.status.success(), "migrate needs no keys");
        let out = app.run_cli(&["keys", "list"], &env, "").await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains("AUTHD_KEY_ENCRYPTION_KEY"), "{err}");
    }
    // With it, an instance starts and its tokens work.
    let second = app
        .second_instance_with(&[("AUTHD_KEY_ENCRYPTION_KEY", &key)])
        .await;
    let alice = second.signed_in_user("alice").await;
    assert_eq!(second.me_status(&alice.access_token).await, StatusCode::OK);
}

const SECRET_A: &str = "first-secret-first-secret-first-secret!";
const SECRET_B: &str = "second-secret-second-secret-second-sec!";

#[tokio::test]
async fn an_hs256_secret_change_keeps_the_previous_secrets_tokens_working_meanwhile() {
    let old = spawn_app_with(&[("AUTHD_JWT_ALG", "HS256"), ("AUTHD_JWT_SECRET", SECRET_A)]).await;
    let alice = old.signed_in_user("alice").await;
    let kid = kid_of(&alice.access_token);
    assert!(
        !SECRET_A.contains(&kid) && kid == "hs256",
        "the kid must reveal nothing of the secret: {kid}"
    );
    let changing = old
        .second_instance_with(&[
            ("AUTHD_JWT_ALG", "HS256"),
            ("AUTHD_JWT_SECRET", SECRET_B),
            ("AUTHD_JWT_SECRET_PREVIOUS", SECRET_A),
        ])
        .await;
    assert_eq!(
        changing.me_status(&alice.access_token).await,
        StatusCode::OK
    );
    let fresh = changing.log_in_as("alice").await;
    assert_eq!(
        changing.me_status(&fresh.access_token).await,
        StatusCode::OK
    );
    let changed = old
        .second_instance_with(&[("AUTHD_JWT_ALG", "HS256"), ("AUTHD_JWT_SECRET", SECRET_B)])
        .await;
    assert_eq!(
        changed.me_status(&alice.access_token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(changed.me_status(&fresh.access_token).await, StatusCode::OK);
}

#[tokio::test]
async fn retiring_the_signing_key_brings_a_new_key_not_the_previous_one_back() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    let first = kid_of(&app.log_in_as("alice").await.access_token);
    let second = rotated_kid(
        &app.cli_ok(&["keys", "rotate", "--publish-ahead", "0"], &[])
            .await,
    );
    eventually("the second key signs", || async {
        kid_of(&app.log_in_as("alice").await.access_token) == second
    })
    .await;
    // The first key still verifies (its tokens may live); the second one leaks and is retired.
    let out = app.cli_ok(&["keys", "retire", &second], &[]).await;
    assert!(out.contains("new signing key"), "{out}");
    eventually("a third key signs", || async {
        let kid = kid_of(&app.log_in_as("alice").await.access_token);
        kid != second && kid != first
    })
    .await;
}
