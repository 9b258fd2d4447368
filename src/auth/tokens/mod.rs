//! Access tokens: JWS with `typ: at+jwt`, signed with the key ring's newest key, verified
//! strictly, and remembered once verified.

mod cache;
mod claims;

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use jsonwebtoken::{Header, Validation, decode, decode_header, encode};
use tokio::sync::Notify;
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
    keys: RwLock<Arc<KeyRing>>,
    /// Woken when a token names a key this ring does not know: another instance may have
    /// rotated. Whoever reloads the ring decides how often to act on it.
    unknown_kid: Notify,
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
            unknown_kid: Notify::new(),
            cache: TokenCache::new(CACHE_CAPACITY),
            validation,
            issuer,
            audience,
            access_ttl_secs,
        }
    }

    /// The JWK Set other services verify our tokens with.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": self.keys().public_jwks() })
    }

    pub fn keys(&self) -> Arc<KeyRing> {
        // A poisoned lock still holds a consistent Arc: keep serving with it.
        match self.keys.read() {
            Ok(k) => k.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Swaps in a new key ring and forgets every cached verification, so a retired key's tokens
    /// stop passing at once.
    pub fn replace_keys(&self, keys: KeyRing) {
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(keys);
        self.cache.clear();
    }

    /// Resolves when a token named a key this ring does not know.
    pub async fn unknown_kid_seen(&self) {
        self.unknown_kid.notified().await;
    }

    /// Signs an access token issued at `issued_at`: the instant its `jti` carries, which
    /// revocation watermarks are compared with. Services pass the database's clock read in the
    /// transaction that read `roles`, so a watermark stamped by a change that waited for that
    /// transaction is later than the token, whenever the token is signed.
    pub fn issue(
        &self,
        user_id: Uuid,
        username: &str,
        mut roles: Vec<String>,
        session_id: Uuid,
        issued_at: DateTime<Utc>,
    ) -> Result<IssuedAccessToken, SignError> {
        // Roles are a set: sorted, so equal sets give equal claims.
        roles.sort();
        roles.dedup();
        let keys = self.keys();
        let now = issued_at.timestamp();
        // Millisecond precision, rounded down: the token never looks younger than it is.
        let since_epoch = uuid::Timestamp::from_unix(
            uuid::NoContext,
            now.max(0).unsigned_abs(),
            issued_at.timestamp_subsec_millis() * 1_000_000,
        );
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id,
            exp: now + self.access_ttl_secs,
            iat: now,
            nbf: now,
            jti: Uuid::new_v7(since_epoch),
            sid: session_id,
            roles,
            username: username.to_owned(),
        };
        let mut header = Header::new(keys.algorithm);
        header.typ = Some(ACCESS_TOKEN_TYPE.into());
        header.kid = Some(keys.signing_kid().to_owned());
        let token =
            encode(&header, &claims, keys.signing_key()).map_err(|e| SignError(e.to_string()))?;
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
        let keys = self.keys();
        if header.alg != keys.algorithm {
            return Err(TokenRejection::Invalid);
        }
        let candidates = keys.candidates(header.kid.as_deref());
        if candidates.is_empty() {
            self.unknown_kid.notify_one();
            return Err(TokenRejection::UnknownKey);
        }
        let mut rejection = TokenRejection::Invalid;
        for key in candidates {
            match decode::<AccessClaims>(token, key, &self.validation) {
                Ok(data) => return Ok(data.claims),
                Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature) => {
                    rejection = TokenRejection::Expired;
                }
                Err(_) => {}
            }
        }
        Err(rejection)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};
    use uuid::Uuid;

    use super::TokenService;
    use crate::auth::keys::KeyRing;
    use crate::config::Secret;

    #[test]
    fn a_token_is_issued_at_the_instant_given_to_the_millisecond_rounded_down() {
        let secret = Secret::new("0123456789abcdef0123456789abcdef");
        let service = TokenService::new(
            KeyRing::from_secrets(&secret, None),
            "authd".into(),
            "authd".into(),
            900,
        );
        let at = Utc::now() - Duration::seconds(2);
        let at = at - Duration::nanoseconds(i64::from(at.timestamp_subsec_nanos()))
            + Duration::microseconds(123_999);
        let (user, session) = (Uuid::now_v7(), Uuid::now_v7());
        let issued = service.issue(user, "alice", vec![], session, at).unwrap();
        let claims = service.verify(&issued.token).unwrap();
        let floored = DateTime::from_timestamp(at.timestamp(), 123_000_000).unwrap();
        assert_eq!(claims.issued_at(), floored);
        assert!(claims.issued_at() <= at);
        assert_eq!(claims.iat, at.timestamp());
        assert_eq!(claims.exp, at.timestamp() + 900);
    }
}
