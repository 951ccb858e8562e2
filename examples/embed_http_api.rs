//! keyward's whole HTTP API mounted inside another hyper service.
//!
//! [`http_api::Api`] never opens a socket: [`Api::handle`] takes an
//! `http::Request` (any body) and answers with an `http::Response`, exactly
//! as the keyward binary's listener calls it. Here the application serves
//! its own routes under `/app/` and hands every other path to keyward, so
//! Vault clients (`/v1/...`) and OpenSearch security clients
//! (`/_plugins/_security/...`) talk to the application's port.
//!
//! The store is in memory ([`MemoryStore`] behind an ephemeral barrier);
//! use a [`keyring_core::RedbStore`] and a key folder for durable keys
//! (see `transit_records.rs`).
//!
//! Usage: `cargo run -p keyward-examples --example embed_http_api`

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use http::{Request, Response};
use http_api::{Api, ApiConfig, ConnInfo, Services};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use keyring_core::{Barrier, MemoryStore};
use keyward_examples::{Answer, SystemClock, http1};
use secrecy::SecretString;

const ROOT_TOKEN: &str = "app-root-token-do-not-ship";

/// The application's own routes.
fn app_route(req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let body = format!("hello from the app at {}\n", req.uri().path());
    Response::new(Full::new(Bytes::from(body)))
}

/// One service for both: `/app/...` is the application's, the rest keyward's.
async fn route(
    api: Api,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.uri().path().starts_with("/app/") {
        return Ok(app_route(&req));
    }
    // What the listener knows of the connection: the peer's address (for
    // the allowlist and the audit log) and, with TLS, its certificates.
    let conn = ConnInfo {
        remote_addr: Some(peer),
        ..ConnInfo::default()
    };
    Ok(api.handle(req, conn).await)
}

async fn serve(listener: tokio::net::TcpListener, api: Api) {
    loop {
        let Ok((tcp, peer)) = listener.accept().await else {
            continue;
        };
        let api = api.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| route(api.clone(), req, peer));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), svc)
                .await;
        });
    }
}

async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Result<Answer, Box<dyn std::error::Error>> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(t) = token {
        headers.push(("X-Vault-Token", t));
    }
    Ok(http1(tcp, method, path, &headers, body).await?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let barrier = Arc::new(Barrier::ephemeral(Arc::new(MemoryStore::new()))?);
    let api = Api::open(
        Services {
            barrier,
            clock: Arc::new(SystemClock),
            tls: None,
            transport_tls: None,
            audit_sink: None,
            log_levels: None,
        },
        ApiConfig {
            // The OpenSearch demo users, roles and mappings (what dev mode stores).
            security_bootstrap: Some(rbac_model::demo::config()?),
            ..ApiConfig::default()
        },
    )
    .await?;
    api.set_root_token(&SecretString::from(ROOT_TOKEN)).await?;
    api.ensure_transit_mount("transit", "the application's keys")
        .await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(serve(listener, api));

    // The application's route.
    let hello = call(addr, "GET", "/app/hello", None, "").await?;
    assert_eq!(hello.status, 200);
    assert_eq!(hello.body, "hello from the app at /app/hello\n");

    // keyward's routes, as a Vault client sends them.
    let health = call(addr, "GET", "/v1/sys/health", None, "").await?;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["sealed"], false);
    let created = call(
        addr,
        "POST",
        "/v1/transit/keys/orders",
        Some(ROOT_TOKEN),
        "{}",
    )
    .await?;
    assert!(
        created.status == 200 || created.status == 204,
        "{created:?}"
    );
    let plaintext = base64::engine::general_purpose::STANDARD.encode("order #1234: 3 widgets");
    let encrypted = call(
        addr,
        "POST",
        "/v1/transit/encrypt/orders",
        Some(ROOT_TOKEN),
        &format!(r#"{{"plaintext":"{plaintext}"}}"#),
    )
    .await?;
    assert_eq!(encrypted.status, 200, "{encrypted:?}");
    let ciphertext = encrypted.json()["data"]["ciphertext"]
        .as_str()
        .ok_or("a ciphertext")?
        .to_string();
    assert!(ciphertext.starts_with("vault:v1:"));
    let decrypted = call(
        addr,
        "POST",
        "/v1/transit/decrypt/orders",
        Some(ROOT_TOKEN),
        &format!(r#"{{"ciphertext":"{ciphertext}"}}"#),
    )
    .await?;
    assert_eq!(decrypted.json()["data"]["plaintext"], plaintext.as_str());

    // keyward's authorization and error shapes come along unchanged.
    let anonymous = call(addr, "GET", "/v1/transit/keys/orders", None, "").await?;
    assert_eq!(anonymous.status, 403);
    assert_eq!(
        anonymous.json(),
        serde_json::json!({"errors": ["permission denied"]})
    );
    let bad = call(
        addr,
        "POST",
        "/v1/transit/encrypt/orders",
        Some(ROOT_TOKEN),
        r#"{"plaintext":"not base64!"}"#,
    )
    .await?;
    assert_eq!(bad.status, 400, "{bad:?}");
    let security = call(
        addr,
        "GET",
        "/_plugins/_security/api/internalusers",
        None,
        "",
    )
    .await?;
    assert_eq!(security.status, 401);

    server.abort();
    println!(
        "embed_http_api: ok: /app/ served by the application; transit, health and security routes by keyward on the same port"
    );
    Ok(())
}
