//! `AppState`: what every handler and service may need; cheap to clone.

use std::net::IpAddr;
use std::sync::Arc;

use crate::auth::form_tokens::FormTokenKey;
use crate::auth::passwords::Hasher;
use crate::auth::revocation::Revocation;
use crate::auth::throttle::ThrottleState;
use crate::auth::tokens::TokenService;
use crate::config::Config;
use crate::db::DbPool;

#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub hasher: Hasher,
    pub tokens: Arc<TokenService>,
    pub revocation: Arc<Revocation>,
    pub config: Arc<Config>,
    /// Signs the dashboard login form's CSRF tokens; the same key on every instance.
    pub form_key: Arc<FormTokenKey>,
    /// This instance's throttling state: buckets per address, failures per name and address
    /// (rules in `services::throttle`).
    pub throttle: Arc<ThrottleState<IpAddr, String>>,
    /// Wakes this instance's mail worker when a request has queued mail.
    pub mail_wake: Arc<tokio::sync::Notify>,
}
