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
async fn an_rs256_token_verifies_with_the_published_key() {
    let app = spawn_app_with(&[("AUTHD_JWT_ALG", "RS256")]).await;
    verify_with_jwks(&app, Algorithm::RS256).await;
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

/// The Python of the venv `scripts/test` prepares (`AUTHD_TEST_PYTHON` overrides it).
fn tools_python() -> std::path::PathBuf {
    let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/target/tools-venv/bin/python");
    let python = std::env::var_os("AUTHD_TEST_PYTHON").map_or_else(|| venv.into(), Into::into);
    assert!(
        std::path::Path::new(&python).exists(),
        "no {python:?}: run scripts/test, or: python3 -m venv target/tools-venv && \
         target/tools-venv/bin/pip install -r tests/tools/requirements.txt"
    );
    python
}

/// Asks PyJWT whether `token` verifies against the app's JWKS (or `secret`); the claims if so.
async fn verified_by_pyjwt(app: &TestApp, token: &str, secret: Option<&str>) -> Option<Value> {
    use std::io::Write;
    let jwks: Value = app.get_jwks().await.json().await.unwrap();
    let request = serde_json::json!({
        "token": token, "jwks": jwks, "secret": secret, "issuer": "authd", "audience": "authd",
    });
    let mut child = std::process::Command::new(tools_python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/tools/verify_jwt.py"
        ))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).unwrap())
}

#[tokio::test]
async fn tokens_of_every_algorithm_verify_with_an_independent_implementation() {
    const SECRET: &str = "an-independent-check-of-hs256-tokens!!";
    for (alg, secret) in [
        ("EdDSA", None),
        ("ES256", None),
        ("RS256", None),
        ("HS256", Some(SECRET)),
    ] {
        let mut env = vec![("AUTHD_JWT_ALG", alg)];
        env.extend(secret.map(|s| ("AUTHD_JWT_SECRET", s)));
        let app = spawn_app_with(&env).await;
        let alice = app.signed_in_user("alice").await;
        let claims = verified_by_pyjwt(&app, &alice.access_token, secret)
            .await
            .unwrap_or_else(|| panic!("PyJWT refused our {alg} token"));
        assert_eq!(claims["username"], "alice", "{alg}");
        // The same check refuses a token whose payload was changed.
        let mut parts: Vec<String> = alice.access_token.split('.').map(str::to_owned).collect();
        parts[1] = parts[1].replace(&parts[1][..4], "eyJA");
        let forged = parts.join(".");
        assert!(
            verified_by_pyjwt(&app, &forged, secret).await.is_none(),
            "PyJWT accepted a forged {alg} token"
        );
    }
}
