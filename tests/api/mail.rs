//! Mail through a real SMTP server: forgot-password, email verification, and an outbox that
//! outlives a dead server.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::Text;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{ADMIN, Count, PASSWORD, TestApp, assert_problem, spawn_app, spawn_app_with};
use crate::smtp::{Delivered, SmtpSink, free_port, mail_env};

async fn app_mailing_to(smtp_url: &str, admin: bool) -> TestApp {
    let mut env = mail_env(smtp_url);
    if admin {
        env.push(("AUTHD_BOOTSTRAP_ADMIN", format!("{ADMIN}:{PASSWORD}")));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    spawn_app_with(&env).await
}

/// Registers `username` with `email`; the user object.
async fn register_with_email(app: &TestApp, username: &str, email: &str) -> Value {
    let res = app
        .post_register(&json!({ "username": username, "password": PASSWORD, "email": email }))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

fn resets(mails: &[Delivered]) -> Vec<&Delivered> {
    mails
        .iter()
        .filter(|m| m.link().contains("/reset-password?"))
        .collect()
}

/// Waits (bounded) for a password-reset mail to `to`.
async fn reset_mail(sink: &SmtpSink, to: &str) -> Delivered {
    let start = Instant::now();
    loop {
        let mails = sink.delivered_to(to);
        if let Some(mail) = resets(&mails).first() {
            return (*mail).clone();
        }
        assert!(
            start.elapsed() < crate::smtp::DELIVERY_TIMEOUT,
            "no reset mail to {to}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn outbox_rows(app: &TestApp, condition: &str) -> i64 {
    diesel::sql_query(format!(
        "SELECT count(*) AS n FROM mail_outbox WHERE {condition}"
    ))
    .get_result::<Count>(&mut app.db.connect())
    .unwrap()
    .n
}

/// Waits (bounded) until `condition` holds for `n` outbox rows.
async fn wait_for_outbox(app: &TestApp, condition: &str, n: i64) {
    let start = Instant::now();
    while outbox_rows(app, condition) != n {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "outbox never had {n} rows with {condition}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn forgot_password_mails_a_link_that_sets_a_new_password() {
    let sink = SmtpSink::start();
    let app = app_mailing_to(&sink.url(), false).await;
    register_with_email(&app, "alice", "alice@mail.test").await;

    let res = app
        .post_forgot_password(&json!({ "email": "Alice@Mail.test" }))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);

    let mail = reset_mail(&sink, "alice@mail.test").await;
    assert!(
        mail.data.contains("From: authd <noreply@authd.test>"),
        "{}",
        mail.data
    );
    assert!(mail.link().contains("/reset-password?token="));
    let new_password = "a brand new passphrase";
    let res = app.post_password_reset(&mail.token(), new_password).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.login("alice", new_password).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.login("alice", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The outbox keeps that it was sent, never the link.
    wait_for_outbox(&app, "state = 'sent' AND kind = 'password_reset'", 1).await;
}

#[tokio::test]
async fn forgot_password_by_username_mails_the_accounts_address() {
    let sink = SmtpSink::start();
    let app = app_mailing_to(&sink.url(), false).await;
    register_with_email(&app, "bob", "bob@mail.test").await;
    let res = app
        .post_forgot_password(&json!({ "username": "BOB" }))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let mail = reset_mail(&sink, "bob@mail.test").await;
    let res = app
        .post_password_reset(&mail.token(), "another fine passphrase")
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn forgot_password_for_an_unknown_account_answers_202_and_sends_nothing() {
    let sink = SmtpSink::start();
    let app = app_mailing_to(&sink.url(), false).await;
    for body in [
        json!({ "email": "nobody@mail.test" }),
        json!({ "username": "nobody" }),
    ] {
        let res = app.post_forgot_password(&body).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        assert!(res.text().await.unwrap().is_empty());
    }
    // The worker found no account: the intents are gone, nothing was sent.
    wait_for_outbox(&app, "true", 0).await;
    assert!(sink.delivered_to("nobody@mail.test").is_empty());
}

#[tokio::test]
async fn a_disabled_account_gets_no_reset_mail() {
    let sink = SmtpSink::start();
    let app = app_mailing_to(&sink.url(), true).await;
    let user = register_with_email(&app, "carol", "carol@mail.test").await;
    let admin = app.signed_in_admin().await;
    let res = app
        .post_admin_disable(&admin.access_token, user["id"].as_str().unwrap())
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .post_forgot_password(&json!({ "email": "carol@mail.test" }))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    wait_for_outbox(&app, "kind = 'password_reset'", 0).await;
    assert!(resets(&sink.delivered_to("carol@mail.test")).is_empty());
}

#[tokio::test]
async fn forgot_password_takes_exactly_one_of_email_and_username() {
    let app = spawn_app().await;
    for body in [
        json!({}),
        json!({ "email": "a@mail.test", "username": "alice" }),
        json!({ "email": "not an address" }),
        json!({ "username": "no spaces allowed" }),
        json!({ "email": "a@mail.test", "roles": ["admin"] }),
    ] {
        let res = app.post_forgot_password(&body).await;
        assert_problem(res, 400, "invalid_request").await;
    }
}

#[tokio::test]
async fn without_mail_forgot_password_still_answers_202_and_verify_request_503() {
    let app = spawn_app().await;
    let res = app
        .post_forgot_password(&json!({ "username": "anyone" }))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let res = app
        .post_register(
            &json!({ "username": "dave", "password": PASSWORD, "email": "dave@mail.test" }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let dave = app.signed_in("dave").await;
    let body = assert_problem(
        app.post_verify_request(&dave.access_token).await,
        503,
        "service_unavailable",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("mail"), "{body}");
    assert_eq!(outbox_rows(&app, "true"), 0);
}

#[tokio::test]
async fn a_registered_address_is_verified_by_the_mailed_link_once() {
    let sink = SmtpSink::start();
    let app = app_mailing_to(&sink.url(), false).await;
    let user = register_with_email(&app, "erin", "erin@mail.test").await;
    assert_eq!(user["email_verified"], false);

    let mail = sink.wait_for("erin@mail.test", 1).await.remove(0);
    assert!(mail.link().contains("/verify-email?token="));
    let token = mail.token();
    assert_eq!(
        app.post_verify_email(&token).await.status(),
        StatusCode::NO_CONTENT
    );

    let erin = app.signed_in("erin").await;
    let me: Value = app.get_me(&erin.access_token).await.json().await.unwrap();
    assert_eq!(me["email_verified"], true);
    assert_problem(app.post_verify_email(&token).await, 401, "invalid_grant").await;
    assert_problem(app.post_verify_email("made-up").await, 401, "invalid_grant").await;
}

#[tokio::test]
async fn verify_request_mails_a_new_link_to_the_callers_address() {
    let sink = SmtpSink::start();
    let app = app_mailing_to(&sink.url(), false).await;
    register_with_email(&app, "frank", "frank@mail.test").await;
    let frank = app.signed_in("frank").await;
    assert_eq!(
        app.post_verify_request(&frank.access_token).await.status(),
        StatusCode::ACCEPTED
    );
    let mails = sink.wait_for("frank@mail.test", 2).await;
    assert_ne!(mails[0].token(), mails[1].token());
    assert_eq!(
        app.post_verify_email(&mails[1].token()).await.status(),
        StatusCode::NO_CONTENT
    );

    let nomail = app.signed_in_user("grace").await;
    let body = assert_problem(
        app.post_verify_request(&nomail.access_token).await,
        400,
        "invalid_request",
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("no email address")
    );
}

#[tokio::test]
async fn changing_the_address_clears_its_verification_and_voids_its_links() {
    let sink = SmtpSink::start();
    let app = app_mailing_to(&sink.url(), true).await;
    let user = register_with_email(&app, "heidi", "heidi@mail.test").await;
    let id = user["id"].as_str().unwrap().to_owned();
    let first = sink.wait_for("heidi@mail.test", 1).await.remove(0);
    let heidi = app.signed_in("heidi").await;
    assert_eq!(
        app.post_verify_request(&heidi.access_token).await.status(),
        StatusCode::ACCEPTED
    );
    let second = sink.wait_for("heidi@mail.test", 2).await;
    let unused = second
        .iter()
        .find(|m| m.token() != first.token())
        .unwrap()
        .token();
    assert_eq!(
        app.post_verify_email(&first.token()).await.status(),
        StatusCode::NO_CONTENT
    );

    let admin = app.signed_in_admin().await;
    let res = app
        .client
        .patch(app.url(&format!("/api/admin/users/{id}")))
        .bearer_auth(&admin.access_token)
        .json(&json!({ "email": "heidi@elsewhere.test" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let changed: Value = res.json().await.unwrap();
    assert_eq!(changed["email_verified"], false);
    // A link sent to the old address no longer verifies anything.
    let _ = unused;
    let stale = diesel::sql_query("SELECT count(*) AS n FROM email_verifications WHERE email = $1")
        .bind::<Text, _>("heidi@mail.test")
        .get_result::<Count>(&mut app.db.connect())
        .unwrap()
        .n;
    assert_eq!(stale, 0);
}

#[tokio::test]
async fn a_dead_smtp_server_keeps_the_mail_queued_and_it_is_delivered_once_a_server_listens() {
    let port = free_port();
    let app = app_mailing_to(&format!("smtp://127.0.0.1:{port}"), false).await;
    register_with_email(&app, "ivan", "ivan@mail.test").await;

    let started = Instant::now();
    let res = app
        .post_forgot_password(&json!({ "username": "ivan" }))
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the request waited for SMTP"
    );
    // Tried, failed, kept for later.
    wait_for_outbox(
        &app,
        "kind = 'password_reset' AND state = 'pending' AND attempts >= 1 AND last_error IS NOT NULL",
        1,
    )
    .await;

    let sink = SmtpSink::start_on(port);
    let mail = reset_mail(&sink, "ivan@mail.test").await;
    let res = app
        .post_password_reset(&mail.token(), "delivered at last, phew")
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}
