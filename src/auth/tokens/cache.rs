//! Verified access tokens, remembered until they expire, so a token presented again skips the
//! signature check (EdDSA verification costs ~30 us; a lookup well under 1 us). Keyed by the whole
//! compact token, so any changed byte is a miss. Expiry is still checked on every hit, revocation
//! by the caller as for any token, and the cache is emptied whenever the key ring changes.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::claims::AccessClaims;

pub(super) struct TokenCache {
    entries: RwLock<HashMap<Box<str>, Arc<AccessClaims>>>,
    capacity: usize,
}

impl TokenCache {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            capacity,
        }
    }

    /// The claims of a token verified before, if it is still within its validity window.
    pub(super) fn get(&self, token: &str, now: i64, leeway: i64) -> Option<Arc<AccessClaims>> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let claims = entries.get(token)?;
        (claims.exp + leeway > now && claims.nbf - leeway <= now).then(|| claims.clone())
    }

    pub(super) fn insert(&self, token: &str, claims: Arc<AccessClaims>, now: i64) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity {
            entries.retain(|_, c| c.exp > now);
            // Still full of live tokens: start over rather than track recency on the hot path.
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(token.into(), claims);
    }

    pub(super) fn clear(&self) {
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn claims(exp: i64) -> Arc<AccessClaims> {
        Arc::new(AccessClaims {
            iss: "authd".into(),
            aud: "authd".into(),
            sub: Uuid::now_v7(),
            exp,
            iat: exp - 900,
            nbf: exp - 900,
            jti: Uuid::now_v7(),
            sid: Uuid::now_v7(),
            roles: vec![],
            username: "u".into(),
        })
    }

    #[test]
    fn a_hit_needs_the_exact_token_and_an_unexpired_one() {
        let cache = TokenCache::new(10);
        cache.insert("a.b.c", claims(1_000), 100);
        assert!(cache.get("a.b.c", 500, 5).is_some());
        assert!(cache.get("a.b.C", 500, 5).is_none());
        assert!(cache.get("a.b.c", 1_004, 5).is_some(), "within the leeway");
        assert!(cache.get("a.b.c", 1_005, 5).is_none(), "expired");
    }

    #[test]
    fn a_full_cache_drops_expired_entries_first_and_never_grows_past_capacity() {
        let cache = TokenCache::new(2);
        cache.insert("old", claims(10), 0);
        cache.insert("live", claims(1_000), 0);
        cache.insert("new", claims(1_000), 100);
        assert_eq!(cache.len(), 2);
        assert!(cache.get("live", 100, 0).is_some());
        cache.insert("newer", claims(1_000), 100);
        assert!(cache.len() <= 2);
    }
}
