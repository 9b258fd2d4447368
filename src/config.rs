//! Typed configuration from the environment. Every error names its variable; secrets never reach
//! `Debug` or the log.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

use crate::domain::{Origin, PasswordPolicy};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlg {
    EdDSA,
    Es256,
    Rs256,
    Hs256,
}

impl JwtAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EdDSA => "EdDSA",
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
            Self::Hs256 => "HS256",
        }
    }
}

/// A string that must not be shown: the wrapper only ever prints `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A trusted proxy range: CIDR (`10.0.0.0/8`) or a single address.
fn parse_net(s: &str) -> Result<IpNet, String> {
    if s.contains('/') {
        s.parse::<IpNet>()
            .map_err(|_| format!("{s:?} is not an address range such as 10.0.0.0/8"))
    } else {
        s.parse::<IpAddr>()
            .map(IpNet::from)
            .map_err(|_| format!("{s:?} is not an address"))
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: Secret,
    pub bind: SocketAddr,
    pub issuer: String,
    pub audience: String,
    pub access_ttl_secs: i64,
    pub refresh_ttl_secs: i64,
    pub refresh_grace_secs: i64,
    pub password_policy: PasswordPolicy,
    pub jwt_alg: JwtAlg,
    pub jwt_secret: Option<Secret>,
    pub bootstrap_admin: Option<(String, Secret)>,
    pub cookie_secure: bool,
    pub trusted_proxies: Vec<IpNet>,
    pub dashboard_idle_secs: i64,
    pub dashboard_absolute_secs: i64,
    /// Password checks that may wait for a hashing thread; `None`: 32 per core.
    pub hash_queue: Option<usize>,
    /// Database connections this instance keeps at most.
    pub db_pool_size: u32,
    /// 32 bytes, base64: seals private signing keys at rest.
    pub key_encryption_key: Option<Secret>,
    /// HS256 only: the previous secret, still accepted for verification during a change.
    pub jwt_secret_previous: Option<Secret>,
    /// Browser origins allowed to call the JSON API (CORS); empty: no CORS headers at all.
    pub cors_origins: Vec<String>,
}

/// One line naming the variable and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn err(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

impl Config {
    /// Reads the process environment (after `.env`, which `main` loads).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &'static str| get(name).filter(|v| !v.is_empty());
        let seconds = |name: &'static str, default: i64, min: i64, max: i64| match var(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| {
                    err(
                        name,
                        format!("expected whole seconds from {min} to {max}, got {v:?}"),
                    )
                }),
        };

        let database_url = var("DATABASE_URL").map(Secret::new).ok_or_else(|| {
            err(
                "DATABASE_URL",
                "not set (e.g. postgres://postgres@127.0.0.1:5432/authd)",
            )
        })?;
        let bind = match var("AUTHD_BIND") {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(v) => v.parse().map_err(|_| {
                err(
                    "AUTHD_BIND",
                    format!("expected HOST:PORT such as 127.0.0.1:8080, got {v:?}"),
                )
            })?,
        };
        let issuer = var("AUTHD_ISSUER").unwrap_or_else(|| "authd".into());
        let audience = var("AUTHD_AUDIENCE").unwrap_or_else(|| "authd".into());
        let access_ttl_secs = seconds("AUTHD_ACCESS_TTL", 900, 1, 86_400)?;
        let refresh_ttl_secs = seconds("AUTHD_REFRESH_TTL", 2_592_000, 60, 31_536_000)?;
        let refresh_grace_secs = seconds("AUTHD_REFRESH_GRACE", 10, 0, 300)?;
        let min_length = match var("AUTHD_PASSWORD_MIN_LENGTH") {
            None => 12,
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (8..=PasswordPolicy::MAX_LENGTH).contains(n))
                .ok_or_else(|| {
                    err(
                        "AUTHD_PASSWORD_MIN_LENGTH",
                        format!("expected 8 to 128, got {v:?}"),
                    )
                })?,
        };
        let jwt_alg = match var("AUTHD_JWT_ALG").as_deref() {
            None | Some("EdDSA") => JwtAlg::EdDSA,
            Some("ES256") => JwtAlg::Es256,
            Some("RS256") => JwtAlg::Rs256,
            Some("HS256") => JwtAlg::Hs256,
            Some(other) => {
                return Err(err(
                    "AUTHD_JWT_ALG",
                    format!("expected EdDSA, ES256, RS256 or HS256, got {other:?}"),
                ));
            }
        };
        let jwt_secret = get("AUTHD_JWT_SECRET").map(Secret::new);
        if jwt_alg == JwtAlg::Hs256 {
            match &jwt_secret {
                Some(s) if s.expose().len() >= 32 => {}
                Some(_) => {
                    return Err(err(
                        "AUTHD_JWT_SECRET",
                        "must be at least 32 bytes for HS256",
                    ));
                }
                None => {
                    return Err(err(
                        "AUTHD_JWT_SECRET",
                        "required when AUTHD_JWT_ALG=HS256 (at least 32 bytes)",
                    ));
                }
            }
        }
        let bootstrap_admin = match var("AUTHD_BOOTSTRAP_ADMIN") {
            None => None,
            Some(v) => match v.split_once(':') {
                Some((user, pw)) if !user.is_empty() && !pw.is_empty() => {
                    Some((user.to_owned(), Secret::new(pw)))
                }
                _ => return Err(err("AUTHD_BOOTSTRAP_ADMIN", "expected USERNAME:PASSWORD")),
            },
        };
        let cookie_secure = match var("AUTHD_COOKIE_SECURE")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("true" | "1" | "yes") => true,
            Some("false" | "0" | "no") => false,
            Some(other) => {
                return Err(err(
                    "AUTHD_COOKIE_SECURE",
                    format!("expected true or false, got {other:?}"),
                ));
            }
        };
        let trusted_proxies = var("AUTHD_TRUSTED_PROXIES")
            .unwrap_or_else(|| "127.0.0.1/32,::1/128".into())
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| parse_net(s).map_err(|m| err("AUTHD_TRUSTED_PROXIES", m)))
            .collect::<Result<Vec<_>, _>>()?;

        let dashboard_idle_secs = seconds("AUTHD_DASHBOARD_IDLE_TIMEOUT", 1800, 60, 86_400)?;
        let dashboard_absolute_secs =
            seconds("AUTHD_DASHBOARD_ABSOLUTE_TIMEOUT", 43_200, 300, 604_800)?;

        let hash_queue = match var("AUTHD_HASH_QUEUE") {
            None => None,
            Some(v) => Some(
                v.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=100_000).contains(n))
                    .ok_or_else(|| {
                        err(
                            "AUTHD_HASH_QUEUE",
                            format!("expected 1 to 100000, got {v:?}"),
                        )
                    })?,
            ),
        };

        let db_pool_size = match var("AUTHD_DB_POOL_SIZE") {
            None => 16,
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=1_000).contains(n))
                .ok_or_else(|| {
                    err(
                        "AUTHD_DB_POOL_SIZE",
                        format!("expected 1 to 1000 connections, got {v:?}"),
                    )
                })?,
        };

        let key_encryption_key = var("AUTHD_KEY_ENCRYPTION_KEY").map(Secret::new);
        if let Some(kek) = &key_encryption_key {
            use base64::Engine;
            let decoded = base64::engine::general_purpose::STANDARD.decode(kek.expose().trim());
            if decoded.map_or(true, |k| k.len() != 32) {
                return Err(err(
                    "AUTHD_KEY_ENCRYPTION_KEY",
                    "expected 32 random bytes in base64 (e.g. from: openssl rand -base64 32)",
                ));
            }
        }
        let jwt_secret_previous = var("AUTHD_JWT_SECRET_PREVIOUS").map(Secret::new);
        if let Some(previous) = &jwt_secret_previous
            && previous.expose().len() < 32
        {
            return Err(err(
                "AUTHD_JWT_SECRET_PREVIOUS",
                "must be at least 32 bytes, like AUTHD_JWT_SECRET",
            ));
        }

        let mut cors_origins = Vec::new();
        for origin in var("AUTHD_CORS_ORIGINS").unwrap_or_default().split(',') {
            let origin = origin.trim();
            if origin.is_empty() {
                continue;
            }
            let origin = Origin::parse(origin)
                .map_err(|m| err("AUTHD_CORS_ORIGINS", m))?
                .into_string();
            if !cors_origins.contains(&origin) {
                cors_origins.push(origin);
            }
        }

        Ok(Self {
            database_url,
            bind,
            issuer,
            audience,
            access_ttl_secs,
            refresh_ttl_secs,
            refresh_grace_secs,
            password_policy: PasswordPolicy { min_length },
            jwt_alg,
            jwt_secret,
            bootstrap_admin,
            cookie_secure,
            trusted_proxies,
            dashboard_idle_secs,
            dashboard_absolute_secs,
            hash_queue,
            db_pool_size,
            key_encryption_key,
            jwt_secret_previous,
            cors_origins,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut env: HashMap<String, String> =
            HashMap::from([("DATABASE_URL".into(), "postgres://x/y".into())]);
        env.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Config::from_lookup(|k| env.get(k).cloned())
    }

    #[test]
    fn defaults_match_the_contract() {
        let c = config(&[]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!((c.issuer.as_str(), c.audience.as_str()), ("authd", "authd"));
        assert_eq!(
            (c.access_ttl_secs, c.refresh_ttl_secs, c.refresh_grace_secs),
            (900, 2_592_000, 10)
        );
        assert_eq!(c.password_policy.min_length, 12);
        assert_eq!(c.jwt_alg, JwtAlg::EdDSA);
        assert!(c.cookie_secure);
        assert_eq!(c.db_pool_size, 16);
    }

    #[test]
    fn each_error_names_its_variable() {
        for (var, value) in [
            ("AUTHD_BIND", "nowhere"),
            ("AUTHD_ACCESS_TTL", "-1"),
            ("AUTHD_REFRESH_TTL", "soon"),
            ("AUTHD_REFRESH_GRACE", "9999"),
            ("AUTHD_PASSWORD_MIN_LENGTH", "7"),
            ("AUTHD_JWT_ALG", "none"),
            ("AUTHD_BOOTSTRAP_ADMIN", "nopassword"),
            ("AUTHD_COOKIE_SECURE", "maybe"),
            ("AUTHD_TRUSTED_PROXIES", "10.0.0.0/33"),
            ("AUTHD_DASHBOARD_IDLE_TIMEOUT", "0"),
            ("AUTHD_DASHBOARD_ABSOLUTE_TIMEOUT", "forever"),
            ("AUTHD_HASH_QUEUE", "0"),
            ("AUTHD_DB_POOL_SIZE", "0"),
            ("AUTHD_DB_POOL_SIZE", "many"),
            ("AUTHD_KEY_ENCRYPTION_KEY", "c2hvcnQ="),
            ("AUTHD_KEY_ENCRYPTION_KEY", "not base64 at all!"),
            ("AUTHD_JWT_SECRET_PREVIOUS", "short"),
            ("AUTHD_CORS_ORIGINS", "*"),
            ("AUTHD_CORS_ORIGINS", "null"),
            ("AUTHD_CORS_ORIGINS", "https://ok.example,app.example.org"),
            ("AUTHD_CORS_ORIGINS", "https://app.example.org/"),
            ("AUTHD_CORS_ORIGINS", "ftp://app.example.org"),
            ("AUTHD_CORS_ORIGINS", "https://app.example.org:99999"),
            ("AUTHD_CORS_ORIGINS", "https://bad_host.example"),
        ] {
            let e = config(&[(var, value)]).unwrap_err();
            assert_eq!(e.var, var);
            assert!(e.to_string().contains(var));
        }
        assert_eq!(
            Config::from_lookup(|_| None).unwrap_err().var,
            "DATABASE_URL"
        );
    }

    #[test]
    fn hs256_needs_a_32_byte_secret() {
        assert_eq!(
            config(&[("AUTHD_JWT_ALG", "HS256")]).unwrap_err().var,
            "AUTHD_JWT_SECRET"
        );
        let short = config(&[("AUTHD_JWT_ALG", "HS256"), ("AUTHD_JWT_SECRET", "short")]);
        assert_eq!(short.unwrap_err().var, "AUTHD_JWT_SECRET");
        let ok = config(&[
            ("AUTHD_JWT_ALG", "HS256"),
            ("AUTHD_JWT_SECRET", &"k".repeat(32)),
        ]);
        assert_eq!(ok.unwrap().jwt_alg, JwtAlg::Hs256);
    }

    #[test]
    fn debug_output_hides_secrets() {
        let c = config(&[
            (
                "AUTHD_KEY_ENCRYPTION_KEY",
                "c2VjcmV0LWtlay1zZWNyZXQta2VrLXNlY3JldC1rZWs=",
            ),
            ("AUTHD_JWT_ALG", "HS256"),
            ("AUTHD_JWT_SECRET", "super-secret-value-of-32-bytes!!"),
            ("AUTHD_BOOTSTRAP_ADMIN", "root:hunter2hunter2"),
        ])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("super-secret")
                && !shown.contains("hunter2")
                && !shown.contains("postgres://")
                && !shown.contains("c2VjcmV0")
        );
    }

    #[test]
    fn cors_origins_are_normalised_as_browsers_send_them() {
        assert!(config(&[]).unwrap().cors_origins.is_empty());
        assert!(
            config(&[("AUTHD_CORS_ORIGINS", " , ")])
                .unwrap()
                .cors_origins
                .is_empty()
        );
        let c = config(&[(
            "AUTHD_CORS_ORIGINS",
            "https://App.Example.org:443, http://localhost:5173,http://[::1]:8080,https://app.example.org",
        )])
        .unwrap();
        assert_eq!(
            c.cors_origins,
            [
                "https://app.example.org",
                "http://localhost:5173",
                "http://[::1]:8080"
            ]
        );
    }

    #[test]
    fn trusted_proxies_are_ranges_or_single_addresses() {
        let c = config(&[("AUTHD_TRUSTED_PROXIES", "10.1.0.0/16, 192.0.2.7,::1/128")]).unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(c.trusted_proxies[0].contains(&ip("10.1.200.3")));
        assert!(!c.trusted_proxies[0].contains(&ip("10.2.0.1")));
        assert!(c.trusted_proxies[1].contains(&ip("192.0.2.7")));
        assert!(!c.trusted_proxies[1].contains(&ip("192.0.2.8")));
        assert!(c.trusted_proxies[2].contains(&ip("::1")));
    }
}
