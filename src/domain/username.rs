use std::fmt;

/// 3 to 64 characters of `[A-Za-z0-9._-]`, kept as given; uniqueness is on the lower-cased form.
#[derive(Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub const MIN: usize = 3;
    pub const MAX: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let len = raw.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&len) {
            return Err(format!(
                "username must be {} to {} characters long",
                Self::MIN,
                Self::MAX
            ));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err("username may contain only letters A-Z, digits, '.', '_' and '-'".into());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key usernames are compared and looked up by.
    pub fn lower(&self) -> String {
        Self::lookup_key(&self.0)
    }

    /// What the audit log may keep of a name typed at a failed login: the name if it could be a
    /// username, else a marker. A password typed into the name field, or 64 KiB of junk, must not
    /// be stored and shown to every administrator.
    pub fn for_audit(raw: &str) -> &str {
        if Self::parse(raw).is_ok() {
            raw
        } else {
            Self::NOT_A_USERNAME
        }
    }

    /// What [`Username::for_audit`] keeps of a name that cannot be a username.
    pub const NOT_A_USERNAME: &'static str = "(not a valid username)";

    /// The lookup key of any typed name, valid or not: what `users.username_lower` holds.
    pub fn lookup_key(raw: &str) -> String {
        raw.to_ascii_lowercase()
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Username({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Username;

    #[test]
    fn accepts_the_allowed_alphabet_at_both_length_limits() {
        assert!(Username::parse("abc").is_ok());
        assert!(Username::parse(&"a".repeat(64)).is_ok());
        assert!(Username::parse("Alice.Smith_-9").is_ok());
    }

    #[test]
    fn refuses_too_short_too_long_and_foreign_characters() {
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(65)).is_err());
        for bad in [
            "al ice",
            "alice@x",
            "ålice",
            "a/b",
            "",
            "abc\n",
            "ali\u{202e}ce",
            "\u{200b}alice",
            "alice\u{feff}",
            "al\u{2066}ice",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn the_audit_log_keeps_only_names_that_could_be_usernames() {
        assert_eq!(Username::for_audit("Alice.S"), "Alice.S");
        let long = "a".repeat(65_000);
        for bad in [
            "correct horse battery",
            "pässwörd123",
            long.as_str(),
            "ab",
            "a\u{202e}bc",
        ] {
            assert_eq!(
                Username::for_audit(bad),
                Username::NOT_A_USERNAME,
                "{bad:.20}"
            );
        }
        assert!(Username::parse(Username::NOT_A_USERNAME).is_err());
    }

    #[test]
    fn lower_form_ignores_letter_case() {
        assert_eq!(
            Username::parse("AlIcE").unwrap().lower(),
            Username::parse("alice").unwrap().lower()
        );
    }
}
