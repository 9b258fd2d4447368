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
        for bad in ["al ice", "alice@x", "ålice", "a/b", "", "abc\n"] {
            assert!(Username::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn lower_form_ignores_letter_case() {
        assert_eq!(
            Username::parse("AlIcE").unwrap().lower(),
            Username::parse("alice").unwrap().lower()
        );
    }
}
