//! Access tokens: JWS with `typ: at+jwt`, signed with the key ring's newest key, verified
//! strictly, and remembered once verified.

mod cache;
mod claims;

use std::sync::Arc;

use chrono::Utc;
use jsonwebtoken::{Header, Validation, decode, decode_header, encode};
use uuid::Uuid;

use super::keys::KeyRing;
pub use super::secrets::hash_secret as hash_refresh_token;
use cache::TokenCache;
pub use claims::{AccessClaims, TokenRejection};

pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// Clock skew tolerated on `exp`/`nbf`; the contract allows at most 30 s.
pub const LEEWAY_SECS: u64 = 5;
/// Verified tokens remembered at most; ~1 KiB each.
pub const CACHE_CAPACITY: usize = 20_000;

#[derive(Debug, thiserror::Error)]
#[error("could not sign a token: {0}")]
pub struct SignError(String);

pub struct TokenService {
    keys: KeyRing,
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
            keys,
            cache: TokenCache::new(CACHE_CAPACITY),
            validation,
            issuer,
            audience,
            access_ttl_secs,
        }
    }

    /// The JWK Set other services verify our tokens with.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": self.keys.public_jwks })
    }

    pub fn issue(
        &self,
        user_id: Uuid,
        username: &str,
        mut roles: Vec<String>,
        session_id: Uuid,
    ) -> Result<IssuedAccessToken, SignError> {
        // Roles are a set: sorted, so equal sets give equal claims.
        roles.sort();
        roles.dedup();
        let keys = &self.keys;
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
        let keys = &self.keys;
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
