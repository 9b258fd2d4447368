//! Throttling (API.md "Throttling"): the per-address bucket, the per (account, address) backoff,
//! the account-wide rationing that never locks the owner out, the audit, the dashboard's clear.
//! Every app here runs with the contract's default limits.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::Text;
use reqwest::{Response, StatusCode};
use serde_json::json;

use crate::dashboard::{Browser, csrf_in};
use crate::helpers::{
    ADMIN, CONTRACT_LIMITS, Count, PASSWORD, TestApp, TestDb, assert_problem, authd_command,
    spawn_app_with,
};

const WRONG: &str = "not the password at all";
const ATTACKER: &str = "203.0.113.7";
const OWNER: &str = "198.51.100.2";

async fn spawn_throttled_app() -> TestApp {
    spawn_app_with(CONTRACT_LIMITS).await
}

async fn spawn_throttled_admin_app() -> TestApp {
    let admin = format!("{ADMIN}:{PASSWORD}");
    let mut env = CONTRACT_LIMITS.to_vec();
    env.push(("AUTHD_BOOTSTRAP_ADMIN", &admin));
    spawn_app_with(&env).await
}

fn retry_after(res: &Response) -> u64 {
    res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in whole seconds")
}

/// Asserts a `429 rate_limited` with a `Retry-After` of at least a second; returns it.
async fn assert_throttled(res: Response) -> u64 {
    let wait = retry_after(&res);
    assert!(wait >= 1, "Retry-After {wait}");
    assert_problem(res, 429, "rate_limited").await;
    wait
}

/// `login_throttled` events whose `detail.scope` is `scope`.
fn throttled_events(app: &TestApp, scope: &str) -> i64 {
    diesel::sql_query(
        "SELECT count(*) AS n FROM audit_events WHERE event = 'login_throttled' \
         AND detail->>'scope' = $1",
    )
    .bind::<Text, _>(scope)
    .get_result::<Count>(&mut app.db.connect())
    .unwrap()
    .n
}

/// The user page's throttling card (the audit table below it names addresses too).
fn throttling_section(page: &str) -> &str {
    let start = page
        .find(r#"id="throttling""#)
        .expect("a throttling section");
    let rest = &page[start..];
    &rest[..rest.find("</section>").unwrap()]
}

#[tokio::test]
async fn forty_wrong_passwords_from_one_address_get_429s_with_retry_after() {
    let app = spawn_throttled_app().await;
    app.register("alice", PASSWORD).await;
    for _ in 0..5 {
        let res = app.login_from_address(ATTACKER, "alice", WRONG).await;
        assert_problem(res, 401, "invalid_credentials").await;
    }
    let first = assert_throttled(app.login_from_address(ATTACKER, "alice", WRONG).await).await;
    assert!(
        (25..=30).contains(&first),
        "backoff starts near 30 s: {first}"
    );
    for _ in 6..40 {
        assert_throttled(app.login_from_address(ATTACKER, "alice", WRONG).await).await;
    }
    // The right password from that address waits too: the pair is refused, not the password.
    let res = app.login_from_address(ATTACKER, "alice", PASSWORD).await;
    assert_throttled(res).await;
}

#[tokio::test]
async fn the_owner_at_another_address_still_logs_in_during_the_attack() {
    let app = spawn_throttled_app().await;
    app.register("alice", PASSWORD).await;
    for _ in 0..40 {
        app.login_from_address(ATTACKER, "alice", WRONG).await;
    }
    let res = app.login_from_address(OWNER, "alice", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_slow_distributed_guesser_is_slowed_but_the_owner_is_not() {
    let app = spawn_throttled_app().await;
    app.register("alice", PASSWORD).await;
    // The owner signed in from home before the attack.
    assert_eq!(
        app.login_from_address(OWNER, "alice", PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
    // Sixty addresses, one guess each: no pair ever reaches its limit.
    let mut refused = 0;
    for i in 0..60 {
        let res = app
            .login_from_address(&format!("10.9.{}.{}", i / 200, i % 200 + 1), "alice", WRONG)
            .await;
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_throttled(res).await;
            refused += 1;
        } else {
            assert_problem(res, 401, "invalid_credentials").await;
        }
    }
    assert!(refused >= 30, "only {refused} of 60 guesses were refused");
    // The owner, at an address the account signed in from, is not rationed.
    let res = app.login_from_address(OWNER, "alice", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_name_and_an_existing_one_are_throttled_identically() {
    let app = spawn_throttled_app().await;
    app.register("alice", PASSWORD).await;
    let mut seen = Vec::new();
    for (name, address) in [("alice", "203.0.113.20"), ("nobody", "203.0.113.21")] {
        let mut answers = Vec::new();
        for _ in 0..10 {
            let res = app.login_from_address(address, name, WRONG).await;
            let wait = res
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().parse::<u64>().unwrap() / 10);
            answers.push((res.status(), wait));
        }
        seen.push(answers);
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0][5].0, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_address_bucket_covers_register_refresh_and_admin_login() {
    let app = spawn_throttled_app().await;
    // Each route from its own address: twenty pass the bucket, the next is refused.
    let register = |i: usize| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/auth/register"))
                .header("x-forwarded-for", "203.0.113.30")
                .json(&json!({ "username": format!("user{i}"), "password": "short" }))
                .send()
                .await
                .unwrap()
        }
    };
    for i in 0..20 {
        assert_eq!(register(i).await.status(), StatusCode::BAD_REQUEST);
    }
    assert_throttled(register(20).await).await;

    let refresh = || async {
        app.client
            .post(app.url("/api/auth/refresh"))
            .header("x-forwarded-for", "203.0.113.31")
            .json(&json!({ "refresh_token": "no-such-token" }))
            .send()
            .await
            .unwrap()
    };
    for _ in 0..20 {
        assert_eq!(refresh().await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_throttled(refresh().await).await;

    let b = Browser::new(&app);
    let admin_login = |i: usize| {
        let b = &b;
        async move {
            let token = csrf_in(&b.html("/admin/login").await);
            b.client
                .post(b.app.url("/admin/login"))
                .header("x-forwarded-for", "203.0.113.32")
                .form(&[
                    ("username", format!("guess{i}").as_str()),
                    ("password", WRONG),
                    ("csrf_token", &token),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    for i in 0..20 {
        assert_eq!(admin_login(i).await.status(), StatusCode::UNAUTHORIZED);
    }
    let res = admin_login(20).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&res) >= 1);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
}

#[tokio::test]
async fn login_throttled_is_audited_once_per_window() {
    let app = spawn_throttled_app().await;
    app.register("alice", PASSWORD).await;
    for _ in 0..15 {
        app.login_from_address(ATTACKER, "alice", WRONG).await;
    }
    assert_eq!(throttled_events(&app, "account_address"), 1);
    assert_eq!(app.audit_count("login_throttled"), 1);
}

#[tokio::test]
async fn wrong_current_passwords_on_a_password_change_count_as_failed_logins() {
    let app = spawn_throttled_app().await;
    let alice = app.signed_in_user("alice").await;
    let body = json!({ "current_password": WRONG, "new_password": "a brand new passphrase" });
    for _ in 0..5 {
        let res = app.post_password(&alice.access_token, &body).await;
        assert_problem(res, 401, "invalid_credentials").await;
    }
    assert_throttled(app.post_password(&alice.access_token, &body).await).await;
    // The same name from the same address is refused at login too.
    assert_throttled(app.login("alice", PASSWORD).await).await;
    assert_eq!(app.audit_count("password_change_failed"), 5);
}

#[tokio::test]
async fn the_user_page_shows_the_throttled_address_and_clear_lifts_it_on_every_instance() {
    let app = spawn_throttled_admin_app().await;
    let other = app.second_instance_with(CONTRACT_LIMITS).await;
    let alice = app.signed_in_user("alice").await;
    for instance in [&app, &other] {
        for _ in 0..6 {
            instance.login_from_address(ATTACKER, "alice", WRONG).await;
        }
        let res = instance
            .login_from_address(ATTACKER, "alice", PASSWORD)
            .await;
        assert_throttled(res).await;
    }

    let b = Browser::new(&app);
    b.login(ADMIN, PASSWORD).await;
    let path = format!("/admin/users/{}", alice.id);
    let page = b.html(&path).await;
    let section = throttling_section(&page);
    assert!(
        section.contains(ATTACKER),
        "the page names the address: {section}"
    );
    assert!(section.contains("throttled"));
    let res = b
        .post(
            &format!("{path}/unthrottle"),
            &[("csrf_token", &csrf_in(&page))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"].to_str().unwrap(), path);
    let page = b.html(&path).await;
    assert!(page.contains("throttling cleared"), "flash message");
    assert!(!throttling_section(&page).contains(ATTACKER));
    assert_eq!(app.audit_count("login_throttle_cleared"), 1);

    for instance in [&app, &other] {
        let res = instance
            .login_from_address(ATTACKER, "alice", PASSWORD)
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn clearing_needs_the_forms_csrf_token() {
    let app = spawn_throttled_admin_app().await;
    let alice = app.signed_in_user("alice").await;
    let b = Browser::new(&app);
    b.login(ADMIN, PASSWORD).await;
    let res = b
        .post(
            &format!("/admin/users/{}/unthrottle", alice.id),
            &[("csrf_token", "forged")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.audit_count("login_throttle_cleared"), 0);
}

/// The real binary, alone in its process: its `/metrics` counts only its own password hashing.
struct Server {
    child: Child,
    port: u16,
    _db: TestDb,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_binary() -> Server {
    let db = TestDb::new();
    let mut child = authd_command()
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("AUTHD_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (port_tx, port_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("authd listening on http://127.0.0.1:").nth(1) {
                let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let _ = port_tx.send(port.parse::<u16>().unwrap());
            }
        }
    });
    let port = port_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("authd did not start");
    Server {
        child,
        port,
        _db: db,
    }
}

/// Password checks the server has started: the count of `authd_hash_wait_seconds`.
async fn hashes(client: &reqwest::Client, base: &str) -> f64 {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("authd_hash_wait_seconds_count "))
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

#[tokio::test]
async fn throttled_logins_cost_no_password_hashing() {
    let server = start_binary();
    let base = format!("http://127.0.0.1:{}", server.port);
    let client = reqwest::Client::new();
    let login = || async {
        client
            .post(format!("{base}/api/auth/login"))
            .header("x-forwarded-for", ATTACKER)
            .json(&json!({ "username": "alice", "password": WRONG }))
            .send()
            .await
            .unwrap()
    };
    let before = hashes(&client, &base).await;
    for _ in 0..5 {
        assert_eq!(login().await.status(), StatusCode::UNAUTHORIZED);
    }
    let after_failures = hashes(&client, &base).await;
    assert_eq!(after_failures - before, 5.0);
    for _ in 5..40 {
        assert_eq!(login().await.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    assert_eq!(hashes(&client, &base).await, after_failures);
}
