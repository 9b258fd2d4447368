//! Access-token validation: everything but a well-formed, correctly signed, current token of the
//! configured kind is refused with 401 and `WWW-Authenticate`.

use authd::auth::tokens::AccessClaims;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use diesel::prelude::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, spawn_app, spawn_app_with};

async fn assert_refused(app: &TestApp, token: &str) {
    let res = app.get_me(token).await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "token accepted: {token}"
    );
    assert_eq!(
        res.headers()["www-authenticate"],
        r#"Bearer realm="authd", error="invalid_token""#
    );
    assert_problem(res, 401, "invalid_token").await;
}

/// The app's own signing key, read from its database: lets a test sign tokens the app would
/// accept, then break exactly one property.
fn app_key(app: &TestApp) -> (String, EncodingKey) {
    use authd::db::schema::signing_keys;
    let (kid, private_key): (String, Vec<u8>) = signing_keys::table
        .select((signing_keys::kid, signing_keys::private_key))
        .first(&mut app.db.connect())
        .unwrap();
    (kid, EncodingKey::from_ed_der(&private_key))
}

/// The claims of an access token, read without checking anything.
fn claims_of(token: &str) -> AccessClaims {
    let payload = URL_SAFE_NO_PAD
        .decode(token.split('.').nth(1).unwrap())
        .unwrap();
    serde_json::from_slice(&payload).unwrap()
}

fn sign(kid: &str, key: &EncodingKey, typ: &str, claims: &impl serde::Serialize) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some(typ.into());
    header.kid = Some(kid.into());
    encode(&header, claims, key).unwrap()
}

#[tokio::test]
async fn me_without_a_token_is_401_with_www_authenticate() {
    let app = spawn_app().await;
    let res = app.get("/api/auth/me").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.headers()["www-authenticate"],
        r#"Bearer realm="authd", error="invalid_token""#
    );
    assert_problem(res, 401, "invalid_token").await;
}

#[tokio::test]
async fn a_token_signed_by_the_test_signer_is_accepted() {
    // Guards the tests below: the forging helper itself produces acceptable tokens.
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    let (kid, key) = app_key(&app);
    let token = sign(&kid, &key, "at+jwt", &claims_of(&alice.access_token));
    assert_eq!(app.me_status(&token).await, StatusCode::OK);
}

#[tokio::test]
async fn malformed_and_tampered_tokens_are_refused() {
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    let parts: Vec<&str> = alice.access_token.split('.').collect();

    for garbage in [
        "abc",
        "a.b.c",
        "....",
        &format!("{}.{}", parts[0], parts[1]),
    ] {
        assert_refused(&app, garbage).await;
    }
    // Claims changed (roles: admin) under the original signature.
    let mut claims = claims_of(&alice.access_token);
    claims.roles = vec!["admin".into()];
    let forged_body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    assert_refused(&app, &format!("{}.{forged_body}.{}", parts[0], parts[2])).await;
    // The signature of another token.
    let other = alice.another_session(&app).await;
    let other_sig = other.access_token.split('.').nth(2).unwrap().to_owned();
    assert_ne!(other_sig, parts[2]);
    assert_refused(&app, &format!("{}.{}.{other_sig}", parts[0], parts[1])).await;
}

#[tokio::test]
async fn tokens_of_other_algorithms_and_keys_are_refused() {
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    let claims = claims_of(&alice.access_token);
    let (kid, _) = app_key(&app);

    // alg "none", unsigned.
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let none = format!(
        "{}.{}.",
        b64(&json!({ "alg": "none", "typ": "at+jwt", "kid": kid })),
        b64(&serde_json::to_value(&claims).unwrap())
    );
    assert_refused(&app, &none).await;

    // HS256 keyed with public material (algorithm confusion).
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(kid.clone());
    let hs = encode(&header, &claims, &EncodingKey::from_secret(kid.as_bytes())).unwrap();
    assert_refused(&app, &hs).await;

    // A different Ed25519 key under the right kid, and under an unknown one.
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 = aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let stranger = EncodingKey::from_ed_der(pkcs8.as_ref());
    assert_refused(&app, &sign(&kid, &stranger, "at+jwt", &claims)).await;
    assert_refused(&app, &sign("someone-else", &stranger, "at+jwt", &claims)).await;
}

#[tokio::test]
async fn claim_checks_are_strict() {
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    let good = claims_of(&alice.access_token);
    let (kid, key) = app_key(&app);
    let now = Utc::now().timestamp();

    for typ in ["JWT", "refresh+jwt"] {
        assert_refused(&app, &sign(&kid, &key, typ, &good)).await;
    }
    let mut no_typ = Header::new(Algorithm::EdDSA);
    no_typ.typ = None;
    no_typ.kid = Some(kid.clone());
    assert_refused(&app, &encode(&no_typ, &good, &key).unwrap()).await;

    let variants: Vec<(&str, AccessClaims)> = vec![
        (
            "expired beyond the leeway",
            AccessClaims {
                exp: now - 60,
                iat: now - 1000,
                nbf: now - 1000,
                ..good.clone()
            },
        ),
        (
            "not yet valid",
            AccessClaims {
                nbf: now + 120,
                ..good.clone()
            },
        ),
        (
            "wrong issuer",
            AccessClaims {
                iss: "someone-else".into(),
                ..good.clone()
            },
        ),
        (
            "wrong audience",
            AccessClaims {
                aud: "another-service".into(),
                ..good.clone()
            },
        ),
    ];
    for (label, claims) in variants {
        let res = app.get_me(&sign(&kid, &key, "at+jwt", &claims)).await;
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "{label} was accepted"
        );
    }

    for claim in ["exp", "nbf", "iat", "iss", "aud", "sub", "sid", "jti"] {
        let mut value = serde_json::to_value(&good).unwrap();
        value.as_object_mut().unwrap().remove(claim);
        let res = app.get_me(&sign(&kid, &key, "at+jwt", &value)).await;
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "a token without {claim} was accepted"
        );
    }

    // Within the 5 s leeway a just-expired token still passes: the documented tolerance.
    let within = AccessClaims {
        exp: now - 2,
        ..good.clone()
    };
    assert_eq!(
        app.get_me(&sign(&kid, &key, "at+jwt", &within))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn tokens_are_read_from_the_authorization_header_only() {
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    let token = &alice.access_token;
    let res = app.get(&format!("/api/auth/me?access_token={token}")).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let with_scheme = |scheme: &str| {
        app.client
            .get(app.url("/api/auth/me"))
            .header("authorization", format!("{scheme} {token}"))
            .send()
    };
    assert_eq!(
        with_scheme("Basic").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    // The scheme name is case-insensitive (RFC 9110).
    assert_eq!(
        with_scheme("bearer").await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_refresh_token_is_not_an_access_token() {
    let app = spawn_app().await;
    let alice = app.signed_in_user("alice").await;
    assert_refused(&app, &alice.refresh_token).await;
}

#[tokio::test]
async fn hs256_mode_issues_and_verifies_hs256_tokens() {
    let secret = "0123456789abcdef0123456789abcdef-test";
    let app = spawn_app_with(&[("AUTHD_JWT_ALG", "HS256"), ("AUTHD_JWT_SECRET", secret)]).await;
    let alice = app.signed_in_user("alice").await;
    let header = jsonwebtoken::decode_header(&alice.access_token).unwrap();
    assert_eq!(header.alg, Algorithm::HS256);
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(app.me_status(&alice.access_token).await, StatusCode::OK);

    let mut forged = Header::new(Algorithm::HS256);
    forged.typ = Some("at+jwt".into());
    forged.kid = header.kid.clone();
    let other_key = EncodingKey::from_secret(b"another secret of at least 32 bytes");
    assert_refused(
        &app,
        &encode(&forged, &claims_of(&alice.access_token), &other_key).unwrap(),
    )
    .await;
}

#[tokio::test]
async fn es256_mode_generates_a_p256_key() {
    let app = spawn_app_with(&[("AUTHD_JWT_ALG", "ES256")]).await;
    let alice = app.signed_in_user("alice").await;
    assert_eq!(
        jsonwebtoken::decode_header(&alice.access_token)
            .unwrap()
            .alg,
        Algorithm::ES256
    );
    assert_eq!(app.me_status(&alice.access_token).await, StatusCode::OK);
}

#[tokio::test]
async fn issuer_and_audience_come_from_configuration() {
    let app = spawn_app_with(&[
        ("AUTHD_ISSUER", "https://auth.example.org"),
        ("AUTHD_AUDIENCE", "api.example.org"),
    ])
    .await;
    let alice = app.signed_in_user("alice").await;
    let claims = claims_of(&alice.access_token);
    assert_eq!(claims.iss, "https://auth.example.org");
    assert_eq!(claims.aud, "api.example.org");
    assert_eq!(app.me_status(&alice.access_token).await, StatusCode::OK);
}

#[tokio::test]
async fn the_signing_key_survives_a_restart() {
    let first = spawn_app().await;
    let alice = first.signed_in_user("alice").await;
    let second = first.second_instance().await;
    let res = second.get_me(&alice.access_token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let keys: i64 = authd::db::schema::signing_keys::table
        .count()
        .get_result(&mut first.db.connect())
        .unwrap();
    assert_eq!(keys, 1);
}
