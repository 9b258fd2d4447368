//! `authd demo-seed`: a demo organisation in an empty database, never in one with real accounts.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{ADMIN, PASSWORD, TestApp, assert_problem, spawn_admin_app, spawn_app};

/// The administrator and password that `authd demo-seed` printed.
struct Demo {
    admin: String,
    password: String,
}

async fn seed(app: &TestApp) -> Demo {
    let out = app.cli_ok(&["demo-seed"], &[]).await;
    let line = |key: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key:?} line in: {out}"))
            .to_owned()
    };
    Demo {
        admin: line("admin: "),
        password: line("password: "),
    }
}

async fn token_of(app: &TestApp, username: &str, password: &str) -> String {
    let res = app.login(username, password).await;
    assert_eq!(res.status(), StatusCode::OK, "login of {username}");
    let pair: Value = res.json().await.unwrap();
    pair["access_token"].as_str().unwrap().to_owned()
}

fn users_in_database(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    diesel::sql_query("SELECT count(*) AS n FROM users")
        .get_result::<crate::helpers::Count>(&mut app.db.connect())
        .unwrap()
        .n
}

#[tokio::test]
async fn demo_seed_fills_an_empty_database_whose_administrator_can_sign_in() {
    let app = spawn_app().await;
    let demo = seed(&app).await;
    assert!(demo.password.len() >= 20, "a generated password");

    let token = token_of(&app, &demo.admin, &demo.password).await;
    let res = app.get_admin_users(&token, "per_page=100").await;
    assert_eq!(res.status(), StatusCode::OK);
    let page: Value = res.json().await.unwrap();
    let total = page["total"].as_i64().unwrap();
    assert!((25..=40).contains(&total), "{total} users");
    for user in page["users"].as_array().unwrap() {
        if let Some(email) = user["email"].as_str() {
            assert!(email.ends_with("@example.org"), "{email}");
        }
    }

    let roles: Value = app.get_admin_roles(&token).await.json().await.unwrap();
    let names: Vec<&str> = roles
        .as_array()
        .or_else(|| roles["roles"].as_array())
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    for role in ["admin", "auditor", "billing", "support", "user"] {
        assert!(names.contains(&role), "{names:?}");
    }

    // Every demo account has the printed password; the disabled ones stay shut.
    token_of(&app, "praman", &demo.password).await;
    assert_problem(
        app.login("ebrown", &demo.password).await,
        403,
        "account_disabled",
    )
    .await;

    // Two weeks of history.
    assert!(app.audit_count("login_succeeded") > 100);
    assert!(app.audit_count("login_failed") > 10);
    for event in ["roles_changed", "sessions_revoked", "user_disabled"] {
        assert!(app.audit_count(event) > 0, "{event}");
    }
}

#[tokio::test]
async fn demo_seed_leaves_administrators_alone_and_runs_only_once() {
    let app = spawn_admin_app().await;
    let demo = seed(&app).await;
    token_of(&app, ADMIN, PASSWORD).await;
    token_of(&app, &demo.admin, &demo.password).await;

    let before = users_in_database(&app);
    let out = app.run_cli(&["demo-seed"], &[], "").await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing"), "{err}");
    assert_eq!(users_in_database(&app), before);
}

#[tokio::test]
async fn demo_seed_refuses_a_database_with_accounts_that_are_not_administrators() {
    let app = spawn_admin_app().await;
    app.signed_in_user("alice").await;
    let out = app.run_cli(&["demo-seed"], &[], "").await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing") && err.contains("not administrators"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "no password printed");
    assert_eq!(users_in_database(&app), 2, "nothing was added");
    assert_eq!(app.audit_count("login_failed"), 0);
}
