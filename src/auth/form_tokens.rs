//! Signed form tokens, for a form that has no session to bind its CSRF token to (the dashboard's
//! sign-in form): `nonce.expiry.mac`, the MAC an HMAC-SHA256 over the nonce and the expiry with a
//! key every instance shares (it lives in the database, see `db::models::app_secret`). Only
//! tokens authd issued, and not yet expired, pass: a cookie and field pair an attacker made up
//! does not.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::secrets::RandomError;

/// Name of the shared key in `app_secrets`.
pub const KEY_NAME: &str = "login_csrf";

/// How long a served form's token is accepted, seconds.
pub const LIFETIME_SECS: i64 = 2 * 60 * 60;

/// What the MAC covers besides the token's own parts: a token of another purpose cannot pass.
const CONTEXT: &[u8] = b"authd login form csrf v1\n";

pub struct FormTokenKey(hmac::Key);

impl FormTokenKey {
    pub fn new(secret: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// 256 random bits for a new shared key.
    pub fn generate_secret() -> Result<[u8; 32], RandomError> {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| RandomError)?;
        Ok(bytes)
    }

    fn message(body: &str) -> Vec<u8> {
        [CONTEXT, body.as_bytes()].concat()
    }

    /// A fresh token, valid until `now + LIFETIME_SECS` (Unix seconds).
    pub fn issue(&self, now: i64) -> Result<String, RandomError> {
        let mut nonce = [0u8; 16];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| RandomError)?;
        let body = format!("{}.{}", URL_SAFE_NO_PAD.encode(nonce), now + LIFETIME_SECS);
        let tag = URL_SAFE_NO_PAD.encode(hmac::sign(&self.0, &Self::message(&body)));
        Ok(format!("{body}.{tag}"))
    }

    /// Whether `token` was issued with this key and has not expired at `now`.
    pub fn verify(&self, token: &str, now: i64) -> bool {
        let Some((body, tag)) = token.rsplit_once('.') else {
            return false;
        };
        let Some(expiry) = body
            .split_once('.')
            .and_then(|(_, e)| e.parse::<i64>().ok())
        else {
            return false;
        };
        let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
            return false;
        };
        // Constant time: the comparison of the MAC says nothing about where a guess differs.
        now < expiry && hmac::verify(&self.0, &Self::message(body), &tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn its_own_tokens_pass_until_they_expire() {
        let key = FormTokenKey::new(&[7; 32]);
        let token = key.issue(NOW).unwrap();
        assert!(key.verify(&token, NOW));
        assert!(key.verify(&token, NOW + LIFETIME_SECS - 1));
        assert!(!key.verify(&token, NOW + LIFETIME_SECS));
        assert_ne!(token, key.issue(NOW).unwrap());
    }

    #[test]
    fn another_instance_with_the_same_key_accepts_them() {
        let token = FormTokenKey::new(&[7; 32]).issue(NOW).unwrap();
        assert!(FormTokenKey::new(&[7; 32]).verify(&token, NOW));
        assert!(!FormTokenKey::new(&[8; 32]).verify(&token, NOW));
    }

    #[test]
    fn made_up_or_altered_tokens_fail() {
        let key = FormTokenKey::new(&[7; 32]);
        let token = key.issue(NOW).unwrap();
        let (nonce, rest) = token.split_once('.').unwrap();
        let (expiry, tag) = rest.split_once('.').unwrap();
        let later = format!("{nonce}.{}.{tag}", expiry.parse::<i64>().unwrap() + 86_400);
        let other_nonce = format!("AAAAAAAAAAAAAAAAAAAAAA.{expiry}.{tag}");
        for bad in [
            "",
            "guess",
            "a.b.c",
            nonce,
            later.as_str(),
            other_nonce.as_str(),
            &format!("{nonce}.{expiry}."),
            &format!("{nonce}.{expiry}"),
        ] {
            assert!(!key.verify(bad, NOW), "{bad:?} passed");
        }
    }
}
