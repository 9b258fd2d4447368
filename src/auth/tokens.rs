//! Access tokens (JWS, `typ: at+jwt`) and opaque refresh tokens.

use std::sync::{Arc, RwLock};

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jsonwebtoken::{Header, Validation, decode, decode_header, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::keys::KeyRing;
use super::token_cache::TokenCache;

pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// Clock skew tolerated on `exp`/`nbf`; the contract allows at most 30 s.
pub const LEEWAY_SECS: u64 = 5;
/// Verified tokens remembered at most; ~1 KiB each.
pub const CACHE_CAPACITY: usize = 20_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: Uuid,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: Uuid,
    pub sid: Uuid,
    pub roles: Vec<String>,
    pub username: String,
}

/// Why a token was refused; shown in `detail`, so it says nothing a forger could use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    Malformed,
    UnknownKey,
    WrongType,
    Invalid,
    Expired,
}

impl TokenRejection {
    pub fn reason(self) -> &'static str {
        match self {
            Self::Malformed => "malformed token",
            Self::UnknownKey => "unknown signing key",
            Self::WrongType => "not an access token",
            Self::Invalid => "signature or claims invalid",
            Self::Expired => "token expired",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("could not sign a token: {0}")]
pub struct SignError(String);

impl SignError {
    pub fn from_message(message: String) -> Self {
        Self(message)
    }
}

pub struct TokenService {
    keys: RwLock<Arc<KeyRing>>,
    cache: TokenCache,
    validation: Validation,
    issuer: String,
    audience: String,
    access_ttl_secs: i64,
}

pub struct IssuedAccessToken {
    pub token: String,
    pub expires_in: i64,
}

impl TokenService {
    pub fn new(keys: KeyRing, issuer: String, audience: String, access_ttl_secs: i64) -> Self {
        // jsonwebtoken's defaults are too lax (60 s leeway, nbf unchecked, iss/aud optional): pin
        // every check the contract names.
        let mut validation = Validation::new(keys.algorithm);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_issuer(&[issuer.as_str()]);
        validation.set_audience(&[audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        Self {
            keys: RwLock::new(Arc::new(keys)),
            cache: TokenCache::new(CACHE_CAPACITY),
            validation,
            issuer,
            audience,
            access_ttl_secs,
        }
    }

    pub fn access_ttl_secs(&self) -> i64 {
        self.access_ttl_secs
    }

    /// The JWK Set other services verify our tokens with.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": self.keys().public_jwks })
    }

    fn keys(&self) -> Arc<KeyRing> {
        // A poisoned lock still holds a consistent Arc: keep serving with it.
        match self.keys.read() {
            Ok(k) => k.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn issue(
        &self,
        user_id: Uuid,
        username: &str,
        roles: Vec<String>,
        session_id: Uuid,
    ) -> Result<IssuedAccessToken, SignError> {
        let keys = self.keys();
        let now = Utc::now().timestamp();
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id,
            exp: now + self.access_ttl_secs,
            iat: now,
            nbf: now,
            jti: Uuid::now_v7(),
            sid: session_id,
            roles,
            username: username.to_owned(),
        };
        let mut header = Header::new(keys.algorithm);
        header.typ = Some(ACCESS_TOKEN_TYPE.into());
        header.kid = Some(keys.signing_kid.clone());
        let token =
            encode(&header, &claims, &keys.signing_key).map_err(|e| SignError(e.to_string()))?;
        Ok(IssuedAccessToken {
            token,
            expires_in: self.access_ttl_secs,
        })
    }

    /// Signature by a live key of the configured algorithm, `typ`, and every claim check; a token
    /// verified before is answered from the cache (expiry still checked).
    pub fn verify(&self, token: &str) -> Result<Arc<AccessClaims>, TokenRejection> {
        let now = Utc::now().timestamp();
        if let Some(claims) = self.cache.get(token, now, LEEWAY_SECS as i64) {
            return Ok(claims);
        }
        let claims = Arc::new(self.verify_uncached(token)?);
        self.cache.insert(token, claims.clone(), now);
        Ok(claims)
    }

    /// Swaps in a new key ring (after a rotation) and forgets every cached verification.
    pub fn replace_keys(&self, keys: KeyRing) {
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(keys);
        self.cache.clear();
    }

    fn verify_uncached(&self, token: &str) -> Result<AccessClaims, TokenRejection> {
        let header = decode_header(token).map_err(|_| TokenRejection::Malformed)?;
        if header
            .typ
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
            != Some(ACCESS_TOKEN_TYPE)
        {
            return Err(TokenRejection::WrongType);
        }
        let keys = self.keys();
        if header.alg != keys.algorithm {
            return Err(TokenRejection::Invalid);
        }
        let kid = header.kid.ok_or(TokenRejection::UnknownKey)?;
        let key = keys.decoding_key(&kid).ok_or(TokenRejection::UnknownKey)?;
        let data =
            decode::<AccessClaims>(token, key, &self.validation).map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenRejection::Expired,
                _ => TokenRejection::Invalid,
            })?;
        Ok(data.claims)
    }
}

/// A fresh refresh token: 256 random bits, URL-safe. Only its hash is stored.
pub fn new_refresh_token() -> Result<(String, Vec<u8>), SignError> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|e| SignError(e.to_string()))?;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_refresh_token(&token);
    Ok((token, hash))
}

pub fn hash_refresh_token(token: &str) -> Vec<u8> {
    digest(&SHA256, token.as_bytes()).as_ref().to_vec()
}

/// Roles are a set; the token lists them sorted so equal sets give equal claims.
pub fn sorted_roles(roles: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut roles: Vec<String> = roles.into_iter().collect();
    roles.sort();
    roles.dedup();
    roles
}
