//! The transport (node-to-node) listener: mutual TLS with the transport
//! certificates (`--cluster-listen`), a peer admitted only when the subject
//! DN of its certificate is a node's (`nodes_dn`, and the `nodesdn` API's
//! lists when `nodes_dn_dynamic_config_enabled`).
//!
//! Until keyward nodes talk to each other it serves one health check,
//! `GET /_keyward/cluster/health`; a peer that is not a node gets 403 on every
//! request, a client without a certificate from the CA fails the handshake.
//! Its certificates reload with `PUT P/ssl/transport/reloadcerts` and SIGHUP.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_api::Api;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tls_inventory::ReloadableTls;
use tokio::net::TcpListener;
use tokio::sync::watch;

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The path of the health check.
pub(crate) const HEALTH_PATH: &str = "/_keyward/cluster/health";

/// Serves transport connections until `stop` turns true.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Arc<ReloadableTls>,
    api: Api,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(target: "keyward::cluster", error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = tokio_rustls::TlsAcceptor::from(tls.current());
        let api = api.clone();
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::info!(target: "keyward::cluster", %remote, error = %e, "transport handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::info!(target: "keyward::cluster", %remote, "transport handshake timed out");
                    return;
                }
            };
            // The verifier requires a client certificate chaining to the CA.
            let dn = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(|leaf| tls_inventory::dn::subject_dn(leaf.as_ref()))
                .unwrap_or_default();
            let admitted = api.admits_node(&dn);
            if !admitted {
                tracing::warn!(target: "keyward::cluster", %remote, peer = %dn, "transport peer refused: its DN is not in nodes_dn");
            }
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let answer = answer(&req, admitted, &dn);
                async move { Ok::<_, Infallible>(answer) }
            });
            // HTTP/1.1 or HTTP/2, as ALPN says.
            let builder = auto::Builder::new(TokioExecutor::new());
            if let Err(e) = builder
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(target: "keyward::cluster", error = %e, "transport connection ended with an error");
            }
        });
    }
    tracing::info!(target: "keyward::cluster", "transport listener stopped");
}

fn json(status: StatusCode, value: serde_json::Value, close: bool) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, "application/json");
    if close {
        builder = builder.header(hyper::header::CONNECTION, "close");
    }
    builder
        .body(Full::new(Bytes::from(value.to_string())))
        .unwrap_or_else(|_| Response::new(Full::default()))
}

/// The answer to one request of a peer.
fn answer<B>(req: &Request<B>, admitted: bool, dn: &str) -> Response<Full<Bytes>> {
    if !admitted {
        let reason = format!(
            "{dn} is not a node: its DN is not in nodes_dn (nor in the nodesdn API's lists)"
        );
        return json(
            StatusCode::FORBIDDEN,
            serde_json::json!({
                "error": {"type": "security_exception", "reason": reason},
                "status": 403,
            }),
            true,
        );
    }
    match (req.method().as_str(), req.uri().path()) {
        ("GET" | "HEAD", HEALTH_PATH) => json(
            StatusCode::OK,
            serde_json::json!({"status": "UP", "peer": dn}),
            false,
        ),
        (method, path) => json(
            StatusCode::NOT_FOUND,
            serde_json::json!({
                "error": format!("no handler found for uri [{path}] and method [{method}]"),
                "status": 404,
            }),
            false,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_peer_gets_403_on_every_path() {
        let req = Request::get(HEALTH_PATH).body(()).unwrap();
        assert_eq!(answer(&req, false, "CN=x").status(), 403);
        assert_eq!(answer(&req, true, "CN=x").status(), 200);
        let other = Request::get("/other").body(()).unwrap();
        assert_eq!(answer(&other, true, "CN=x").status(), 404);
    }
}
