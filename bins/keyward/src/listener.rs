//! The listener: TCP → rustls (the configuration current at accept time) →
//! hyper (HTTP/1.1 keep-alive, HTTP/2 by ALPN) → `http_api::Api`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http_api::{Api, ConnInfo};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tls_inventory::{ReloadableTls, TlsSession};
use tokio::net::TcpListener;
use tokio::sync::watch;

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves connections until `stop` turns true, then waits up to `drain` for
/// in-flight requests to finish.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<Arc<ReloadableTls>>,
    api: Api,
    mut stop: watch::Receiver<bool>,
    drain: Duration,
) {
    let graceful = GracefulShutdown::new();
    let builder = Arc::new(auto::Builder::new(TokioExecutor::new()));
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(target: "keyward::listener", error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let _ = tcp.set_nodelay(true);
        let api = api.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                Some(tls) => {
                    // The configuration current now serves this connection for
                    // its whole life; a reload affects only later ones.
                    let loaded = tls.loaded();
                    let acceptor = tokio_rustls::TlsAcceptor::from(loaded.config.clone());
                    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp))
                        .await
                    {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            tracing::debug!(target: "keyward::listener", %remote, error = %e, "TLS handshake failed");
                            api.tls_handshake_failed(Some(remote), &e.to_string());
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(target: "keyward::listener", %remote, "TLS handshake timed out");
                            return;
                        }
                    };
                    let session = TlsSession::of(stream.get_ref().1, &loaded);
                    drop(loaded);
                    let conn = ConnInfo {
                        remote_addr: Some(remote),
                        tls: true,
                        peer_certificates: session.peer_certificates,
                        tls_protocol: session.protocol,
                        tls_cipher: session.cipher,
                        local_certificates: session.local_certificates,
                    };
                    serve_connection(&builder, TokioIo::new(stream), api, conn, watcher).await;
                }
                None => {
                    let conn = ConnInfo {
                        remote_addr: Some(remote),
                        ..ConnInfo::default()
                    };
                    serve_connection(&builder, TokioIo::new(tcp), api, conn, watcher).await;
                }
            }
        });
    }
    drop(listener);
    tracing::info!(target: "keyward::listener", "stopped accepting; draining in-flight requests");
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(target: "keyward::listener", "in-flight requests did not finish in {drain:?}");
    }
}

async fn serve_connection<I>(
    builder: &auto::Builder<TokioExecutor>,
    io: I,
    api: Api,
    conn: ConnInfo,
    watcher: hyper_util::server::graceful::Watcher,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let api = api.clone();
        let conn = conn.clone();
        async move { Ok::<_, Infallible>(api.handle(req, conn).await) }
    });
    let connection = builder.serve_connection(io, service);
    if let Err(e) = watcher.watch(connection.into_owned()).await {
        tracing::debug!(target: "keyward::listener", error = %e, "connection ended with an error");
    }
}
