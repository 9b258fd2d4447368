//! The configuration's parsing: defaults, errors naming their variable, secrets kept out of
//! `Debug`.

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
    assert_eq!(c.log_format, LogFormat::Text);
    assert_eq!(c.audit_retention_days, 90);
    assert_eq!(c.purge_interval_secs, 3_600);
    let t = c.throttle;
    assert_eq!(
        (
            t.ip_per_minute.get(),
            t.ip_burst.get(),
            t.login_max_failures.get()
        ),
        (60, 20, 5)
    );
    assert_eq!(c.reset_ttl_secs, 3_600);
    assert_eq!(c.public_url, "http://127.0.0.1:8080");
}

#[test]
fn the_public_url_follows_the_bind_address_unless_set_and_loses_its_trailing_slash() {
    let c = config(&[("AUTHD_BIND", "0.0.0.0:9000")]).unwrap();
    assert_eq!(c.public_url, "http://0.0.0.0:9000");
    let c = config(&[("AUTHD_PUBLIC_URL", "https://auth.example.org/sso/")]).unwrap();
    assert_eq!(c.public_url, "https://auth.example.org/sso");
}

#[test]
fn logs_can_be_json_and_the_automatic_purge_can_be_off() {
    let c = config(&[
        ("AUTHD_LOG_FORMAT", "JSON"),
        ("AUTHD_PURGE_INTERVAL", "0"),
        ("AUTHD_AUDIT_RETENTION_DAYS", "365"),
    ])
    .unwrap();
    assert_eq!(c.log_format, LogFormat::Json);
    assert_eq!((c.purge_interval_secs, c.audit_retention_days), (0, 365));
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
        ("AUTHD_HASH_PRIORITY", "realtime"),
        ("AUTHD_DB_POOL_SIZE", "0"),
        ("AUTHD_DB_POOL_SIZE", "many"),
        ("AUTHD_KEY_ENCRYPTION_KEY", "c2hvcnQ="),
        ("AUTHD_KEY_ENCRYPTION_KEY", "not base64 at all!"),
        ("AUTHD_JWT_SECRET_PREVIOUS", "short"),
        ("AUTHD_LOG_FORMAT", "xml"),
        ("AUTHD_AUDIT_RETENTION_DAYS", "0"),
        ("AUTHD_AUDIT_RETENTION_DAYS", "forever"),
        ("AUTHD_PURGE_INTERVAL", "-1"),
        ("AUTHD_PURGE_INTERVAL", "hourly"),
        ("AUTHD_CORS_ORIGINS", "*"),
        ("AUTHD_CORS_ORIGINS", "null"),
        ("AUTHD_CORS_ORIGINS", "https://ok.example,app.example.org"),
        ("AUTHD_CORS_ORIGINS", "https://app.example.org/"),
        ("AUTHD_CORS_ORIGINS", "ftp://app.example.org"),
        ("AUTHD_CORS_ORIGINS", "https://app.example.org:99999"),
        ("AUTHD_CORS_ORIGINS", "https://bad_host.example"),
        ("AUTHD_RATE_IP_PER_MINUTE", "0"),
        ("AUTHD_RATE_IP_BURST", "lots"),
        ("AUTHD_LOGIN_MAX_FAILURES", "-5"),
        ("AUTHD_RESET_TTL", "0"),
        ("AUTHD_RESET_TTL", "an hour"),
        ("AUTHD_PUBLIC_URL", "auth.example.org"),
        ("AUTHD_PUBLIC_URL", "https://"),
        ("AUTHD_PUBLIC_URL", "https://auth.example.org/?x=1"),
        ("AUTHD_PUBLIC_URL", "https://user:pw@auth.example.org"),
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

#[test]
fn connection_limits_default_to_15_s_10000_and_128_and_can_be_set() {
    let c = config(&[]).unwrap();
    assert_eq!(
        (
            c.body_timeout_secs,
            c.max_connections,
            c.max_connections_per_address
        ),
        (15, 10_000, 128)
    );
    let c = config(&[
        ("AUTHD_BODY_TIMEOUT", "2"),
        ("AUTHD_MAX_CONNECTIONS", "40"),
        ("AUTHD_MAX_CONNECTIONS_PER_ADDRESS", "4"),
    ])
    .unwrap();
    assert_eq!(
        (
            c.body_timeout_secs,
            c.max_connections,
            c.max_connections_per_address
        ),
        (2, 40, 4)
    );
}

#[test]
fn a_bad_connection_limit_names_its_variable() {
    for (var, value) in [
        ("AUTHD_BODY_TIMEOUT", "0"),
        ("AUTHD_BODY_TIMEOUT", "forever"),
        ("AUTHD_MAX_CONNECTIONS", "0"),
        ("AUTHD_MAX_CONNECTIONS_PER_ADDRESS", "-1"),
    ] {
        let e = config(&[(var, value)]).unwrap_err();
        assert_eq!(e.var, var, "{value}");
    }
}
