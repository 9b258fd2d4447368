//! `AUTHD_BOOTSTRAP_ADMIN`: the first administrator, created on first start only.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{PASSWORD, TokenPair, spawn_app_with};

#[tokio::test]
async fn the_bootstrap_admin_is_created_once() {
    let app = spawn_app_with(&[("AUTHD_BOOTSTRAP_ADMIN", &format!("root:{PASSWORD}"))]).await;
    let res = app.login("root", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let root: TokenPair = res.json().await.unwrap();
    let me: Value = app.get_me(&root.access_token).await.json().await.unwrap();
    assert_eq!(me["roles"], serde_json::json!(["admin", "user"]));

    // Restarted with another bootstrap value: an admin exists, so nothing is created.
    let again = app
        .second_instance_with(&[("AUTHD_BOOTSTRAP_ADMIN", &format!("second:{PASSWORD}"))])
        .await;
    assert_eq!(
        again.login("second", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.audit_count("admin_bootstrapped"), 1);
}
