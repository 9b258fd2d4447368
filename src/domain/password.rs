use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

use unicode_normalization::{UnicodeNormalization, is_nfkc};

use super::Username;
use super::invisible::is_invisible;

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

/// The one form a password is checked, hashed and verified in: NFKC, so that the ways of typing
/// one password (fullwidth letters from an East Asian keyboard, a precomposed "é" or "e" and a
/// combining accent, a ligature) are one password, and so that the common-password list sees
/// through them. Nothing is trimmed or removed.
fn normalised(raw: String) -> String {
    if is_nfkc(&raw) {
        raw
    } else {
        raw.nfkc().collect()
    }
}

/// A password that met the policy when it was chosen, in its normalised form: what is hashed.
/// Never printed: `Debug` is redacted.
pub struct Password(String);

impl Password {
    /// Every rule applies to the NFKC form (so two forms of one password get one verdict).
    /// Lengths count its Unicode scalar values; nothing is trimmed or truncated.
    pub fn parse(raw: String, username: &Username, policy: PasswordPolicy) -> Result<Self, String> {
        let password = normalised(raw);
        let len = password.chars().count();
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
        if password.chars().all(is_invisible) {
            return Err(
                "password must contain visible characters: it is only whitespace, \
                        invisible or formatting characters"
                    .into(),
            );
        }
        let lower = password.to_lowercase();
        if lower == username.lower() {
            return Err("password must not be the username".into());
        }
        if COMMON_PASSWORDS.contains(lower.as_str()) {
            return Err("password is too common: it appears in lists attackers try first".into());
        }
        Ok(Self(password))
    }

    /// The forms a password typed at a login or a password check is verified in, in order: its
    /// NFKC form (every hash is made of it), then as typed when that differs, for a hash made
    /// before passwords were normalised. Never a rule of the policy: a check only compares.
    pub fn candidates(typed: String) -> Vec<String> {
        let normal = normalised(typed.clone());
        if normal == typed {
            vec![typed]
        } else {
            vec![normal, typed]
        }
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
        assert!(parse(&"\u{3000}".repeat(20)).is_err());
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

    #[test]
    fn a_common_password_in_fullwidth_letters_is_still_common() {
        let why = parse("ｐａｓｓｗｏｒｄ１２３４").unwrap_err();
        assert!(why.contains("too common"), "{why}");
        let policy = PasswordPolicy { min_length: 8 };
        let why = Password::parse("ｐａｓｓｗｏｒｄ".into(), &user(), policy).unwrap_err();
        assert!(why.contains("too common"), "{why}");
    }

    #[test]
    fn a_password_of_only_invisible_characters_is_refused_with_a_reason() {
        for invisible in [
            "\u{200B}".repeat(16),
            "\u{2060}\u{FEFF}".repeat(8),
            "\u{202E}\u{2066}\u{200F}\u{00AD}".repeat(4),
            "\u{200B} \u{200D}\t".repeat(4),
        ] {
            let why = parse(&invisible).unwrap_err();
            assert!(why.contains("visible characters"), "{why}");
        }
        // Invisible characters among visible ones are kept, not refused.
        assert!(parse("correct\u{200B}horse battery").is_ok());
    }

    #[test]
    fn nfkc_equivalent_passwords_are_the_same_password() {
        let fullwidth = parse("ｃｏｒｒｅｃｔ ｈｏｒｓｅ ｂａｔｔｅｒｙ").unwrap();
        assert_eq!(fullwidth.expose(), "correct horse battery");
        let decomposed = parse("cafe\u{0301} cre\u{0300}me brûlée").unwrap();
        let composed = parse("café crème brûlée").unwrap();
        assert_eq!(decomposed.expose(), composed.expose());
        // What a login checks first is what was hashed.
        let typed = Password::candidates("ｃｏｒｒｅｃｔ ｈｏｒｓｅ ｂａｔｔｅｒｙ".into());
        assert_eq!(typed[0], fullwidth.expose());
    }

    #[test]
    fn a_check_tries_the_typed_form_second_only_when_it_differs() {
        assert_eq!(Password::candidates("plain".into()), vec!["plain"]);
        assert_eq!(
            Password::candidates("ｐｌａｉｎ".into()),
            vec!["plain".to_owned(), "ｐｌａｉｎ".to_owned()]
        );
    }

    #[test]
    fn the_length_rule_counts_the_normalised_form() {
        // Six letters, each typed as a letter and a combining accent: 12 typed, 6 normalised.
        assert!(parse(&"e\u{0301}".repeat(6)).is_err());
        // A ligature is the letters it stands for: 4 typed, 12 normalised.
        assert!(parse("ﬃﬃﬃﬃ").is_ok());
    }
}
