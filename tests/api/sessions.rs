//! Logout, own sessions, password change; each revocation takes effect on the very next request.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, TokenPair, assert_problem, spawn_app};

#[tokio::test]
async fn logout_revokes_the_current_session_at_once() {
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    let other = alice.another_session(&app).await;
    let res = app.post_logout(&alice.access_token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_problem(app.get_me(&alice.access_token).await, 401, "invalid_token").await;
    assert_problem(
        app.refresh(&alice.refresh_token).await,
        401,
        "invalid_grant",
    )
    .await;
    // Only that session: the other one lives.
    assert_eq!(app.me_status(&other.access_token).await, StatusCode::OK);
    assert_eq!(app.audit_count("logout"), 1);
}

#[tokio::test]
async fn logout_all_revokes_every_session_of_the_user() {
    let app = spawn_app().await;
    let a = app.signed_in_user("alice").await;
    let b = a.another_session(&app).await;
    let bob = app.signed_in_user("bob").await;
    let res = app.post_logout_all(&a.access_token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for session in [&a, &b] {
        assert_eq!(
            app.me_status(&session.access_token).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.refresh_status(&session.refresh_token).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(app.me_status(&bob.access_token).await, StatusCode::OK);
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
    let first = app.signed_in_user("alice").await;
    let second: TokenPair = app.log_in_from("alice", "second-device/2.0").await;
    app.signed_in_user("bob").await;
    let res = app.get_sessions(&first.access_token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let sessions = body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "only alice's own sessions: {body}");
    // Newest first.
    assert_eq!(sessions[0]["id"], second.session_id);
    assert_eq!(sessions[0]["current"], false);
    assert_eq!(sessions[0]["user_agent"], "second-device/2.0");
    assert_eq!(sessions[0]["ip"], "127.0.0.1");
    assert_eq!(sessions[1]["id"], first.session_id);
    assert_eq!(sessions[1]["current"], true);
    for field in ["created_at", "last_used_at", "expires_at"] {
        assert!(sessions[0][field].is_string(), "{field}");
    }
    assert_eq!(sessions[0]["revoked_at"], Value::Null);
}

/// When the newest session in `token`'s user's list was last used.
async fn last_used_at(app: &TestApp, token: &str) -> String {
    let body: Value = app.get_sessions(token).await.json().await.unwrap();
    body["sessions"][0]["last_used_at"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn refresh_records_last_use() {
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    let before = last_used_at(&app, &alice.access_token).await;
    let next = app.refreshed(&alice.refresh_token).await;
    let after = last_used_at(&app, &next.access_token).await;
    assert!(after > before, "{after} should be later than {before}");
}

#[tokio::test]
async fn a_user_can_revoke_one_of_their_sessions_but_not_anothers() {
    let app = spawn_app().await;
    let phone = app.signed_in_user("alice").await;
    let laptop = phone.another_session(&app).await;
    let bob = app.signed_in_user("bob").await;

    let res = app
        .delete_session(&laptop.access_token, &phone.session_id)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.me_status(&phone.access_token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.me_status(&laptop.access_token).await, StatusCode::OK);

    // Bob's session, seen from alice: not found, and untouched.
    assert_problem(
        app.delete_session(&laptop.access_token, &bob.session_id)
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(app.me_status(&bob.access_token).await, StatusCode::OK);
    assert_problem(
        app.delete_session(&laptop.access_token, uuid::Uuid::now_v7())
            .await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        app.delete_session(&laptop.access_token, "not-a-uuid").await,
        404,
        "not_found",
    )
    .await;

    // The revoked session is listed with its revocation time.
    let body: Value = app
        .get_sessions(&laptop.access_token)
        .await
        .json()
        .await
        .unwrap();
    let revoked = body["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == phone.session_id)
        .unwrap()
        .clone();
    assert!(revoked["revoked_at"].is_string());
}

#[tokio::test]
async fn changing_the_password_revokes_the_other_sessions_only() {
    let app = spawn_app().await;
    let here = app.signed_in_user("alice").await;
    let elsewhere = here.another_session(&app).await;
    let new_password = "a brand new passphrase";
    let res = app
        .post_password(
            &here.access_token,
            &json!({ "current_password": PASSWORD, "new_password": new_password }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.me_status(&here.access_token).await, StatusCode::OK);
    assert_eq!(
        app.refresh_status(&here.refresh_token).await,
        StatusCode::OK
    );
    assert_eq!(
        app.me_status(&elsewhere.access_token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.refresh_status(&elsewhere.refresh_token).await,
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
    let alice = app.signed_in_user("alice").await;
    let change = |current: &str, new: &str| {
        let body = json!({ "current_password": current, "new_password": new });
        let app = &app;
        let token = &alice.access_token;
        async move { app.post_password(token, &body).await }
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
    assert_eq!(app.me_status(&alice.access_token).await, StatusCode::OK);
}

#[tokio::test]
async fn a_revocation_on_one_instance_reaches_another_sharing_the_database() {
    let a = spawn_app().await;
    let b = a.second_instance().await;
    let alice = a.signed_in_user("alice").await;
    assert_eq!(b.me_status(&alice.access_token).await, StatusCode::OK);
    let res = a.post_logout(&alice.access_token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Instance b learns of it from the database within a few sync intervals (2 s each).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while b.get_me(&alice.access_token).await.status() != StatusCode::UNAUTHORIZED {
        assert!(
            std::time::Instant::now() < deadline,
            "instance b never learned of the logout"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_revocation_whose_commit_lands_late_still_reaches_another_instance() {
    use std::time::{Duration, Instant};

    use authd::db::models::session::Session;
    use diesel::connection::{AnsiTransactionManager, TransactionManager};

    let a = spawn_app().await;
    let b = a.second_instance().await;
    let alice = a.signed_in_user("alice").await;
    assert_eq!(b.me_status(&alice.access_token).await, StatusCode::OK);
    // Revoke the session the way the logout service does, in a transaction that stays open (a
    // slow commit) for longer than instance b's sync overlap.
    let session_id: uuid::Uuid = alice.session_id.parse().unwrap();
    let mut conn = a.db.connect();
    AnsiTransactionManager::begin_transaction(&mut conn).unwrap();
    let revoked = Session::revoke(&mut conn, session_id, "logout").unwrap();
    assert_eq!(revoked.len(), 1);
    // Nothing is committed: instance b keeps accepting the token meanwhile.
    let open_until = Instant::now() + Duration::from_secs(8);
    while Instant::now() < open_until {
        assert_eq!(b.me_status(&alice.access_token).await, StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    AnsiTransactionManager::commit_transaction(&mut conn).unwrap();
    let committed = Instant::now();
    // Committed now: b learns of it from the database within a sync interval or two.
    let deadline = committed + Duration::from_secs(20);
    while b.me_status(&alice.access_token).await != StatusCode::UNAUTHORIZED {
        assert!(
            Instant::now() < deadline,
            "instance b never learned of the late-committed revocation"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let took = committed.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "b took {took:?} to learn of it"
    );
}

#[tokio::test]
async fn a_token_is_refused_once_neither_the_sync_nor_the_database_can_vouch_for_it() {
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    assert_eq!(app.me_status(&alice.access_token).await, StatusCode::OK);
    use diesel::prelude::*;
    let mut admin =
        diesel::PgConnection::establish(&crate::helpers::url_for_database("postgres")).unwrap();
    diesel::sql_query(format!("DROP DATABASE {} WITH (FORCE)", app.db.name))
        .execute(&mut admin)
        .unwrap();
    // The revocation sync fails from now on; once its state is stale (10 s) the database would be
    // asked, and it cannot answer: verification must refuse, not trust the stale state.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let res = app.get_verify(&alice.access_token, None).await;
        if res.status() == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        let status = res.status();
        assert_eq!(
            status,
            StatusCode::OK,
            "before the state is stale: {}",
            res.text().await.unwrap()
        );
        assert!(
            std::time::Instant::now() < deadline,
            "a token was still admitted on stale state with no database"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_client_address_is_read_across_every_forwarded_for_line() {
    let app = spawn_app().await;
    app.register("alice", PASSWORD).await;
    // The test client is a trusted proxy (127.0.0.1). A client forges the first line; the proxy
    // in front adds the real address as a line of its own.
    let tokens: TokenPair = app
        .client
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", "198.51.100.66")
        .header("x-forwarded-for", "203.0.113.9")
        .json(&json!({ "username": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let body: Value = app
        .get_sessions(&tokens.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["sessions"][0]["ip"], "203.0.113.9");
}

#[tokio::test]
async fn a_wrong_current_password_on_a_password_change_is_audited() {
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    let body = json!({ "current_password": "not the password at all", "new_password": "a brand new passphrase" });
    let res = app.post_password(&alice.access_token, &body).await;
    assert_problem(res, 401, "invalid_credentials").await;
    assert_eq!(app.audit_count("password_change_failed"), 1);
    assert_eq!(app.audit_count("password_changed"), 0);
}
