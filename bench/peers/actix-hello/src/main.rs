//! actix-hello: the ceiling authd is measured against.
//!
//! `GET /json`   -> a small JSON object (the plain actix-web figure)
//! `GET /verify` -> 200 with an empty body if `Authorization: Bearer <jwt>` is a valid EdDSA JWT
//!                  signed by the key generated at start (401 otherwise)
//! `GET /token`  -> a fresh token signed by that key (also printed once on stdout at start)
//!
//! Listens on HELLO_BIND (default 127.0.0.1:8090); workers: actix's default (one per core).

use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, get, http::header, web};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    username: String,
    roles: Vec<String>,
    sid: String,
    jti: String,
    iat: u64,
    exp: u64,
}

struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn token(keys: &Keys) -> String {
    let iat = now();
    let claims = Claims {
        iss: "hello".into(),
        aud: "hello".into(),
        sub: "0193a3c2-0000-7000-8000-000000000001".into(),
        username: "bench".into(),
        roles: vec!["user".into()],
        sid: "0193a3c2-0000-7000-8000-000000000002".into(),
        jti: "0193a3c2-0000-7000-8000-000000000003".into(),
        iat,
        exp: iat + 3600,
    };
    encode(&Header::new(Algorithm::EdDSA), &claims, &keys.encoding).expect("sign")
}

#[get("/json")]
async fn json() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "message": "Hello, World!" }))
}

#[get("/token")]
async fn token_route(keys: web::Data<Keys>) -> HttpResponse {
    HttpResponse::Ok().body(token(&keys))
}

#[get("/verify")]
async fn verify(req: HttpRequest, keys: web::Data<Keys>) -> HttpResponse {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    match bearer.map(|t| decode::<Claims>(t, &keys.decoding, &keys.validation)) {
        Some(Ok(_)) => HttpResponse::Ok().finish(),
        _ => HttpResponse::Unauthorized().finish(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::var("HELLO_BIND").unwrap_or_else(|_| "127.0.0.1:8090".into());
    let rng = SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("generate key");
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("parse key");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&["hello"]);
    validation.set_audience(&["hello"]);
    let keys = web::Data::new(Keys {
        encoding: EncodingKey::from_ed_der(pkcs8.as_ref()),
        decoding: DecodingKey::from_ed_der(pair.public_key().as_ref()),
        validation,
    });
    println!("{}", token(&keys));
    HttpServer::new(move || {
        App::new()
            .app_data(keys.clone())
            .service(json)
            .service(token_route)
            .service(verify)
    })
    .bind(bind)?
    .run()
    .await
}
