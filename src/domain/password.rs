use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

use super::Username;

/// Django's list of the 20,000 most common passwords (lower-cased); see `data/README.md`.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
});

/// The configurable part of the password rules.
#[derive(Debug, Clone, Copy)]
pub struct PasswordPolicy {
    pub min_length: usize,
}

impl PasswordPolicy {
    pub const MAX_LENGTH: usize = 128;
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self { min_length: 12 }
    }
}

/// A password that met the policy when it was chosen. Never printed: `Debug` is redacted.
pub struct Password(String);

impl Password {
    /// Lengths count Unicode scalar values; nothing is trimmed or truncated.
    pub fn parse(raw: String, username: &Username, policy: PasswordPolicy) -> Result<Self, String> {
        let len = raw.chars().count();
        if len < policy.min_length {
            return Err(format!(
                "password must be at least {} characters long",
                policy.min_length
            ));
        }
        if len > PasswordPolicy::MAX_LENGTH {
            return Err(format!(
                "password must be at most {} characters long",
                PasswordPolicy::MAX_LENGTH
            ));
        }
        if raw.chars().all(char::is_whitespace) {
            return Err("password must not be only whitespace".into());
        }
        let lower = raw.to_lowercase();
        if lower == username.lower() {
            return Err("password must not be the username".into());
        }
        if COMMON_PASSWORDS.contains(lower.as_str()) {
            return Err("password is too common: it appears in lists attackers try first".into());
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Username {
        Username::parse("alice").unwrap()
    }

    fn parse(pw: &str) -> Result<Password, String> {
        Password::parse(pw.to_owned(), &user(), PasswordPolicy::default())
    }

    #[test]
    fn accepts_a_long_uncommon_password_in_any_script() {
        assert!(parse("correct horse battery staple").is_ok());
        assert!(parse("пароль-очень-длинный").is_ok());
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // 11 characters but 33 bytes: too short.
        assert!(parse("ééééééééééé").is_err());
        assert!(parse("éééééééééééx").is_ok());
    }

    #[test]
    fn enforces_both_length_limits() {
        assert!(parse("abcdefghijk").is_err());
        assert!(parse(&"x1".repeat(64)).is_ok());
        assert!(parse(&"x1".repeat(64).replacen('x', "yz", 1)).is_err());
    }

    #[test]
    fn honours_a_configured_minimum() {
        let policy = PasswordPolicy { min_length: 20 };
        assert!(Password::parse("qwfpgjluyarstdh".into(), &user(), policy).is_err());
    }

    #[test]
    fn refuses_whitespace_only_username_and_common_passwords() {
        assert!(parse(&" ".repeat(20)).is_err());
        let long_name = Username::parse("alice-in-wonderland").unwrap();
        let policy = PasswordPolicy::default();
        assert!(Password::parse("ALICE-in-Wonderland".into(), &long_name, policy).is_err());
        assert!(parse("1qaz2wsx3edc").is_err());
        assert!(parse("Password1234").is_err());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let pw = parse("correct horse battery staple").unwrap();
        assert!(!format!("{pw:?}").contains("horse"));
    }
}
