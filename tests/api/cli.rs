//! The binary itself: help, configuration errors, create-admin.

use crate::helpers::{PASSWORD, authd_command as authd, spawn_app};

#[test]
fn help_lists_every_command() {
    let out = authd().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for command in ["serve", "migrate", "create-admin", "keys", "purge"] {
        assert!(text.contains(command), "--help does not mention {command}");
    }
}

#[test]
fn an_invalid_setting_stops_start_up_with_one_line_naming_it() {
    let out = authd()
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("AUTHD_JWT_ALG", "HS256")
        .env("AUTHD_JWT_SECRET", "too-short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("AUTHD_JWT_SECRET"), "{err}");
    assert!(!err.contains("too-short"), "the secret was printed: {err}");
}

#[test]
fn a_missing_database_url_is_named() {
    let out = authd().arg("migrate").output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("DATABASE_URL")
    );
}

/// Runs `authd ARGS` against the app's database with `stdin` as its input; returns stdout,
/// asserting success.
async fn run_authd(app: &crate::helpers::TestApp, args: &[&str], stdin: &str) -> String {
    let out = app.run_cli(args, &[], stdin).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn create_admin_reads_the_password_from_stdin() {
    let app = spawn_app().await;
    run_authd(
        &app,
        &["create-admin", "operator"],
        &format!("{PASSWORD}\n"),
    )
    .await;
    let operator = app.log_in_as("operator").await;
    let me: serde_json::Value = app
        .get_me(&operator.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["roles"], serde_json::json!(["admin", "user"]));
}

#[tokio::test]
async fn create_admin_can_generate_a_password_it_prints_once_and_that_works() {
    let app = spawn_app().await;
    let out = run_authd(
        &app,
        &["create-admin", "operator", "--generate-password"],
        "",
    )
    .await;
    let password = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap_or_else(|| panic!("no password printed: {out}"));
    assert!(password.chars().count() >= 20, "{password}");
    let res = app.login("operator", password).await;
    assert_eq!(res.status(), reqwest::StatusCode::OK);
}

#[tokio::test]
async fn create_admin_if_none_does_nothing_once_an_administrator_exists() {
    let app = spawn_app().await;
    let first = run_authd(
        &app,
        &["create-admin", "first", "--if-none", "--generate-password"],
        "",
    )
    .await;
    assert!(first.contains("created administrator first"), "{first}");
    let second = run_authd(
        &app,
        &["create-admin", "second", "--if-none", "--generate-password"],
        "",
    )
    .await;
    assert!(!second.contains("password:"), "{second}");
    let res = app.login("second", PASSWORD).await;
    assert_eq!(res.status(), reqwest::StatusCode::UNAUTHORIZED);
    let admins: i64 = diesel::RunQueryDsl::get_result::<crate::helpers::Count>(
        diesel::sql_query(
            "SELECT count(*) AS n FROM user_roles ur JOIN roles r ON r.id = ur.role_id \
             WHERE r.name = 'admin'",
        ),
        &mut app.db.connect(),
    )
    .unwrap()
    .n;
    assert_eq!(admins, 1);
}

#[test]
fn keys_help_explains_each_subcommand() {
    let out = authd().args(["keys", "--help"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for sub in ["list", "rotate", "retire", "encrypt"] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(sub)),
            "keys --help does not explain {sub}: {text}"
        );
    }
    let rotate = authd().args(["keys", "rotate", "--help"]).output().unwrap();
    assert!(
        String::from_utf8(rotate.stdout)
            .unwrap()
            .contains("--publish-ahead")
    );
}
