//! `GET /metrics`. Every server in this test process shares one recorder (the `metrics` facade has
//! a single global one), and other tests run beside these: so the tests compare two scrapes around
//! a scripted run and check that each family is there and moved at least as far as the run moved
//! it, never exact values.

use std::collections::{BTreeMap, HashMap};

use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp, spawn_admin_app, spawn_app_with};

type Labels = BTreeMap<String, String>;

/// One scrape: each sample by metric name and its labels.
struct Scrape {
    text: String,
    samples: HashMap<String, Vec<(Labels, f64)>>,
}

impl Scrape {
    async fn of(app: &TestApp) -> Self {
        let res = app.get("/metrics").await;
        assert_eq!(res.status(), StatusCode::OK);
        let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        let text = res.text().await.unwrap();
        let mut samples: HashMap<_, Vec<_>> = HashMap::new();
        for line in text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            let (series, value) = line.rsplit_once(' ').expect("name value");
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("value of {line}"));
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, parse_labels(rest.trim_end_matches('}'))),
                None => (series, BTreeMap::new()),
            };
            samples
                .entry(name.to_owned())
                .or_default()
                .push((labels, value));
        }
        Self { text, samples }
    }

    fn has_family(&self, name: &str) -> bool {
        self.samples.contains_key(name)
    }

    /// The sample with exactly these labels (0 when it is absent: a counter not yet moved).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let wanted: Labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.samples
            .get(name)
            .and_then(|s| s.iter().find(|(l, _)| *l == wanted))
            .map_or(0.0, |(_, v)| *v)
    }
}

fn parse_labels(text: &str) -> Labels {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while let Some((key, after)) = rest.split_once("=\"") {
        let end = after.find('"').expect("closing quote");
        labels.insert(
            key.trim_start_matches(',').to_owned(),
            after[..end].to_owned(),
        );
        rest = &after[end + 1..];
    }
    labels
}

/// Asserts that the sample grew by at least `by` between the scrapes.
fn moved(before: &Scrape, after: &Scrape, name: &str, labels: &[(&str, &str)], by: f64) {
    let (b, a) = (before.value(name, labels), after.value(name, labels));
    assert!(
        a - b >= by,
        "{name}{labels:?} moved from {b} to {a}, expected at least +{by}\n{}",
        after.text
    );
}

#[tokio::test]
async fn a_scripted_run_moves_every_metric_family() {
    let app = spawn_app_with(&[
        ("AUTHD_BOOTSTRAP_ADMIN", &format!("root:{PASSWORD}")),
        ("AUTHD_REFRESH_GRACE", "0"),
    ])
    .await;
    let before = Scrape::of(&app).await;

    // Register, log in (ok, wrong password, disabled account), refresh (ok, invalid, reuse),
    // verify (valid, malformed), log out.
    let alice = app.signed_in_user("alice").await;
    assert_eq!(
        app.login("alice", "not the password at all").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let rotated = app.refreshed(&alice.refresh_token).await;
    assert_eq!(
        app.refresh_status("no-such-refresh-token").await,
        StatusCode::UNAUTHORIZED
    );
    // The first token again, past the (zero) grace period: reuse, and the session ends.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    assert_eq!(
        app.refresh_status(&alice.refresh_token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.refresh_status(&rotated.refresh_token).await,
        StatusCode::UNAUTHORIZED
    );
    let second = alice.another_session(&app).await;
    assert_eq!(
        app.get_verify(&second.access_token, None).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get_verify("not.a.token", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.post_logout(&second.access_token).await.status(),
        StatusCode::NO_CONTENT
    );
    let admin = app.signed_in_admin().await;
    let bob = app.signed_in_user("bob").await;
    assert_eq!(
        app.post_admin_disable(&admin.access_token, &bob.id)
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.login("bob", PASSWORD).await.status(),
        StatusCode::FORBIDDEN
    );

    let after = Scrape::of(&app).await;
    let login = [("route", "/api/auth/login"), ("method", "POST")];
    moved(
        &before,
        &after,
        "authd_http_requests_total",
        &[login[0], login[1], ("status", "200")],
        3.0,
    );
    moved(
        &before,
        &after,
        "authd_http_requests_total",
        &[login[0], login[1], ("status", "401")],
        1.0,
    );
    moved(
        &before,
        &after,
        "authd_http_request_duration_seconds_count",
        &[login[0]],
        5.0,
    );
    moved(
        &before,
        &after,
        "authd_http_request_duration_seconds_bucket",
        &[login[0], ("le", "+Inf")],
        5.0,
    );
    for (outcome, n) in [("success", 4.0), ("failure", 1.0), ("disabled", 1.0)] {
        moved(
            &before,
            &after,
            "authd_logins_total",
            &[("outcome", outcome)],
            n,
        );
    }
    for outcome in ["success", "invalid", "reuse"] {
        moved(
            &before,
            &after,
            "authd_refreshes_total",
            &[("outcome", outcome)],
            1.0,
        );
    }
    for result in ["valid", "malformed"] {
        moved(
            &before,
            &after,
            "authd_token_verifications_total",
            &[("result", result)],
            1.0,
        );
    }
    for reason in ["logout", "refresh_reuse", "user_disabled"] {
        moved(
            &before,
            &after,
            "authd_sessions_revoked_total",
            &[("reason", reason)],
            1.0,
        );
    }
    moved(&before, &after, "authd_hash_wait_seconds_count", &[], 6.0);
    for family in [
        "authd_logins_total",
        "authd_hash_queue_depth",
        "authd_hash_wait_seconds_bucket",
        "authd_db_pool_connections",
        "authd_revocation_sync_lag_seconds",
    ] {
        assert!(
            after.has_family(family),
            "{family} missing:\n{}",
            after.text
        );
    }
    assert!(after.value("authd_logins_total", &[("outcome", "throttled")]) >= 0.0);
    assert!(
        after
            .text
            .contains("# TYPE authd_http_request_duration_seconds histogram")
    );
    assert!(
        after
            .text
            .contains("# TYPE authd_hash_wait_seconds histogram")
    );
    let idle = after.value("authd_db_pool_connections", &[("state", "idle")]);
    let in_use = after.value("authd_db_pool_connections", &[("state", "in_use")]);
    assert!(idle + in_use >= 1.0, "idle {idle}, in use {in_use}");
    let lag = after.value("authd_revocation_sync_lag_seconds", &[]);
    assert!((0.0..30.0).contains(&lag), "revocation sync lag {lag}");
}

#[tokio::test]
async fn route_labels_are_patterns_never_raw_paths() {
    let app = spawn_admin_app().await;
    let admin = app.signed_in_admin().await;
    let id = uuid::Uuid::now_v7();
    app.get_admin_user(&admin.access_token, id).await;
    let stray = format!("/no/such/page-{}", uuid::Uuid::now_v7().simple());
    assert_eq!(app.get(&stray).await.status(), StatusCode::NOT_FOUND);

    let scrape = Scrape::of(&app).await;
    assert!(
        scrape.value(
            "authd_http_requests_total",
            &[
                ("route", "/api/admin/users/{id}"),
                ("method", "GET"),
                ("status", "404")
            ]
        ) >= 1.0,
        "{}",
        scrape.text
    );
    assert!(
        scrape
            .samples
            .get("authd_http_requests_total")
            .unwrap()
            .iter()
            .any(|(labels, _)| labels.get("route").map(String::as_str) == Some("unmatched")),
        "{}",
        scrape.text
    );
    assert!(!scrape.text.contains(&id.to_string()));
    assert!(!scrape.text.contains("/no/such/page"));
}

#[tokio::test]
async fn a_full_hashing_queue_counts_as_throttled_logins() {
    let app = spawn_app_with(&[("AUTHD_HASH_QUEUE", "1")]).await;
    app.register("alice", PASSWORD).await;
    let before = Scrape::of(&app).await;
    let mut throttled = 0;
    for _ in 0..5 {
        let attempts = (0..32).map(|_| app.login("alice", PASSWORD));
        throttled += futures_util::future::join_all(attempts)
            .await
            .iter()
            .filter(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
            .count();
        if throttled > 0 {
            break;
        }
    }
    assert!(throttled > 0, "no login was refused with 429");
    let after = Scrape::of(&app).await;
    moved(
        &before,
        &after,
        "authd_logins_total",
        &[("outcome", "throttled")],
        throttled as f64,
    );
}

#[tokio::test]
async fn metrics_are_plain_text_and_not_cached() {
    let app = spawn_admin_app().await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(
        res.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = res.text().await.unwrap();
    assert!(text.contains("# TYPE authd_logins_total counter"), "{text}");
    assert!(text.contains("# HELP authd_refreshes_total "), "{text}");
}
