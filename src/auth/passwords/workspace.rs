//! One hashing thread's argon2id work: hashing and verifying PHC strings in a reused buffer.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use super::HashError;
use crate::auth::secrets::constant_time_eq;

/// The parameters new hashes get: argon2id, m=19456 KiB, t=2, p=1 (OWASP's recommendation).
fn params() -> Params {
    Params::default()
}

/// Stored hashes asking for more memory than this are refused rather than honoured.
const MAX_MEMORY_KIB: u32 = 256 * 1024;

pub(super) fn err(e: impl std::fmt::Display) -> HashError {
    HashError::Hash(e.to_string())
}

/// A hashing thread's reusable working memory.
#[derive(Default)]
pub struct Workspace {
    blocks: Vec<Block>,
}

impl Workspace {
    fn blocks(&mut self, params: &Params) -> &mut [Block] {
        let needed = params.block_count();
        if self.blocks.len() < needed {
            self.blocks.resize(needed, Block::default());
        }
        &mut self.blocks[..needed]
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for `password`.
    pub fn hash(&mut self, password: &[u8]) -> Result<String, HashError> {
        let params = params();
        let mut salt = [0u8; 16];
        aws_lc_rs::rand::fill(&mut salt).map_err(err)?;
        let mut out = [0u8; 32];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password_into_with_memory(password, &salt, &mut out, self.blocks(&params))
            .map_err(err)?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(err)?,
            salt: Some(Salt::new(&salt).map_err(err)?),
            hash: Some(Output::new(&out).map_err(err)?),
        };
        Ok(phc.to_string())
    }

    /// Whether `password` matches the PHC string `stored` (with the parameters stored in it).
    pub fn verify(&mut self, password: &[u8], stored: &str) -> Result<bool, HashError> {
        let parsed = PasswordHash::new(stored).map_err(err)?;
        let algorithm = Algorithm::try_from(parsed.algorithm.as_str()).map_err(err)?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()
            .map_err(err)?
            .unwrap_or_default();
        let params = Params::try_from(&parsed).map_err(err)?;
        if params.m_cost() > MAX_MEMORY_KIB {
            return Err(HashError::Hash(
                "stored hash asks for too much memory".into(),
            ));
        }
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Err(HashError::Hash("stored hash lacks salt or output".into()));
        };
        let mut out = vec![0u8; expected.len()];
        Argon2::new(algorithm, version, params.clone())
            .hash_password_into_with_memory(password, salt.as_ref(), &mut out, self.blocks(&params))
            .map_err(err)?;
        Ok(constant_time_eq(&out, expected.as_bytes()))
    }

    /// Whether any of `candidates` matches `stored`; tries them all when none does.
    pub(super) fn verify_any(
        &mut self,
        candidates: &[String],
        stored: &str,
    ) -> Result<bool, HashError> {
        for candidate in candidates {
            if self.verify(candidate.as_bytes(), stored)? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Hashes on the calling thread: for the command line and start-up, never for a request.
pub fn hash_blocking(password: &str) -> Result<String, HashError> {
    Workspace::default().hash(password.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_interchangeable_with_the_argon2_crates_own() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = hash_blocking("interoperable secret").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"interoperable secret", &parsed)
                .is_ok()
        );
        let theirs = Argon2::default()
            .hash_password(b"interoperable secret")
            .unwrap()
            .to_string();
        let mut ws = Workspace::default();
        assert!(ws.verify(b"interoperable secret", &theirs).unwrap());
        assert!(!ws.verify(b"interoperable secreT", &theirs).unwrap());
    }

    #[test]
    fn hashes_with_other_parameters_still_verify() {
        let weaker = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8192, 1, 1, None).unwrap(),
        );
        use argon2::password_hash::PasswordHasher;
        let old = weaker
            .hash_password(b"legacy password")
            .unwrap()
            .to_string();
        assert!(
            Workspace::default()
                .verify(b"legacy password", &old)
                .unwrap()
        );
    }

    #[test]
    fn a_garbled_stored_hash_is_an_error_not_a_match() {
        let mut ws = Workspace::default();
        assert!(ws.verify(b"x", "not a phc string").is_err());
        assert!(
            ws.verify(
                b"x",
                "$argon2id$v=19$m=999999999,t=2,p=1$c2FsdHNhbHQ$aGFzaA"
            )
            .is_err()
        );
    }
}
