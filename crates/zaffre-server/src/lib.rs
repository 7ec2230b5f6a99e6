//! zaffre's HTTP server.
//!
//! [`build_router`] turns an [`AppState`] into the complete axum router (tests
//! use it directly); [`serve`] runs it on a listener until a shutdown signal,
//! letting in-flight requests finish. Handlers are thin: they extract,
//! authorise, call the domain and the store, and map results to Zendesk's
//! shapes; rules live in `zaffre-domain`.

pub mod api;
pub mod apps_host;
pub mod apptest;
pub mod auth;
pub mod cache;
pub mod config;
pub mod dev;
pub mod error;
pub mod events;
pub mod extract;
pub mod handlers;
pub mod own_addrs;
pub mod rate_limit;
pub mod router;
pub mod secrets;
pub mod shapes;
pub mod state;
pub mod tls;
pub mod web;

use std::future::Future;

pub use config::{Config, LogFormat, Secret};
pub use router::build_router;
pub use state::AppState;
use tokio::net::TcpListener;

/// Serves `state` on `listener` until `shutdown` resolves, then ends event
/// streams, waits for in-flight requests to finish and writes the proxy
/// audit rows still queued.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_on(listener, state, shutdown).await
}

/// [`serve`] over TLS (`zaffre dev --https`): the same router and graceful
/// shutdown, on connections whose handshake `tls` completes.
pub async fn serve_tls(
    listener: TcpListener,
    tls: std::sync::Arc<rustls::ServerConfig>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_on(tls::TlsListener::new(listener, tls)?, state, shutdown).await
}

/// What [`serve`] and [`serve_tls`] share, for any kind of listener.
async fn serve_on<L>(
    listener: L,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    let token = state.shutdown.clone();
    let audit = state.audit_writer.clone();
    let router = build_router(state);
    let signal = async move {
        shutdown.await;
        token.cancel();
    };
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(signal)
        .await;
    audit.close().await;
    served
}
