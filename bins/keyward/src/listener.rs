//! The listener: TCP → rustls (the configuration current at accept time) →
//! hyper (HTTP/1.1 keep-alive, HTTP/2 by ALPN) → `http_api::Api`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http_api::{Api, ConnInfo};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tls_inventory::{ReloadableTls, TlsSession};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::limits::Gate;

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves connections until `stop` turns true, then waits up to `drain` for
/// in-flight requests to finish. `gate` holds the connection limits.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<Arc<ReloadableTls>>,
    api: Api,
    gate: Arc<Gate>,
    mut stop: watch::Receiver<bool>,
    drain: Duration,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    let header_timeout = gate.limits().header_read_timeout;
    if !header_timeout.is_zero() {
        // Without a timer hyper applies no header timeout at all, and a
        // client that sends one header byte a minute holds its connection
        // forever.
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout);
    }
    let builder = Arc::new(builder);
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
        // Over the limit: close at once, so the client sees a reset instead
        // of a connection that never answers.
        let Ok(connection_permit) = gate.admit() else {
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let gate = gate.clone();
        let api = api.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _connection_permit = connection_permit;
            match tls {
                Some(tls) => {
                    // An address with many handshakes in progress has its
                    // extra connections closed, so a handshake flood from
                    // one client cannot take the CPU from every other one.
                    let Ok(handshake_permit) = gate.begin_handshake(remote.ip()) else {
                        return;
                    };
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
                    drop(handshake_permit);
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
