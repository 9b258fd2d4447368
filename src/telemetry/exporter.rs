//! The Prometheus exporter: one recorder per process (the `metrics` facade has one global
//! recorder), installed by the first server that starts, rendered by `GET /metrics`.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, gauge};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::*;

/// Buckets of request durations, seconds: a token check takes microseconds, a login tens of
/// milliseconds, anything near the top is a problem.
const DURATION_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Buckets of the wait for a hashing thread, seconds (one hash takes ~15 ms).
const HASH_WAIT_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// How often histogram samples are folded into their buckets when nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

fn build() -> Option<PrometheusHandle> {
    let installed = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(HTTP_REQUEST_DURATION.into()),
            DURATION_BUCKETS,
        )
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full(HASH_WAIT.into()), HASH_WAIT_BUCKETS))
        .and_then(PrometheusBuilder::install_recorder);
    let handle = match installed {
        Ok(handle) => handle,
        Err(e) => {
            log::warn!("metrics are not exported: {e}");
            return None;
        }
    };
    describe();
    register_series();
    let upkeep = handle.clone();
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            }
        });
    if let Err(e) = spawned {
        log::warn!("metrics upkeep thread not started (scrapes still fold samples): {e}");
    }
    Some(handle)
}

/// Every outcome of the fixed label sets, at zero: a family shows in the first scrape, and a
/// rate over it starts from a known value.
fn register_series() {
    for outcome in [
        LoginOutcome::Success,
        LoginOutcome::Failure,
        LoginOutcome::Throttled,
        LoginOutcome::Disabled,
    ] {
        counter!(LOGINS, "outcome" => outcome.as_str()).increment(0);
    }
    for outcome in [
        RefreshOutcome::Success,
        RefreshOutcome::Invalid,
        RefreshOutcome::Reuse,
    ] {
        counter!(REFRESHES, "outcome" => outcome.as_str()).increment(0);
    }
    counter!(TOKEN_VERIFICATIONS, "result" => "valid").increment(0);
    gauge!(HASH_QUEUE_DEPTH).increment(0.0);
}

/// Installs the process's recorder, once; later calls return the same handle. `None` when
/// another recorder was installed first (nothing of authd's does that).
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE.get_or_init(build).as_ref()
}

/// The current values in the Prometheus text format (empty when no recorder is installed).
pub fn render() -> String {
    install().map(PrometheusHandle::render).unwrap_or_default()
}
