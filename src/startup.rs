//! Builds the application: pool, migrations, keys, bootstrap admin, routes, listener.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_files::Files;
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{Condition, DefaultHeaders, Logger, from_fn};
use actix_web::{App, HttpServer, web};

use crate::api;
use crate::auth::client::TrustedProxies;
use crate::auth::keys::{KeyError, KeyRing};
use crate::auth::passwords::{Hasher, hash_blocking};
use crate::auth::revocation::Revocation;
use crate::auth::tokens::{LEEWAY_SECS, TokenService};
use crate::config::{Config, JwtAlg};
use crate::dashboard;
use crate::db::{self, DbPool, StoreError};
use crate::request_id;
use crate::services::users::{self, UserError};
use crate::state::AppState;

/// Password checks that may wait for a hashing thread, per core: ~1 s of work at ~30 ms a
/// hash. Beyond it a login is answered 429 at once.
pub const HASH_QUEUE_PER_CORE: usize = 32;

/// How long start-up waits for an unreachable database before giving up.
pub const DATABASE_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database unreachable at start (waited 30 s): {0}")]
    Database(StoreError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("signing keys: {0}")]
    Keys(#[from] KeyError),
    #[error("AUTHD_BOOTSTRAP_ADMIN: {0}")]
    Bootstrap(UserError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

pub struct Application {
    port: u16,
    server: Server,
}

/// Waits for the database, applies migrations, returns the pool.
pub fn prepare_database(config: &Config) -> Result<DbPool, StartupError> {
    let pool = db::build_pool(config.database_url.expose(), 16);
    db::wait_for_database(&pool, DATABASE_WAIT).map_err(StartupError::Database)?;
    let mut conn = pool
        .get()
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    for version in db::run_migrations(&mut conn)? {
        log::info!("applied migration {version}");
    }
    Ok(pool)
}

fn bootstrap_admin(pool: &DbPool, config: &Config) -> Result<(), StartupError> {
    let Some((username, password)) = &config.bootstrap_admin else {
        return Ok(());
    };
    let mut conn = pool
        .get()
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    if users::admin_exists(&mut conn).map_err(StartupError::Bootstrap)? {
        return Ok(());
    }
    let admin = users::create_admin(
        &mut conn,
        username,
        password.expose().to_owned(),
        config.password_policy,
        |pw| hash_blocking(pw.expose()),
    )
    .map_err(StartupError::Bootstrap)?;
    log::info!("created the bootstrap administrator {:?}", admin.username);
    Ok(())
}

fn static_dir() -> String {
    if std::path::Path::new("static").is_dir() {
        "static".into()
    } else {
        concat!(env!("CARGO_MANIFEST_DIR"), "/static").into()
    }
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let config = Arc::new(config);
        let setup_config = config.clone();
        let (pool, keys, revocation) = web::block(move || -> Result<_, StartupError> {
            let config = setup_config;
            let pool = prepare_database(&config)?;
            let keys = match (&config.jwt_alg, &config.jwt_secret) {
                (JwtAlg::Hs256, Some(secret)) => KeyRing::from_secret(secret),
                (alg, _) => {
                    let mut conn = pool
                        .get()
                        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                    KeyRing::load_or_create(&mut conn, *alg)?
                }
            };
            bootstrap_admin(&pool, &config)?;
            let revocation = Revocation::new(config.access_ttl_secs, LEEWAY_SECS as i64);
            let mut conn = pool
                .get()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            revocation
                .sync_from(&mut conn, chrono::Utc::now())
                .map_err(StoreError::from)?;
            Ok((pool, keys, revocation))
        })
        .await
        .map_err(|e| StartupError::Other(e.to_string()))??;

        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let hasher = Hasher::new(
            cores,
            config.hash_queue.unwrap_or(HASH_QUEUE_PER_CORE * cores),
        )
        .map_err(|e| StartupError::Other(e.to_string()))?;
        let tokens = web::Data::new(TokenService::new(
            keys,
            config.issuer.clone(),
            config.audience.clone(),
            config.access_ttl_secs,
        ));
        let revocation = web::Data::new(revocation);
        spawn_revocation_sync(pool.clone(), revocation.clone());
        let state = web::Data::new(AppState {
            pool,
            hasher,
            tokens: tokens.clone(),
            revocation: revocation.clone(),
            config: config.clone(),
        });
        let proxies = web::Data::new(TrustedProxies(config.trusted_proxies.clone()));

        let listener = TcpListener::bind(config.bind).map_err(|source| StartupError::Bind {
            addr: config.bind.to_string(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| StartupError::Other(e.to_string()))?
            .port();
        let static_dir = static_dir();
        let cookie_secure = config.cookie_secure;
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(tokens.clone())
                .app_data(revocation.clone())
                .app_data(proxies.clone())
                .app_data(api::json_config())
                .app_data(api::path_config())
                .app_data(api::query_config())
                // The last `wrap` is outermost: the logger sees the request id on the response.
                .wrap(from_fn(request_id::middleware))
                .wrap(security_headers())
                // Off unless info is logged: it copies request data for every request.
                .wrap(Condition::new(
                    log::log_enabled!(log::Level::Info),
                    Logger::new(r#"%a "%r" %s %b %Dms req=%{x-request-id}o"#),
                ))
                .configure(routes)
                .configure(|cfg| dashboard::configure(cfg, cookie_secure))
                .service(
                    web::scope("/static")
                        .wrap(
                            DefaultHeaders::new()
                                .add(("Cache-Control", "public, max-age=31536000, immutable")),
                        )
                        .service(Files::new("", static_dir.clone())),
                )
                .default_service(web::to(api::not_found))
        })
        .listen(listener)
        .map_err(|source| StartupError::Bind {
            addr: config.bind.to_string(),
            source,
        })?
        .run();
        log::info!("authd listening on http://{}:{port}", config.bind.ip());
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// How often revocations made by other instances are read from the database.
pub const REVOCATION_SYNC_INTERVAL: Duration = Duration::from_secs(2);

/// Keeps the in-memory revocation state in step with the database (other instances revoke too).
/// It stops when the revocation state is the last thing holding on (the server is gone).
fn spawn_revocation_sync(pool: DbPool, revocation: web::Data<Revocation>) {
    let weak = std::sync::Arc::downgrade(&revocation.into_inner());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(REVOCATION_SYNC_INTERVAL);
        loop {
            tick.tick().await;
            let Some(revocation) = weak.upgrade() else {
                break;
            };
            let result = db::run(&pool, move |conn| {
                revocation
                    .sync_from(conn, chrono::Utc::now())
                    .map_err(StoreError::from)
            })
            .await;
            if let Err(e) = result {
                log::warn!("revocation sync failed: {e}");
            }
        }
    });
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(dashboard::home::home)
        .service(api::health::healthz)
        .service(api::health::readyz)
        .service(api::auth::register)
        .service(api::auth::login)
        .service(api::auth::me)
        .service(api::verify::verify)
        .service(api::well_known::jwks)
        .service(api::auth::refresh)
        .service(api::auth::logout)
        .service(api::auth::logout_all)
        .service(api::auth::list_sessions)
        .service(api::auth::revoke_session)
        .service(api::auth::change_password)
        .service(api::admin::list_users)
        .service(api::admin::get_user)
        .service(api::admin::set_roles)
        .service(api::admin::disable_user)
        .service(api::admin::enable_user)
        .service(api::admin::revoke_user_sessions)
        .service(api::admin::revoke_session)
        .service(api::admin::list_roles)
        .service(api::admin::create_role);
}

/// The same strict headers on every response: HTML pages need them, JSON loses nothing by them.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .add(("X-Frame-Options", "DENY"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "same-origin"))
}
