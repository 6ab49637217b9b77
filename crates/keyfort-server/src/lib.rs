//! keyfort-server: the HTTP listener (hyper, rustls), the AWS JSON 1.1 protocol,
//! authentication, and the background jobs.
//!
//! Tests and the binary use the same entry points: [`bootstrap::open`] to open a data
//! directory, [`AppState::new`], and [`serve`] on a listener they bound themselves.
#![forbid(unsafe_code)]

pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod config;
pub mod error;
pub mod http;
pub mod iam;
pub mod jobs;
pub mod last_usage;
pub mod lookup;
pub mod query;
pub mod sts;
pub mod tls;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

pub use http::AppState;

/// How long shutdown waits for requests in flight.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves until `shutdown` completes, then stops accepting and waits (up to
/// [`SHUTDOWN_GRACE`]) for requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .keep_alive(true)
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        match &acceptor {
            None => {
                let info = Arc::new(http::ConnInfo::new(peer, None));
                let svc =
                    service_fn(move |req| http::handle(Arc::clone(&state), Arc::clone(&info), req));
                let conn = builder.serve_connection(TokioIo::new(stream), svc);
                let fut = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = fut.await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let builder = builder.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    let tls = match tokio::time::timeout(
                        Duration::from_secs(10),
                        acceptor.accept(stream),
                    )
                    .await
                    {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => return,
                    };
                    let (_, session) = tls.get_ref();
                    let version = session.protocol_version().map(|v| match v {
                        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_owned(),
                        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_owned(),
                        other => format!("{other:?}"),
                    });
                    let suite = session
                        .negotiated_cipher_suite()
                        .map(|c| format!("{:?}", c.suite()));
                    let info = Arc::new(http::ConnInfo::new(peer, version.zip(suite)));
                    let svc = service_fn(move |req| {
                        http::handle(Arc::clone(&state), Arc::clone(&info), req)
                    });
                    let conn = builder.serve_connection(TokioIo::new(tls), svc);
                    if let Err(e) = watcher.watch(conn).await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("requests still in flight after the grace period; closing");
        }
    }
    Ok(())
}
