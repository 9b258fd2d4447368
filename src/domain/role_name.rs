use std::fmt;

/// Lowercase `[a-z0-9_-]{1,32}`. Surrounding whitespace is dropped (a form field or a JSON list
/// may carry it); anything else that is not such a name, uppercase included, is refused rather than
/// folded, so a name always means what it says.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleName(String);

impl RoleName {
    pub const ADMIN: &'static str = "admin";
    pub const USER: &'static str = "user";

    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let ok = (1..=32).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!(
                "role name {raw:?} must be 1 to 32 characters of a-z, 0-9, '_' and '-'"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RoleName({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::RoleName;

    #[test]
    fn accepts_lowercase_names_up_to_32() {
        for ok in ["admin", "a", "billing-ro", "team_7", &"x".repeat(32)] {
            assert!(RoleName::parse(ok).is_ok(), "{ok:?} was refused");
        }
    }

    #[test]
    fn drops_surrounding_whitespace() {
        assert_eq!(RoleName::parse("  billing\n").unwrap().as_str(), "billing");
    }

    #[test]
    fn refuses_uppercase_empty_long_and_punctuation() {
        for bad in ["", "  ", "Admin", "a b", "a.b", &"x".repeat(33), "rôle"] {
            assert!(RoleName::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
