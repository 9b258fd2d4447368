use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{PASSWORD, spawn_app};

#[tokio::test]
async fn register_login_me_round_trip() {
    let app = spawn_app().await;
    let res = app.register("Alice", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let user: Value = res.json().await.unwrap();
    assert_eq!(user["username"], "Alice");
    assert_eq!(user["roles"], serde_json::json!(["user"]));

    let pair = app.user_with_tokens("bob").await;
    let res = app.me(pair["access_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["username"], "bob");
}
