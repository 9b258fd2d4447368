//! Signing keys: generated on first start, stored in `signing_keys`, loaded into a `KeyRing`.

use std::collections::HashMap;

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use diesel::prelude::*;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

use crate::config::{JwtAlg, Secret};
use crate::db::StoreError;
use crate::db::models::signing_key::{NewSigningKey, SigningKeyRow};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("could not generate a {0} key")]
    Generate(&'static str),
    #[error("stored key {0} cannot be used")]
    Corrupt(String),
    #[error("AUTHD_JWT_ALG={0} is not supported by this build yet")]
    Unsupported(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for KeyError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Store(e.into())
    }
}

/// The key that signs new tokens and every key that may still verify one, by `kid`.
pub struct KeyRing {
    pub algorithm: Algorithm,
    pub signing_kid: String,
    pub signing_key: EncodingKey,
    pub verifying: HashMap<String, DecodingKey>,
    /// The public half of every verifying key, as JWKs (RFC 7517); empty for HS256.
    pub public_jwks: Vec<serde_json::Value>,
}

/// A public key as a JWK: Ed25519 as OKP (RFC 8037), P-256 as EC with the uncompressed point split.
fn public_jwk(alg: JwtAlg, kid: &str, public_key: &[u8]) -> Option<serde_json::Value> {
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    match alg {
        JwtAlg::EdDSA => Some(serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "x": b64(public_key),
            "kid": kid, "alg": "EdDSA", "use": "sig",
        })),
        JwtAlg::Es256 if public_key.len() == 65 && public_key[0] == 4 => Some(serde_json::json!({
            "kty": "EC", "crv": "P-256", "x": b64(&public_key[1..33]), "y": b64(&public_key[33..]),
            "kid": kid, "alg": "ES256", "use": "sig",
        })),
        _ => None,
    }
}

impl KeyRing {
    pub fn decoding_key(&self, kid: &str) -> Option<&DecodingKey> {
        self.verifying.get(kid)
    }

    /// HS256: one shared secret; its `kid` is a short digest so a secret change is visible.
    pub fn from_secret(secret: &Secret) -> Self {
        let bytes = secret.expose().as_bytes();
        let kid = format!("hs256-{}", thumbprint(bytes));
        Self {
            algorithm: Algorithm::HS256,
            signing_kid: kid.clone(),
            signing_key: EncodingKey::from_secret(bytes),
            verifying: HashMap::from([(kid, DecodingKey::from_secret(bytes))]),
            public_jwks: Vec::new(),
        }
    }

    /// Loads the live keys of `alg`, generating and storing the first one if there is none.
    /// The table lock makes two instances starting together agree on one key.
    pub fn load_or_create(conn: &mut PgConnection, alg: JwtAlg) -> Result<Self, KeyError> {
        conn.transaction::<_, KeyError, _>(|conn| {
            diesel::sql_query("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")
                .execute(conn)
                .map_err(StoreError::from)?;
            let mut rows = SigningKeyRow::live(conn, alg.as_str()).map_err(StoreError::from)?;
            if rows.is_empty() {
                let (private_key, public_key) = generate(alg)?;
                let kid = thumbprint(&public_key);
                SigningKeyRow::insert(
                    conn,
                    &NewSigningKey {
                        kid: &kid,
                        alg: alg.as_str(),
                        public_key: &public_key,
                        private_key: &private_key,
                        activated_at: Some(Utc::now()),
                    },
                )
                .map_err(StoreError::from)?;
                log::info!(
                    "generated the first {} signing key, kid {kid}",
                    alg.as_str()
                );
                rows = SigningKeyRow::live(conn, alg.as_str()).map_err(StoreError::from)?;
            }
            Self::from_rows(alg, &rows)
        })
    }

    fn from_rows(alg: JwtAlg, rows: &[SigningKeyRow]) -> Result<Self, KeyError> {
        let newest = rows.first().ok_or(KeyError::Generate(alg.as_str()))?;
        let (algorithm, signing_key) = match alg {
            JwtAlg::EdDSA => (
                Algorithm::EdDSA,
                EncodingKey::from_ed_der(&newest.private_key),
            ),
            JwtAlg::Es256 => (
                Algorithm::ES256,
                EncodingKey::from_ec_der(&newest.private_key),
            ),
            JwtAlg::Rs256 | JwtAlg::Hs256 => return Err(KeyError::Unsupported(alg.as_str())),
        };
        let verifying = rows
            .iter()
            .map(|row| {
                let key = match alg {
                    JwtAlg::EdDSA => DecodingKey::from_ed_der(&row.public_key),
                    _ => DecodingKey::from_ec_der(&row.public_key),
                };
                (row.kid.clone(), key)
            })
            .collect();
        let public_jwks = rows
            .iter()
            .filter_map(|row| public_jwk(alg, &row.kid, &row.public_key))
            .collect();
        Ok(Self {
            algorithm,
            signing_kid: newest.kid.clone(),
            signing_key,
            verifying,
            public_jwks,
        })
    }
}

/// Returns (PKCS#8 private key, raw public key).
fn generate(alg: JwtAlg) -> Result<(Vec<u8>, Vec<u8>), KeyError> {
    let rng = SystemRandom::new();
    let fail = || KeyError::Generate(alg.as_str());
    match alg {
        JwtAlg::EdDSA => {
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| fail())?;
            let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| fail())?;
            Ok((pkcs8.as_ref().to_vec(), pair.public_key().as_ref().to_vec()))
        }
        JwtAlg::Es256 => {
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(|_| fail())?;
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
                .map_err(|_| fail())?;
            Ok((pkcs8.as_ref().to_vec(), pair.public_key().as_ref().to_vec()))
        }
        JwtAlg::Rs256 | JwtAlg::Hs256 => Err(KeyError::Unsupported(alg.as_str())),
    }
}

/// A short, stable identifier derived from key material.
fn thumbprint(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(&digest(&SHA256, bytes).as_ref()[..12])
}
