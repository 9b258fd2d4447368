//! New key pairs: (PKCS#8 private key, public key in the form the ring reads back).

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair,
};

use super::KeyError;
use crate::config::JwtAlg;

/// Returns (PKCS#8 private key, public key): raw for Ed25519, the uncompressed point for P-256,
/// X.509 SubjectPublicKeyInfo DER for RSA (2048 bits).
pub fn generate(alg: JwtAlg) -> Result<(Vec<u8>, Vec<u8>), KeyError> {
    let fail = || KeyError::Generate(alg.as_str());
    match alg {
        JwtAlg::EdDSA => {
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| fail())?;
            let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|_| fail())?;
            Ok((pkcs8.as_ref().to_vec(), pair.public_key().as_ref().to_vec()))
        }
        JwtAlg::Es256 => {
            let alg = &ECDSA_P256_SHA256_FIXED_SIGNING;
            let pkcs8 =
                EcdsaKeyPair::generate_pkcs8(alg, &SystemRandom::new()).map_err(|_| fail())?;
            let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref()).map_err(|_| fail())?;
            Ok((pkcs8.as_ref().to_vec(), pair.public_key().as_ref().to_vec()))
        }
        JwtAlg::Rs256 => {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| fail())?;
            let pkcs8 = pair.as_der().map_err(|_| fail())?;
            let public = pair.public_key().as_der().map_err(|_| fail())?;
            Ok((pkcs8.as_ref().to_vec(), public.as_ref().to_vec()))
        }
        JwtAlg::Hs256 => Err(KeyError::Unsupported(alg.as_str())),
    }
}
