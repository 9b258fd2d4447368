use std::fmt;
use std::net::Ipv6Addr;

/// A browser origin, written as browsers send it in `Origin`: `http(s)://host[:port]`, lower
/// case, without the scheme's default port, without a path. `*` and `null` are refused: a
/// wildcard would let every site in, and `null` is what sandboxed frames and `file:` pages send,
/// so allowing it would allow all of them.
#[derive(Clone, PartialEq, Eq)]
pub struct Origin(String);

impl Origin {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw == "*" || raw.eq_ignore_ascii_case("null") {
            return Err(format!(
                "{raw:?} is not allowed: list each origin, e.g. https://app.example.org"
            ));
        }
        let lower = raw.to_ascii_lowercase();
        let (scheme, rest) = lower
            .split_once("://")
            .filter(|(scheme, _)| matches!(*scheme, "http" | "https"))
            .ok_or_else(|| format!("{raw:?} is not an origin such as https://app.example.org"))?;
        if rest.contains(['/', '?', '#', '@']) {
            return Err(format!(
                "{raw:?} is more than scheme, host and port (an origin has no path)"
            ));
        }
        let (host, port) =
            split_port(rest).ok_or_else(|| format!("{raw:?} has an invalid port"))?;
        if !valid_host(host) {
            return Err(format!(
                "{raw:?} has an invalid host (write a name in its ASCII form)"
            ));
        }
        let default_port = if scheme == "https" { 443 } else { 80 };
        Ok(Self(match port {
            Some(p) if p != default_port => format!("{scheme}://{host}:{p}"),
            _ => format!("{scheme}://{host}"),
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// `host[:port]` or `[v6][:port]`; `None` for a port that is not 1 to 65535.
fn split_port(rest: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = match rest.find(']') {
        Some(end) if rest.starts_with('[') => {
            let after = &rest[end + 1..];
            match after.strip_prefix(':') {
                Some(port) => (&rest[..=end], Some(port)),
                None if after.is_empty() => (rest, None),
                None => return None,
            }
        }
        _ => match rest.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        },
    };
    match port {
        None => Some((host, None)),
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .map(|p| (host, Some(p))),
    }
}

fn valid_host(host: &str) -> bool {
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<Ipv6Addr>().is_ok();
    }
    !host.is_empty()
        && host.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Origin({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Origin;

    fn ok(raw: &str) -> String {
        Origin::parse(raw).unwrap().into_string()
    }

    #[test]
    fn origins_are_written_as_browsers_send_them() {
        assert_eq!(ok("https://App.Example.org:443"), "https://app.example.org");
        assert_eq!(ok("http://localhost:80"), "http://localhost");
        assert_eq!(ok("http://localhost:5173"), "http://localhost:5173");
        assert_eq!(ok("https://127.0.0.1:8443"), "https://127.0.0.1:8443");
        assert_eq!(ok("http://[::1]:8080"), "http://[::1]:8080");
        assert_eq!(ok("http://[::1]"), "http://[::1]");
    }

    #[test]
    fn wildcards_null_paths_and_other_schemes_are_refused() {
        for bad in [
            "*",
            "null",
            "NULL",
            "app.example.org",
            "ftp://app.example.org",
            "https://app.example.org/",
            "https://app.example.org/x",
            "https://user@app.example.org",
            "https://app.example.org:0",
            "https://app.example.org:99999",
            "https://app.example.org:",
            "https://bad_host.example",
            "https://",
            "https://a..b",
            "http://[::1",
            "http://[nope]",
            "http://[::1]x",
            "https://bücher.example",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad}");
        }
    }
}
