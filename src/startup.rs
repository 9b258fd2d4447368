//! Builds the application: pool, migrations, keys, bootstrap admin, routes, listener.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_files::Files;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{DefaultHeaders, Next, from_fn};
use actix_web::{App, web};

use crate::access;
use crate::api;
use crate::auth::form_tokens::{self, FormTokenKey};
use crate::auth::passwords::{Hasher, Limits};
use crate::auth::revocation::Revocation;
use crate::auth::tokens::{LEEWAY_SECS, TokenService};
use crate::config::{Config, JwtAlg};
use crate::connections::{self, PerAddress};
use crate::dashboard;
use crate::db::models::app_secret::AppSecret;
use crate::db::{self, DbPool, StoreError};
use crate::methods;
use crate::request_id;
use crate::services::{self, accounts, housekeeping, keys, mail, throttle};

use crate::state::AppState;
use crate::telemetry;

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
    Keys(services::Error),
    #[error("AUTHD_BOOTSTRAP_ADMIN: {0}")]
    Bootstrap(services::Error),
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
    let pool = db::build_pool(config.database_url.expose(), config.db_pool_size);
    db::wait_for_database(&pool, DATABASE_WAIT).map_err(StartupError::Database)?;
    let mut conn = pool
        .get()
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    for version in db::run_migrations(&mut conn)? {
        log::info!("applied migration {version}");
    }
    Ok(pool)
}

/// With `AUTHD_BOOTSTRAP_ADMIN`, creates that administrator unless one exists.
async fn bootstrap_admin(state: &AppState) -> Result<(), StartupError> {
    let Some((username, password)) = &state.config.bootstrap_admin else {
        return Ok(());
    };
    let password = password.expose().to_owned();
    let created = accounts::create_admin(
        state,
        username,
        password,
        accounts::IfAdminExists::DoNothing,
    )
    .await
    .map_err(StartupError::Bootstrap)?;
    if let Some(admin) = created {
        log::info!("created the bootstrap administrator {:?}", admin.username);
    }
    Ok(())
}

/// Everything a request or a command needs, ready: the database migrated, the signing keys
/// loaded (the first one generated), the revocation state loaded, the hashing pool started.
pub async fn build_state(config: Config) -> Result<AppState, StartupError> {
    let config = Arc::new(config);
    let setup_config = config.clone();
    let (pool, keys, revocation, form_key) = web::block(move || -> Result<_, StartupError> {
        let config = setup_config;
        let pool = prepare_database(&config)?;
        let mut conn = pool
            .get()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let keys = keys::load_ring(&mut conn, &config).map_err(|e| match e {
            services::Error::Invalid(why) => StartupError::Other(why),
            other => StartupError::Keys(other),
        })?;
        if config.jwt_alg != JwtAlg::Hs256 && config.key_encryption_key.is_none() {
            log::warn!(
                "AUTHD_KEY_ENCRYPTION_KEY is not set: private signing keys are stored unencrypted"
            );
        }
        let revocation = Revocation::new(config.access_ttl_secs, LEEWAY_SECS as i64);
        revocation.sync_from(&mut conn).map_err(StoreError::from)?;
        let candidate =
            FormTokenKey::generate_secret().map_err(|e| StartupError::Other(e.to_string()))?;
        let form_secret = AppSecret::get_or_create(&mut conn, form_tokens::KEY_NAME, &candidate)
            .map_err(StoreError::from)?;
        Ok((pool, keys, revocation, FormTokenKey::new(&form_secret)))
    })
    .await
    .map_err(|e| StartupError::Other(e.to_string()))??;

    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let queue = config.hash_queue.unwrap_or(HASH_QUEUE_PER_CORE * cores);
    let limits = Limits::new(cores, queue, config.hash_priority);
    let hasher = Hasher::new(limits).map_err(|e| StartupError::Other(e.to_string()))?;
    let tokens = TokenService::new(
        keys,
        config.issuer.clone(),
        config.audience.clone(),
        config.access_ttl_secs,
    );
    let throttle = Arc::new(throttle::new_state(&config.throttle));
    Ok(AppState {
        pool,
        hasher,
        tokens: Arc::new(tokens),
        revocation: Arc::new(revocation),
        config,
        form_key: Arc::new(form_key),
        throttle,
        mail_wake: Arc::new(tokio::sync::Notify::new()),
    })
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
        telemetry::exporter::install();
        let state = build_state(config).await?;
        bootstrap_admin(&state).await?;
        spawn_revocation_sync(state.pool.clone(), &state.revocation);
        throttle::spawn_pruning(&state.throttle);
        let config = state.config.clone();
        let state = web::Data::new(state);
        spawn_key_refresh(&state);
        spawn_housekeeping(&state);
        spawn_mail_worker(&state);

        let listener = TcpListener::bind(config.bind).map_err(|source| StartupError::Bind {
            addr: config.bind.to_string(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|e| StartupError::Other(e.to_string()))?
            .port();
        let static_dir = static_dir();
        let cors_origins = config.cors_origins.clone();
        let per_address =
            PerAddress::new(config.max_connections_per_address, &config.trusted_proxies);
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let settings = connections::Settings {
            workers,
            max_connections: config.max_connections,
            shutdown_timeout_secs: SHUTDOWN_TIMEOUT_SECS,
            per_address,
        };
        let server = connections::serve(listener, settings, move || {
            App::new()
                .app_data(state.clone())
                .app_data(api::json_config())
                .app_data(api::path_config())
                .app_data(api::query_config())
                // Innermost: HEAD is routed as GET.
                .wrap(from_fn(methods::head_as_get))
                .wrap(from_fn(connections::body_deadline))
                // The last `wrap` is outermost: the access log sees the request id on the response.
                .wrap(from_fn(request_id::middleware))
                .wrap(security_headers())
                .wrap(from_fn(connections::per_address))
                .wrap(from_fn(access::middleware))
                .configure(|cfg| routes(cfg, &cors_origins))
                .configure(dashboard::configure)
                .service(
                    web::scope("/static")
                        .wrap(from_fn(static_cache_control))
                        .service(Files::new("", static_dir.clone())),
                )
                // Last: an unknown path is 404, a known one with another method 405.
                .service(methods::fallback(api::no_route))
        })
        .map_err(|source| StartupError::Bind {
            addr: config.bind.to_string(),
            source,
        })?;
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

/// How long a stopping server lets requests in flight finish, seconds.
pub const SHUTDOWN_TIMEOUT_SECS: u64 = 30;

/// How often revocations made by other instances are read from the database.
pub const REVOCATION_SYNC_INTERVAL: Duration = Duration::from_secs(2);

/// Keeps the in-memory revocation state in step with the database (other instances revoke too).
/// It stops when the revocation state is the last thing holding on (the server is gone).
fn spawn_revocation_sync(pool: DbPool, revocation: &Arc<Revocation>) {
    let weak = Arc::downgrade(revocation);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(REVOCATION_SYNC_INTERVAL);
        loop {
            tick.tick().await;
            let Some(revocation) = weak.upgrade() else {
                break;
            };
            let result = db::run(&pool, move |conn| {
                revocation.sync_from(conn).map_err(services::Error::from)
            })
            .await;
            if let Err(e) = result {
                log::warn!("revocation sync failed: {e}");
            }
        }
    });
}

/// How often each instance re-reads the signing keys: a rotation or retirement made anywhere
/// takes effect here within this (plus one refresh's time).
pub const KEY_REFRESH_INTERVAL: Duration = Duration::from_secs(2);

/// A token naming an unknown key triggers a refresh at most this often, so random kids cannot
/// turn into a query per request.
pub const UNKNOWN_KID_REFRESH_GAP: Duration = Duration::from_secs(5);

/// Keeps the key ring in step with the table. It stops when the app state is gone.
fn spawn_key_refresh(state: &web::Data<AppState>) {
    let weak = Arc::downgrade(&state.clone().into_inner());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(KEY_REFRESH_INTERVAL);
        let mut last_unknown = tokio::time::Instant::now() - UNKNOWN_KID_REFRESH_GAP;
        loop {
            let Some(tokens) = weak.upgrade().map(|s| s.tokens.clone()) else {
                break;
            };
            tokio::select! {
                _ = tick.tick() => {}
                () = tokens.unknown_kid_seen() => {
                    if last_unknown.elapsed() < UNKNOWN_KID_REFRESH_GAP {
                        continue;
                    }
                    last_unknown = tokio::time::Instant::now();
                }
            }
            drop(tokens);
            let Some(state) = weak.upgrade() else {
                break;
            };
            if let Err(e) = keys::refresh(&state).await {
                log::warn!("signing key refresh failed: {e}");
            }
        }
    });
}

/// Runs housekeeping at start and then every `AUTHD_PURGE_INTERVAL` seconds (never when 0);
/// the instance that holds the lock does the work, the others skip their turn. It stops when the
/// app state is gone.
fn spawn_housekeeping(state: &web::Data<AppState>) {
    let every = state.config.purge_interval_secs;
    if every == 0 {
        return;
    }
    let weak = Arc::downgrade(&state.clone().into_inner());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(every));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(state) = weak.upgrade() else {
                break;
            };
            match housekeeping::purge(&state, housekeeping::IfRunning::Skip).await {
                Ok(Some(p)) if p.total() > 0 => log::info!(
                    "housekeeping removed {} expired refresh tokens, {} expired sessions, {} old audit events",
                    p.refresh_tokens,
                    p.sessions,
                    p.audit_events
                ),
                Ok(_) => {}
                Err(e) => log::warn!("housekeeping failed: {e}"),
            }
        }
    });
}

/// Sends the outbox's mail (when `AUTHD_SMTP_URL` is set); it stops when the app state is gone.
fn spawn_mail_worker(state: &web::Data<AppState>) {
    if state.config.mail.is_none() {
        return;
    }
    tokio::spawn(mail::worker::run(Arc::downgrade(
        &state.clone().into_inner(),
    )));
}

/// Static assets may be cached for a year (their URLs change with each release); an error (a
/// missing file) must not be: the file may exist after the next deploy.
async fn static_cache_control(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let status = res.status();
    let value = if status.is_success() || status == StatusCode::NOT_MODIFIED {
        "public, max-age=31536000, immutable"
    } else {
        "no-store"
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    Ok(res)
}

/// Every route outside `/admin` and `/static`. The JSON routes come from `api::configure`, which
/// also generates the OpenAPI document from them (a test compares the two).
pub(crate) fn routes(cfg: &mut web::ServiceConfig, cors_origins: &[String]) {
    cfg.service(dashboard::home::home)
        .service(api::metrics::metrics);
    api::configure(cfg, cors_origins);
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
