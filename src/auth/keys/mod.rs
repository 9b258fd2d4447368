//! The key ring: the key that signs new access tokens and every key that may still verify one.
//! Built from stored keys (EdDSA, ES256, RS256) or from shared secrets (HS256); the rules of
//! which keys are live live in `services::keys`.

mod generate;
mod sealing;

use std::collections::HashMap;

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

pub use generate::generate;
pub use sealing::{KeyEncryptionKey, SCHEME as SEALING_SCHEME, SealError};

use crate::config::{JwtAlg, Secret};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("could not generate a {0} key")]
    Generate(&'static str),
    #[error("stored key {0} cannot be used")]
    Corrupt(String),
    #[error("AUTHD_JWT_ALG={0} keys are not stored in the database")]
    Unsupported(&'static str),
    #[error("no signing key")]
    NoSigningKey,
}

/// A stored key as the ring needs it: the private half only for the key that signs.
pub struct KeyMaterial {
    pub kid: String,
    pub public_key: Vec<u8>,
    pub private_pkcs8: Option<Vec<u8>>,
}

pub struct KeyRing {
    pub algorithm: Algorithm,
    signing_kid: String,
    signing_key: EncodingKey,
    /// Asymmetric keys by `kid`.
    verifying: HashMap<String, DecodingKey>,
    /// HS256: the current secret and, during a change, the previous one, tried in turn.
    shared: Vec<DecodingKey>,
    /// The public half of every verifying key, as JWKs (RFC 7517); empty for HS256.
    public_jwks: Vec<serde_json::Value>,
    /// What the ring was built from, so an unchanged set of keys is not rebuilt.
    version: String,
}

/// A public key as a JWK: Ed25519 as OKP (RFC 8037), P-256 as EC with the uncompressed point
/// split, RSA as its modulus and exponent.
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
        JwtAlg::Rs256 => {
            let (n, e) = rsa_components(public_key)?;
            Some(serde_json::json!({
                "kty": "RSA", "n": b64(&n), "e": b64(&e),
                "kid": kid, "alg": "RS256", "use": "sig",
            }))
        }
        _ => None,
    }
}

/// (modulus, exponent), big-endian, of an RSA public key in SubjectPublicKeyInfo DER.
fn rsa_components(spki: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let key = aws_lc_rs::rsa::PublicKey::from_der(spki).ok()?;
    Some((
        key.modulus().big_endian_without_leading_zero().to_vec(),
        key.exponent().big_endian_without_leading_zero().to_vec(),
    ))
}

fn decoding_key(alg: JwtAlg, kid: &str, public_key: &[u8]) -> Result<DecodingKey, KeyError> {
    match alg {
        JwtAlg::EdDSA => Ok(DecodingKey::from_ed_der(public_key)),
        JwtAlg::Es256 => Ok(DecodingKey::from_ec_der(public_key)),
        JwtAlg::Rs256 => {
            let (n, e) = rsa_components(public_key).ok_or(KeyError::Corrupt(kid.to_owned()))?;
            Ok(DecodingKey::from_rsa_raw_components(&n, &e))
        }
        JwtAlg::Hs256 => Err(KeyError::Unsupported(alg.as_str())),
    }
}

fn encoding_key(alg: JwtAlg, kid: &str, pkcs8: &[u8]) -> Result<EncodingKey, KeyError> {
    match alg {
        JwtAlg::EdDSA => Ok(EncodingKey::from_ed_der(pkcs8)),
        JwtAlg::Es256 => Ok(EncodingKey::from_ec_der(pkcs8)),
        // jsonwebtoken reads RSA private keys as PKCS#1 DER, or PKCS#8 inside PEM.
        JwtAlg::Rs256 => {
            let pem = format!(
                "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
                STANDARD.encode(pkcs8)
            );
            EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| KeyError::Corrupt(kid.to_owned()))
        }
        JwtAlg::Hs256 => Err(KeyError::Unsupported(alg.as_str())),
    }
}

fn algorithm(alg: JwtAlg) -> Algorithm {
    match alg {
        JwtAlg::EdDSA => Algorithm::EdDSA,
        JwtAlg::Es256 => Algorithm::ES256,
        JwtAlg::Rs256 => Algorithm::RS256,
        JwtAlg::Hs256 => Algorithm::HS256,
    }
}

impl KeyRing {
    /// The `kid` that HS256 tokens carry. Deliberately not derived from the secret: anything
    /// computed from it would let someone test guesses of the secret offline.
    pub const SHARED_SECRET_KID: &'static str = "hs256";

    /// HS256: the current secret signs; it and the previous one (during a change) verify.
    pub fn from_secrets(current: &Secret, previous: Option<&Secret>) -> Self {
        let shared = std::iter::once(current)
            .chain(previous)
            .map(|s| DecodingKey::from_secret(s.expose().as_bytes()))
            .collect();
        Self {
            algorithm: Algorithm::HS256,
            signing_kid: Self::SHARED_SECRET_KID.to_owned(),
            signing_key: EncodingKey::from_secret(current.expose().as_bytes()),
            verifying: HashMap::new(),
            shared,
            public_jwks: Vec::new(),
            version: String::new(),
        }
    }

    /// Stored keys: `signing` (with its private half) signs; it and every key in `others`
    /// verify and are published.
    pub fn from_keys(
        alg: JwtAlg,
        signing: &KeyMaterial,
        others: &[KeyMaterial],
    ) -> Result<Self, KeyError> {
        let private = signing
            .private_pkcs8
            .as_deref()
            .ok_or(KeyError::NoSigningKey)?;
        let signing_key = encoding_key(alg, &signing.kid, private)?;
        let all = || std::iter::once(signing).chain(others);
        let verifying = all()
            .map(|k| Ok((k.kid.clone(), decoding_key(alg, &k.kid, &k.public_key)?)))
            .collect::<Result<_, KeyError>>()?;
        let public_jwks = all()
            .filter_map(|k| public_jwk(alg, &k.kid, &k.public_key))
            .collect();
        Ok(Self {
            algorithm: algorithm(alg),
            signing_kid: signing.kid.clone(),
            signing_key,
            verifying,
            shared: Vec::new(),
            public_jwks,
            version: String::new(),
        })
    }

    /// Marks what the ring was built from (see `version`).
    pub fn with_version(mut self, version: String) -> Self {
        self.version = version;
        self
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn signing_kid(&self) -> &str {
        &self.signing_kid
    }

    pub fn signing_key(&self) -> &EncodingKey {
        &self.signing_key
    }

    /// The keys to try for a token that names `kid`: the one with that kid, or for HS256 every
    /// shared secret (the kid says nothing about them). Empty for an unknown kid.
    pub fn candidates(&self, kid: Option<&str>) -> Vec<&DecodingKey> {
        if self.algorithm == Algorithm::HS256 {
            return self.shared.iter().collect();
        }
        kid.and_then(|k| self.verifying.get(k))
            .into_iter()
            .collect()
    }

    pub fn public_jwks(&self) -> &[serde_json::Value] {
        &self.public_jwks
    }
}

/// A short, stable identifier derived from public key material.
pub fn thumbprint(public_key: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(&digest(&SHA256, public_key).as_ref()[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(alg: JwtAlg) -> KeyRing {
        let (private, public) = generate(alg).unwrap();
        let signing = KeyMaterial {
            kid: thumbprint(&public),
            public_key: public,
            private_pkcs8: Some(private),
        };
        KeyRing::from_keys(alg, &signing, &[]).unwrap()
    }

    #[test]
    fn every_stored_algorithm_signs_and_verifies() {
        for alg in [JwtAlg::EdDSA, JwtAlg::Es256, JwtAlg::Rs256] {
            let ring = ring(alg);
            let header = jsonwebtoken::Header::new(ring.algorithm);
            let claims = serde_json::json!({ "sub": "x", "exp": 4_000_000_000u64 });
            let token = jsonwebtoken::encode(&header, &claims, ring.signing_key()).unwrap();
            let key = ring.candidates(Some(ring.signing_kid()))[0];
            let mut validation = jsonwebtoken::Validation::new(ring.algorithm);
            validation.validate_aud = false;
            jsonwebtoken::decode::<serde_json::Value>(&token, key, &validation).unwrap();
            assert_eq!(ring.public_jwks().len(), 1, "{alg:?}");
            assert_eq!(ring.public_jwks()[0]["alg"], alg.as_str());
        }
    }

    #[test]
    fn hs256_kids_say_nothing_about_the_secret_and_both_secrets_verify() {
        let (a, b) = (Secret::new("a".repeat(32)), Secret::new("b".repeat(32)));
        let ring = KeyRing::from_secrets(&a, Some(&b));
        assert_eq!(ring.signing_kid(), KeyRing::SHARED_SECRET_KID);
        assert_eq!(ring.candidates(Some("anything")).len(), 2);
        assert!(ring.public_jwks().is_empty());
    }
}
