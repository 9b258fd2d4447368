//! Housekeeping (`authd purge`, and the job `serve` runs): what expired more than a day ago and
//! audit events past their retention go; everything else stays, and the service works on.

use std::process::Stdio;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid as SqlUuid};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Count, TestApp, authd_command, spawn_app_with};

/// The automatic job off, so that only the command under test deletes anything.
async fn app_without_the_periodic_purge() -> TestApp {
    spawn_app_with(&[("AUTHD_PURGE_INTERVAL", "0")]).await
}

fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
}

/// A session of `user_id` that expired `expired` ago (an SQL interval; negative: in the future),
/// with `tokens` refresh tokens; returns its id.
fn old_session(conn: &mut PgConnection, user_id: &str, expired: &str, tokens: i64) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    diesel::sql_query(
        "INSERT INTO sessions (id, user_id, kind, created_at, last_used_at, expires_at) \
         VALUES ($1, $2, 'api', now() - interval '40 days', now() - interval '40 days', \
                 now() - $3::interval)",
    )
    .bind::<SqlUuid, _>(uuid::Uuid::parse_str(&id).unwrap())
    .bind::<SqlUuid, _>(uuid::Uuid::parse_str(user_id).unwrap())
    .bind::<Text, _>(expired)
    .execute(conn)
    .unwrap();
    diesel::sql_query(
        "INSERT INTO refresh_tokens (id, session_id, token_hash, rotated_at, expires_at) \
         SELECT gen_random_uuid(), s.id, uuid_send(gen_random_uuid()), now() - interval '39 days', \
                s.expires_at \
         FROM sessions s, generate_series(1, $2) WHERE s.id = $1",
    )
    .bind::<SqlUuid, _>(uuid::Uuid::parse_str(&id).unwrap())
    .bind::<diesel::sql_types::BigInt, _>(tokens)
    .execute(conn)
    .unwrap();
    id
}

fn audit_event_aged(conn: &mut PgConnection, event: &str, age: &str) {
    diesel::sql_query(
        "INSERT INTO audit_events (at, event, detail) VALUES (now() - $2::interval, $1, '{}')",
    )
    .bind::<Text, _>(event)
    .bind::<Text, _>(age)
    .execute(conn)
    .unwrap();
}

fn sessions_with_id(conn: &mut PgConnection, id: &str) -> i64 {
    count(
        conn,
        &format!("SELECT count(*) AS n FROM sessions WHERE id = '{id}'"),
    )
}

#[tokio::test]
async fn purge_removes_what_expired_over_a_day_ago_and_old_audit_events_only() {
    let app = app_without_the_periodic_purge().await;
    let alice = app.signed_in_user("alice").await;
    let mut conn = app.db.connect();
    // A long-lived session refreshed thousands of times: more tokens than one batch deletes.
    let long_gone = old_session(&mut conn, &alice.id, "2 days", 2_500);
    let just_expired = old_session(&mut conn, &alice.id, "1 hour", 1);
    let live = old_session(&mut conn, &alice.id, "-5 days", 1);
    audit_event_aged(&mut conn, "test_ancient", "100 days");
    audit_event_aged(&mut conn, "test_ancient", "91 days");
    audit_event_aged(&mut conn, "test_old", "80 days");
    let tokens_before = count(&mut conn, "SELECT count(*) AS n FROM refresh_tokens");

    let out = app.cli_ok(&["purge"], &[]).await;
    assert!(out.contains("removed 2500 expired refresh tokens"), "{out}");
    assert!(out.contains("removed 1 expired sessions"), "{out}");
    assert!(
        out.contains("removed 2 audit events older than 90 days"),
        "{out}"
    );

    assert_eq!(sessions_with_id(&mut conn, &long_gone), 0);
    assert_eq!(sessions_with_id(&mut conn, &just_expired), 1);
    assert_eq!(sessions_with_id(&mut conn, &live), 1);
    assert_eq!(
        count(&mut conn, "SELECT count(*) AS n FROM refresh_tokens"),
        tokens_before - 2_500
    );
    assert_eq!(app.audit_count("test_ancient"), 0);
    assert_eq!(app.audit_count("test_old"), 1);
    assert!(app.audit_count("registered") >= 1 && app.audit_count("login_succeeded") >= 1);

    // The service works on: the listing, a refresh, the token.
    let res = app.get_sessions(&alice.access_token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let listed: Value = res.json().await.unwrap();
    let ids: Vec<&str> = listed["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&alice.session_id.as_str()) && ids.contains(&live.as_str()));
    assert!(!ids.contains(&long_gone.as_str()));
    let rotated = app.refreshed(&alice.refresh_token).await;
    assert_eq!(app.me_status(&rotated.access_token).await, StatusCode::OK);

    // Nothing left to do; a shorter retention takes more.
    let again = app.cli_ok(&["purge"], &[]).await;
    assert!(
        again.contains("removed 0 expired refresh tokens"),
        "{again}"
    );
    assert!(again.contains("removed 0 expired sessions"), "{again}");
    let shorter = app
        .cli_ok(&["purge"], &[("AUTHD_AUDIT_RETENTION_DAYS", "30")])
        .await;
    assert!(
        shorter.contains("removed 1 audit events older than 30 days"),
        "{shorter}"
    );
    assert_eq!(app.audit_count("test_old"), 0);
}

#[tokio::test]
async fn the_server_purges_at_start() {
    let app = app_without_the_periodic_purge().await;
    let alice = app.signed_in_user("alice").await;
    let mut conn = app.db.connect();
    let long_gone = old_session(&mut conn, &alice.id, "3 days", 3);
    audit_event_aged(&mut conn, "test_ancient", "200 days");

    let _second = app.second_instance().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while sessions_with_id(&mut conn, &long_gone) > 0 || app.audit_count("test_ancient") > 0 {
        assert!(Instant::now() < deadline, "the start-up purge did not run");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.me_status(&alice.access_token).await, StatusCode::OK);
}

#[tokio::test]
async fn a_purge_waits_while_another_instance_holds_the_lock() {
    let app = app_without_the_periodic_purge().await;
    let mut holder = app.db.connect();
    diesel::sql_query(format!(
        "SELECT pg_advisory_lock({})",
        authd::services::housekeeping::LOCK_KEY
    ))
    .execute(&mut holder)
    .unwrap();
    let mut purge = authd_command()
        .arg("purge")
        .env("DATABASE_URL", app.db.url())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // It gets as far as asking for the lock, and waits there.
    let deadline = Instant::now() + Duration::from_secs(20);
    while count(
        &mut holder,
        "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    ) == 0
    {
        assert!(
            purge.try_wait().unwrap().is_none(),
            "the purge ran while another held the lock"
        );
        assert!(
            Instant::now() < deadline,
            "the purge never asked for the lock"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(purge.try_wait().unwrap().is_none());
    drop(holder);
    let out = tokio::task::spawn_blocking(move || purge.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(out.status.success());
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(out.contains("removed 0 expired sessions"), "{out}");
}
