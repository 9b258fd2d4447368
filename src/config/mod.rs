//! Typed configuration from the environment. Every error names its variable; secrets never reach
//! `Debug` or the log.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

use crate::domain::{Origin, PasswordPolicy};

mod throttle;
pub use throttle::ThrottleConfig;
mod hash_priority;
pub use hash_priority::HashPriority;

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

/// How log lines are written to standard error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// env_logger's plain lines.
    Text,
    /// One JSON object per line.
    Json,
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

/// `http(s)://host[:port][/path]`, without query, fragment, credentials or a trailing slash: what
/// a link is built on by appending `/reset-password?token=...`.
fn parse_public_url(v: &str) -> Result<String, String> {
    let v = v.trim().trim_end_matches('/');
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"))
        .ok_or_else(|| format!("expected a URL such as https://auth.example.org, got {v:?}"))?;
    let host = rest.split('/').next().unwrap_or_default();
    let bad = |c: char| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '@');
    if host.is_empty() || rest.chars().any(bad) {
        return Err(format!(
            "expected a URL such as https://auth.example.org (no query, fragment or credentials), got {v:?}"
        ));
    }
    Ok(v.to_owned())
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
    /// How the hashing threads are scheduled against the threads answering requests.
    pub hash_priority: HashPriority,
    /// Database connections this instance keeps at most.
    pub db_pool_size: u32,
    /// 32 bytes, base64: seals private signing keys at rest.
    pub key_encryption_key: Option<Secret>,
    /// HS256 only: the previous secret, still accepted for verification during a change.
    pub jwt_secret_previous: Option<Secret>,
    pub log_format: LogFormat,
    /// Audit events older than this many days are purged.
    pub audit_retention_days: u32,
    /// Seconds between two runs of the housekeeping job in `serve`; 0: only `authd purge` runs it.
    pub purge_interval_secs: u64,
    /// Browser origins allowed to call the JSON API (CORS); empty: no CORS headers at all.
    pub cors_origins: Vec<String>,
    /// The per-address bucket and the failed-login limit.
    pub throttle: ThrottleConfig,
    /// Seconds a request body may take to arrive in full; then 408 and the connection closes.
    pub body_timeout_secs: u64,
    /// Open client connections this instance holds at most (shared out among the workers).
    pub max_connections: usize,
    /// Open connections one client address may hold when it connects directly (not through a
    /// trusted proxy, where the proxy must count).
    pub max_connections_per_address: usize,
    /// Lifetime of a password-reset link, in seconds.
    pub reset_ttl_secs: i64,
    /// The external base URL (scheme, host, optional path; no trailing slash): links in mails and
    /// reset links start with it.
    pub public_url: String,
    /// `AUTHD_SMTP_URL` + `AUTHD_MAIL_FROM`; `None`: this instance sends no mail.
    pub mail: Option<MailConfig>,
    /// Seconds before the first retry of a mail that could not be sent (doubling, at most 1 h).
    pub mail_retry_secs: u64,
}

/// Where mail goes and whom it is from.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `smtp://host:25`, `smtps://user:pass@host:465`, `smtp://host:587?tls=required`: the
    /// password in it is a secret.
    pub smtp_url: Secret,
    /// `authd <noreply@example.org>` or a bare address.
    pub from: String,
}

/// The mail settings, checked with the transport's own parser (nothing connects here).
fn parse_mail(
    smtp_url: Option<String>,
    from: Option<String>,
) -> Result<Option<MailConfig>, ConfigError> {
    use lettre::AsyncSmtpTransport;
    use lettre::Tokio1Executor;
    use lettre::message::Mailbox;
    let Some(url) = smtp_url else {
        return Ok(None);
    };
    // The transport's errors never quote the URL, so none of this can leak its password.
    if let Err(e) = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.trim()) {
        return Err(err(
            "AUTHD_SMTP_URL",
            format!("expected smtp://HOST:PORT or smtps://USER:PASSWORD@HOST:PORT ({e})"),
        ));
    }
    let from = from.ok_or_else(|| {
        err(
            "AUTHD_MAIL_FROM",
            "required with AUTHD_SMTP_URL (e.g. authd <noreply@example.org>)",
        )
    })?;
    if let Err(e) = from.trim().parse::<Mailbox>() {
        return Err(err(
            "AUTHD_MAIL_FROM",
            format!("expected an address such as authd <noreply@example.org> ({e})"),
        ));
    }
    Ok(Some(MailConfig {
        smtp_url: Secret::new(url.trim()),
        from: from.trim().to_owned(),
    }))
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

        let hash_priority = match var("AUTHD_HASH_PRIORITY") {
            None => HashPriority::DEFAULT,
            Some(v) => HashPriority::parse(&v).map_err(|m| err("AUTHD_HASH_PRIORITY", m))?,
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

        let log_format = match var("AUTHD_LOG_FORMAT").map(|v| v.to_ascii_lowercase()) {
            None => LogFormat::Text,
            Some(v) if v == "text" => LogFormat::Text,
            Some(v) if v == "json" => LogFormat::Json,
            Some(v) => {
                return Err(err(
                    "AUTHD_LOG_FORMAT",
                    format!("expected text or json, got {v:?}"),
                ));
            }
        };
        let audit_retention_days = var("AUTHD_AUDIT_RETENTION_DAYS").map_or(Ok(90), |v| {
            v.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=36_500).contains(n))
                .ok_or_else(|| {
                    err(
                        "AUTHD_AUDIT_RETENTION_DAYS",
                        format!("expected 1 to 36500 days, got {v:?}"),
                    )
                })
        })?;
        let purge_interval_secs =
            seconds("AUTHD_PURGE_INTERVAL", 3_600, 0, 604_800)?.unsigned_abs();
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

        let throttle = ThrottleConfig::from_lookup(var)?;
        let body_timeout_secs = seconds("AUTHD_BODY_TIMEOUT", 15, 1, 300)?.unsigned_abs();
        let count = |name: &'static str, default: usize| match var(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=1_000_000).contains(n))
                .ok_or_else(|| {
                    err(
                        name,
                        format!("expected 1 to 1000000 connections, got {v:?}"),
                    )
                }),
        };
        let max_connections = count("AUTHD_MAX_CONNECTIONS", 10_000)?;
        let max_connections_per_address = count("AUTHD_MAX_CONNECTIONS_PER_ADDRESS", 128)?;
        let reset_ttl_secs = seconds("AUTHD_RESET_TTL", 3_600, 1, 604_800)?;
        let public_url = match var("AUTHD_PUBLIC_URL") {
            None => format!("http://{bind}"),
            Some(v) => parse_public_url(&v).map_err(|m| err("AUTHD_PUBLIC_URL", m))?,
        };
        let mail = parse_mail(var("AUTHD_SMTP_URL"), var("AUTHD_MAIL_FROM"))?;
        let mail_retry_secs = seconds("AUTHD_MAIL_RETRY", 30, 1, 3_600)?.unsigned_abs();

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
            hash_priority,
            db_pool_size,
            key_encryption_key,
            jwt_secret_previous,
            log_format,
            audit_retention_days,
            purge_interval_secs,
            cors_origins,
            throttle,
            body_timeout_secs,
            max_connections,
            max_connections_per_address,
            reset_ttl_secs,
            public_url,
            mail,
            mail_retry_secs,
        })
    }
}

#[cfg(test)]
mod tests;
