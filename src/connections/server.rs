//! The HTTP server, assembled from actix's parts the way `HttpServer::listen` does, with one
//! difference: each accepted stream is wrapped in `Backpressured` before the h1 dispatcher gets
//! it (`HttpServer` offers no hook for that). HTTP/1 only, as `HttpServer::listen` serves.

use std::fmt;
use std::net::TcpListener;
use std::time::Duration;

use actix_http::{HttpService, Request, Response};
use actix_service::{
    IntoServiceFactory, Service, ServiceFactory, ServiceFactoryExt, fn_service, map_config,
};
use actix_web::body::MessageBody;
use actix_web::dev::{AppConfig, Server};
use actix_web::rt::net::TcpStream;

use super::PerAddress;
use super::backpressure::Backpressured;

/// Time for a connection's first request head, else 408.
pub const CLIENT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Time a closing connection has to take its last answer.
pub const CLIENT_DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// How long an idle connection is kept open for its next request.
pub const KEEP_ALIVE: Duration = Duration::from_secs(5);

pub struct Settings {
    pub workers: usize,
    /// Connections per instance; actix counts per worker, so it is shared out.
    pub max_connections: usize,
    pub shutdown_timeout_secs: u64,
    pub per_address: PerAddress,
}

pub fn serve<F, I, S, B>(
    listener: TcpListener,
    settings: Settings,
    factory: F,
) -> std::io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as Service<Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let addr = listener.local_addr()?;
    let per_address = settings.per_address;
    Ok(Server::build()
        .workers(settings.workers)
        // Beyond it a worker stops accepting; new clients wait in the listen backlog.
        .max_concurrent_connections(settings.max_connections.div_ceil(settings.workers))
        // SIGTERM or SIGINT: stop accepting, let requests in flight finish for up to this long.
        .shutdown_timeout(settings.shutdown_timeout_secs)
        .listen("authd", listener, move || {
            let per_address = per_address.clone();
            let app = factory()
                .into_factory()
                .map_err(|err| err.into().error_response());
            let http = HttpService::<Backpressured<TcpStream>, _, B>::build()
                .keep_alive(KEEP_ALIVE)
                .client_request_timeout(CLIENT_REQUEST_TIMEOUT)
                .client_disconnect_timeout(CLIENT_DISCONNECT_TIMEOUT)
                .local_addr(addr)
                .on_connect_ext(move |io: &Backpressured<TcpStream>, data| {
                    per_address.on_connect(io.get_ref(), data);
                })
                .h1(map_config(app, |()| AppConfig::default()));
            fn_service(|io: TcpStream| async move {
                let peer = io.peer_addr().ok();
                Ok::<_, actix_http::error::DispatchError>((Backpressured::new(io), peer))
            })
            .and_then(http)
        })?
        .run())
}
