use std::sync::Arc;

use actix_web::web;

use crate::auth::passwords::Hasher;
use crate::auth::revocation::Revocation;
use crate::auth::tokens::TokenService;
use crate::config::Config;
use crate::db::DbPool;

/// What every handler may need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub hasher: Hasher,
    pub tokens: web::Data<TokenService>,
    pub revocation: web::Data<Revocation>,
    pub config: Arc<Config>,
}
