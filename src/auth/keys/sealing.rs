//! Private signing keys at rest: sealed with AES-256-GCM under the key-encryption key
//! (`AUTHD_KEY_ENCRYPTION_KEY`), the key's `kid` as associated data, so a sealed key cannot be
//! passed off as another's. Stored as nonce || ciphertext || tag.

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The name stored beside a sealed key (`signing_keys.private_key_encryption`).
pub const SCHEME: &str = "A256GCM";

pub struct KeyEncryptionKey(RandomizedNonceKey);

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("must be 32 bytes, base64-encoded")]
    BadKey,
    #[error("could not encrypt a signing key")]
    Seal,
    /// A wrong key-encryption key, or a sealed key that was altered.
    #[error("cannot decrypt signing key {0}: wrong AUTHD_KEY_ENCRYPTION_KEY?")]
    Open(String),
}

impl KeyEncryptionKey {
    /// From the configured value: 32 bytes in standard base64.
    pub fn from_base64(encoded: &str) -> Result<Self, SealError> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|_| SealError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SealError::BadKey);
        }
        RandomizedNonceKey::new(&AES_256_GCM, &bytes)
            .map(Self)
            .map_err(|_| SealError::BadKey)
    }

    pub fn seal(&self, kid: &str, private_key: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut data = private_key.to_vec();
        let nonce = self
            .0
            .seal_in_place_append_tag(Aad::from(kid.as_bytes()), &mut data)
            .map_err(|_| SealError::Seal)?;
        let mut sealed = nonce.as_ref().to_vec();
        sealed.extend_from_slice(&data);
        Ok(sealed)
    }

    pub fn open(&self, kid: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        let fail = || SealError::Open(kid.to_owned());
        if sealed.len() < NONCE_LEN {
            return Err(fail());
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| fail())?;
        let mut data = ciphertext.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut data)
            .map_err(|_| fail())?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek(byte: u8) -> KeyEncryptionKey {
        KeyEncryptionKey::from_base64(&STANDARD.encode([byte; 32])).unwrap()
    }

    #[test]
    fn a_sealed_key_opens_only_with_the_same_key_and_kid() {
        let sealed = kek(1).seal("kid-a", b"private key bytes").unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"private"));
        assert_eq!(kek(1).open("kid-a", &sealed).unwrap(), b"private key bytes");
        assert!(kek(2).open("kid-a", &sealed).is_err());
        assert!(kek(1).open("kid-b", &sealed).is_err());
        assert!(kek(1).open("kid-a", &sealed[..8]).is_err());
    }

    #[test]
    fn the_key_must_be_32_bytes_of_base64() {
        assert!(KeyEncryptionKey::from_base64("not base64!").is_err());
        assert!(KeyEncryptionKey::from_base64(&STANDARD.encode([0u8; 16])).is_err());
        assert!(KeyEncryptionKey::from_base64(&STANDARD.encode([0u8; 32])).is_ok());
    }
}
