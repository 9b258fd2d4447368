//! argon2id hashing on a bounded number of blocking threads.

use std::sync::Arc;

use actix_web::web;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("hashing task was cancelled")]
    Canceled,
}

/// Each hash holds ~19 MiB for ~15 ms: a semaphore caps how many run at once so a login flood
/// queues instead of exhausting memory or the blocking pool.
/// Hashes on the calling thread: for the command line, never for a request.
pub fn hash_blocking(password: &str) -> Result<String, HashError> {
    argon2()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| HashError::Hash(e.to_string()))
}

#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    /// Verified against when the username is unknown, so that answer costs the same as a wrong
    /// password.
    dummy_hash: Arc<str>,
}

fn argon2() -> Argon2<'static> {
    // argon2id, m=19456 KiB, t=2, p=1: the OWASP recommendation.
    Argon2::default()
}

impl Hasher {
    pub fn new(concurrency: usize) -> Result<Self, HashError> {
        let mut random = [0u8; 24];
        aws_lc_rs::rand::fill(&mut random).map_err(|e| HashError::Hash(e.to_string()))?;
        let dummy = argon2()
            .hash_password(&random)
            .map_err(|e| HashError::Hash(e.to_string()))?
            .to_string();
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: dummy.into(),
        })
    }

    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| HashError::Canceled)?;
        web::block(move || hash_blocking(&password))
            .await
            .map_err(|_| HashError::Canceled)?
    }

    /// `phc` is `None` for an unknown user: the dummy hash is checked instead and the answer is
    /// `false`, after the same work.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| HashError::Canceled)?;
        let dummy = self.dummy_hash.clone();
        web::block(move || {
            let known = phc.is_some();
            let stored = phc.unwrap_or_else(|| dummy.to_string());
            let parsed = PasswordHash::new(&stored).map_err(|e| HashError::Hash(e.to_string()))?;
            let matches = argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok();
            Ok(known && matches)
        })
        .await
        .map_err(|_| HashError::Canceled)?
    }
}

#[cfg(test)]
mod tests {
    use super::Hasher;

    #[actix_web::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let hasher = Hasher::new(2).unwrap();
        let phc = hasher.hash("correct horse battery".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            hasher
                .verify("correct horse battery".into(), Some(phc.clone()))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify("correct horse batterY".into(), Some(phc))
                .await
                .unwrap()
        );
    }

    #[actix_web::test]
    async fn an_unknown_user_never_verifies() {
        let hasher = Hasher::new(1).unwrap();
        assert!(!hasher.verify("anything at all".into(), None).await.unwrap());
    }
}
