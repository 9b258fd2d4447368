use std::fmt;

/// A deliberately modest check: one `@` with something on both sides, no spaces, no control or
/// format characters, at most 254 bytes. Whether the mailbox exists is not ours to know.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let invalid = || "email must look like name@example.org".to_string();
        if raw.len() > 254
            || raw
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || is_format_character(c))
        {
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

/// Unicode general category Cf (format characters): invisible, yet they change how text is shown
/// (U+202E turns `moc.liame@x` into what reads as `x@email.com`) or compared (U+200B, U+FEFF).
pub fn is_format_character(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
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

    #[test]
    fn refuses_control_and_format_characters() {
        for c in [
            '\u{0}',
            '\u{7}',
            '\u{7f}',
            '\u{AD}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{200F}',
            '\u{202A}',
            '\u{202E}',
            '\u{2060}',
            '\u{2066}',
            '\u{2069}',
            '\u{FEFF}',
            '\u{E0001}',
        ] {
            for bad in [
                format!("a{c}@b.org"),
                format!("a@b.org{c}"),
                format!("{c}a@b.org"),
            ] {
                assert!(Email::parse(&bad).is_err(), "{bad:?} was accepted");
            }
        }
        // Letters beyond ASCII are fine: internationalised addresses exist.
        assert!(Email::parse("jürgen@bücher.example").is_ok());
    }
}
