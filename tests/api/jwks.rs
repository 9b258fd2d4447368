//! The JWK Set: another service verifies our tokens with it and nothing else.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, jwk::JwkSet};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

async fn verify_with_jwks(app: &TestApp, alg: Algorithm) {
    let alice = app.signed_in_user("alice").await;
    let res = app.get_jwks().await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("json")
    );
    let set: JwkSet = res.json().await.unwrap();
    let token = &alice.access_token;
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    let jwk = set.find(&kid).expect("the token's kid is published");
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = Validation::new(alg);
    validation.set_audience(&["authd"]);
    validation.set_issuer(&["authd"]);
    let claims = decode::<Value>(token, &key, &validation)
        .expect("verifies with the published key")
        .claims;
    assert_eq!(claims["username"], "alice");
}

#[tokio::test]
async fn an_eddsa_token_verifies_with_the_published_key() {
    let app = spawn_app().await;
    verify_with_jwks(&app, Algorithm::EdDSA).await;
}

#[tokio::test]
async fn an_es256_token_verifies_with_the_published_key() {
    let app = spawn_app_with(&[("AUTHD_JWT_ALG", "ES256")]).await;
    verify_with_jwks(&app, Algorithm::ES256).await;
}

#[tokio::test]
async fn hs256_publishes_no_key() {
    let app = spawn_app_with(&[
        ("AUTHD_JWT_ALG", "HS256"),
        ("AUTHD_JWT_SECRET", "0123456789abcdef0123456789abcdef!"),
    ])
    .await;
    let set: Value = app.get_jwks().await.json().await.unwrap();
    assert_eq!(set["keys"], serde_json::json!([]));
    assert!(!set.to_string().contains("0123456789"));
}
