//! Opaque secrets — refresh tokens, dashboard cookies, CSRF tokens — and how they are compared.

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

#[derive(Debug, thiserror::Error)]
#[error("the system random number generator failed")]
pub struct RandomError;

/// A fresh secret of 256 random bits, URL-safe, and its digest (what gets stored).
pub fn new_secret() -> Result<(String, Vec<u8>), RandomError> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| RandomError)?;
    let secret = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_secret(&secret);
    Ok((secret, hash))
}

/// A generated password of `len` URL-safe characters (6 random bits each): 20 characters are
/// 120 bits, beyond any guessing, and in no list of common passwords.
pub fn random_password(len: usize) -> Result<String, RandomError> {
    let mut bytes = vec![0u8; len.div_ceil(4) * 3];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| RandomError)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes).chars().take(len).collect())
}

/// SHA-256 of a secret: enough for 256 random bits, which no one can guess or brute-force.
pub fn hash_secret(secret: &str) -> Vec<u8> {
    digest(&SHA256, secret.as_bytes()).as_ref().to_vec()
}

/// Equality whose timing does not depend on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_whole_values() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }

    #[test]
    fn generated_passwords_have_the_length_asked_for() {
        for len in [12, 20, 21, 128] {
            assert_eq!(random_password(len).unwrap().chars().count(), len);
        }
        assert_ne!(random_password(20).unwrap(), random_password(20).unwrap());
    }

    #[test]
    fn secrets_are_fresh_and_stored_only_as_their_digest() {
        let (a, hash) = new_secret().unwrap();
        let (b, _) = new_secret().unwrap();
        assert_ne!(a, b);
        assert_eq!(hash, hash_secret(&a));
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
    }
}
