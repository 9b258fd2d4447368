//! What authd counts, and the one place each metric is named. Any floor records through these
//! functions (the `metrics` facade underneath: no exporter types, no HTTP); `exporter` turns the
//! numbers into the Prometheus text format `GET /metrics` serves. Until the exporter is installed
//! (the command-line tools never install it), recording does nothing.

pub mod exporter;

use std::time::Duration;

use metrics::{counter, gauge, histogram};

pub const HTTP_REQUESTS: &str = "authd_http_requests_total";
pub const HTTP_REQUEST_DURATION: &str = "authd_http_request_duration_seconds";
pub const LOGINS: &str = "authd_logins_total";
pub const REFRESHES: &str = "authd_refreshes_total";
pub const TOKEN_VERIFICATIONS: &str = "authd_token_verifications_total";
pub const SESSIONS_REVOKED: &str = "authd_sessions_revoked_total";
pub const HASH_QUEUE_DEPTH: &str = "authd_hash_queue_depth";
pub const HASH_WAIT: &str = "authd_hash_wait_seconds";
pub const DB_POOL_CONNECTIONS: &str = "authd_db_pool_connections";
pub const REVOCATION_SYNC_LAG: &str = "authd_revocation_sync_lag_seconds";
pub const PURGED_ROWS: &str = "authd_purged_rows_total";

/// The route label of a request that matched no route: raw paths never become labels.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// How a login attempt ended (either face).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    Success,
    /// Unknown user, wrong password, or (dashboard) not an administrator.
    Failure,
    /// Refused before the password was checked: too many checks waiting.
    Throttled,
    /// The right password for a disabled account.
    Disabled,
}

impl LoginOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Throttled => "throttled",
            Self::Disabled => "disabled",
        }
    }
}

/// How a refresh ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshOutcome {
    Success,
    /// Unknown, expired, revoked, or a lost race within the grace period.
    Invalid,
    /// A rotated token came back after the grace period: its session was revoked.
    Reuse,
}

impl RefreshOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Invalid => "invalid",
            Self::Reuse => "reuse",
        }
    }
}

pub fn login(outcome: LoginOutcome) {
    counter!(LOGINS, "outcome" => outcome.as_str()).increment(1);
}

pub fn refresh(outcome: RefreshOutcome) {
    counter!(REFRESHES, "outcome" => outcome.as_str()).increment(1);
}

/// One access token checked: `result` is `valid` or why it was refused (a short fixed name).
pub fn token_verification(result: &'static str) {
    counter!(TOKEN_VERIFICATIONS, "result" => result).increment(1);
}

/// `count` sessions ended for `reason` (the reason stored in `sessions.revoked_reason`).
pub fn sessions_revoked(reason: &'static str, count: usize) {
    if count > 0 {
        counter!(SESSIONS_REVOKED, "reason" => reason).increment(count as u64);
    }
}

/// Password checks waiting for a hashing thread right now.
pub fn hash_queue_depth(depth: usize) {
    gauge!(HASH_QUEUE_DEPTH).set(depth as f64);
}

/// How long a password check waited for a hashing thread.
pub fn hash_wait(waited: Duration) {
    histogram!(HASH_WAIT).record(waited.as_secs_f64());
}

/// The database pool as it is now.
pub fn db_pool(idle: u32, in_use: u32) {
    gauge!(DB_POOL_CONNECTIONS, "state" => "idle").set(f64::from(idle));
    gauge!(DB_POOL_CONNECTIONS, "state" => "in_use").set(f64::from(in_use));
}

/// Time since the revocation state last read the database; `None` (never) is +Inf.
pub fn revocation_sync_lag(lag: Option<Duration>) {
    gauge!(REVOCATION_SYNC_LAG).set(lag.map_or(f64::INFINITY, |d| d.as_secs_f64()));
}

/// One HTTP request answered. `route` is the route pattern (`/api/admin/users/{id}`) or
/// [`UNMATCHED_ROUTE`]; `method` one of the standard methods or `other`.
pub fn http_request(route: String, method: &'static str, status: u16, took: Duration) {
    counter!(
        HTTP_REQUESTS,
        "route" => route.clone(),
        "method" => method,
        "status" => status.to_string()
    )
    .increment(1);
    histogram!(HTTP_REQUEST_DURATION, "route" => route).record(took.as_secs_f64());
}

/// Rows the housekeeping job deleted, by table.
pub fn purged(table: &'static str, rows: u64) {
    if rows > 0 {
        counter!(PURGED_ROWS, "table" => table).increment(rows);
    }
}

/// Help texts of every family, for the exporter.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route pattern, method and status"
    );
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request, by route pattern"
    );
    describe_counter!(
        LOGINS,
        "Login attempts (API and dashboard) by outcome: success, failure, throttled, disabled"
    );
    describe_counter!(
        REFRESHES,
        "Refresh-token exchanges by outcome: success, invalid, reuse"
    );
    describe_counter!(
        TOKEN_VERIFICATIONS,
        "Bearer access tokens checked, by result (valid, or why refused)"
    );
    describe_counter!(SESSIONS_REVOKED, "Sessions ended, by reason");
    describe_gauge!(
        HASH_QUEUE_DEPTH,
        "Password checks waiting for a hashing thread"
    );
    describe_histogram!(
        HASH_WAIT,
        Unit::Seconds,
        "Time a password check waited for a hashing thread"
    );
    describe_gauge!(
        DB_POOL_CONNECTIONS,
        "Database connections of this instance, idle and in use"
    );
    describe_gauge!(
        REVOCATION_SYNC_LAG,
        Unit::Seconds,
        "Time since the revocation state was last synced from the database"
    );
    describe_counter!(
        PURGED_ROWS,
        "Rows deleted by housekeeping, by table (expired sessions and refresh tokens, old audit events)"
    );
}
