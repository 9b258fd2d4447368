//! One count and one access-log line per request: the route pattern (never the raw path) for the
//! metrics; for the log, the request id, the client address as authd believes it (trusted
//! proxies), method, path with secret-looking query values masked, route, status and duration.

use std::time::Instant;

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;

use crate::identity::client_info;
use crate::request_id;
use crate::telemetry::{self, UNMATCHED_ROUTE};

/// The log target of access lines (`RUST_LOG=authd::access=off` silences them alone).
pub const TARGET: &str = "authd::access";

/// What replaces a masked value.
pub const MASK: &str = "***";

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    // Read before routing: the router needs the request to itself (no clone may be held).
    // The pattern comes from the route table and the path alone.
    let route = req
        .match_pattern()
        .filter(|p| !crate::methods::is_catch_all(p))
        .unwrap_or_else(|| UNMATCHED_ROUTE.to_owned());
    let method = req.method().clone();
    let logged = log::log_enabled!(target: TARGET, log::Level::Info).then(|| {
        let client = client_info(req.request()).ip.unwrap_or_else(|| "-".into());
        (client, masked_path(req.path(), req.query_string()))
    });
    let result = next.call(req).await;
    let took = started.elapsed();
    let status = match &result {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    if let Some((client, path)) = logged {
        let request_id = result
            .as_ref()
            .ok()
            .and_then(|res| res.headers().get(request_id::HEADER))
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        log::info!(
            target: TARGET,
            request_id = request_id,
            client = client.as_str(),
            method = method.as_str(),
            path = path.as_str(),
            route = route.as_str(),
            status = status.as_u16(),
            duration_ms = (took.as_secs_f64() * 1e6).round() / 1e3;
            "request"
        );
    }
    telemetry::http_request(route, method_label(&method), status.as_u16(), took);
    result
}

/// The method as a metric label: the standard ones by name, anything else `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Query parameters whose names contain one of these (case-insensitively, after
/// percent-decoding) have their values masked: tokens, passwords, secrets, codes, keys.
const SECRET_NAME_PARTS: &[&str] = &[
    "token",
    "password",
    "passwd",
    "secret",
    "code",
    "key",
    "csrf",
    "session",
    "auth",
    "signature",
    "credential",
    "jwt",
    "assertion",
];

/// `path?query` with the value of every secret-looking query parameter replaced by `***`; so is
/// any value that looks like a JWT, whatever its name.
pub fn masked_path(path: &str, query: &str) -> String {
    if query.is_empty() {
        return path.to_owned();
    }
    let masked: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if secret_name(name) || looks_like_jwt(value) => {
                format!("{name}={MASK}")
            }
            None if looks_like_jwt(pair) => MASK.to_owned(),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", masked.join("&"))
}

fn secret_name(name: &str) -> bool {
    let name = percent_decode(name).to_ascii_lowercase();
    SECRET_NAME_PARTS.iter().any(|part| name.contains(part))
}

/// A compact JWS: `eyJ…` (a base64url JSON object) with two dots.
fn looks_like_jwt(value: &str) -> bool {
    let value = percent_decode(value);
    value.trim_start().starts_with("eyJ") && value.matches('.').count() >= 2
}

/// `%XX` decoded (and `+` as a space), bytes that are not UTF-8 replaced: enough to compare names.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_like_query_values_are_masked() {
        assert_eq!(
            masked_path("/api/auth/me", "access_token=abc&page=2"),
            "/api/auth/me?access_token=***&page=2"
        );
        for name in [
            "token",
            "refresh_token",
            "csrf_token",
            "code",
            "password",
            "new_password",
            "client_secret",
            "api_key",
            "ACCESS_TOKEN",
            "acc%65ss_token",
        ] {
            assert_eq!(
                masked_path("/x", &format!("{name}=s3cr3t")),
                format!("/x?{name}=***"),
                "{name}"
            );
        }
    }

    #[test]
    fn ordinary_parameters_and_paths_stay_readable() {
        assert_eq!(masked_path("/admin/users", ""), "/admin/users");
        assert_eq!(
            masked_path("/admin/users", "q=alice&role=admin&page=3"),
            "/admin/users?q=alice&role=admin&page=3"
        );
        assert_eq!(masked_path("/x", "flag&=&a=%"), "/x?flag&=&a=%");
    }

    #[test]
    fn a_jwt_is_masked_whatever_its_name() {
        let jwt = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln";
        assert_eq!(masked_path("/x", &format!("q={jwt}")), "/x?q=***");
        assert_eq!(masked_path("/x", jwt), "/x?***");
    }
}
