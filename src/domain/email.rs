use std::fmt;

/// A deliberately modest check: one `@` with something on both sides, no spaces, at most 254 bytes.
/// Whether the mailbox exists is not ours to know.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let invalid = || "email must look like name@example.org".to_string();
        if raw.len() > 254 || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        match raw.split_once('@') {
            Some((local, domain))
                if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
            {
                Ok(Self(raw.to_owned()))
            }
            _ => Err(invalid()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn accepts_ordinary_addresses_and_trims_them() {
        assert_eq!(Email::parse(" a@b.org ").unwrap().as_str(), "a@b.org");
    }

    #[test]
    fn refuses_addresses_without_both_halves() {
        for bad in [
            "",
            "a",
            "@b",
            "a@",
            "a@b@c",
            "a b@c",
            &format!("{}@b", "a".repeat(260)),
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
