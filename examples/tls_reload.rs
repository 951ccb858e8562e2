//! Hot-reloading TLS for someone else's rustls server with `tls-inventory`.
//!
//! The application owns its listener (tokio + tokio-rustls + hyper); it
//! keeps a [`ReloadableTls`] and takes `tls.current()` for each new
//! connection. Replacing the certificate files and calling `reload` swaps
//! the whole configuration in one step: new connections get the new
//! certificate, connections already open keep theirs, and a broken
//! replacement (here: a key that does not match the certificate) is
//! refused while the old certificate goes on serving.
//!
//! The example checks each of these with a client that trusts only the
//! example's CA, and what the inventory reports ([`ReloadableTls::loaded`]).
//!
//! Usage: `cargo run -p keyward-examples --example tls_reload`

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use keyward_examples::{http1, unix_now};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use tls_inventory::{ReloadableTls, TlsFiles};
use tokio_rustls::{TlsAcceptor, TlsConnector, client::TlsStream};

/// A CA and what it issues for `localhost`.
struct Pki {
    issuer: Issuer<'static, KeyPair>,
    ca_pem: String,
}

impl Pki {
    fn new() -> Result<Pki, rcgen::Error> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "example CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = params.self_signed(&key)?;
        Ok(Pki {
            ca_pem: ca.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// A leaf for `localhost` named `cn`: (certificate PEM, key PEM).
    fn leaf(&self, cn: &str) -> Result<(String, String), rcgen::Error> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(vec!["localhost".to_string()])?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok((cert.pem(), key.serialize_pem()))
    }
}

/// Writes the serving files the way an operator would: a new file next to
/// the old, then a rename, so the server never reads half a file.
fn install(dir: &Path, (cert, key): &(String, String)) -> std::io::Result<()> {
    for (name, text) in [("server.pem", cert), ("server-key.pem", key)] {
        let staged = dir.join(format!(".{name}.new"));
        std::fs::write(&staged, text)?;
        std::fs::rename(&staged, dir.join(name))?;
    }
    Ok(())
}

/// The application's own server: hyper over rustls, the configuration
/// current at accept time serving each connection.
async fn serve(listener: tokio::net::TcpListener, tls: Arc<ReloadableTls>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = TlsAcceptor::from(tls.current());
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(tcp).await else {
                return;
            };
            let svc = hyper::service::service_fn(|_req| async {
                Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                    b"hello",
                ))))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

async fn connect(
    addr: SocketAddr,
    connector: &TlsConnector,
) -> Result<TlsStream<tokio::net::TcpStream>, Box<dyn std::error::Error>> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    Ok(connector
        .connect(ServerName::try_from("localhost")?, tcp)
        .await?)
}

/// The leaf certificate the server presented on `stream`.
fn served(stream: &TlsStream<tokio::net::TcpStream>) -> Vec<u8> {
    stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|c| c.as_ref().to_vec())
        .unwrap_or_default()
}

fn der(pem: &str) -> Vec<u8> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .map(|c| c.as_ref().to_vec())
        .unwrap_or_default()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let pki = Pki::new()?;
    let first = pki.leaf("first")?;
    let second = pki.leaf("second")?;
    install(dir.path(), &first)?;

    let files = TlsFiles::simple(
        dir.path().join("server.pem"),
        dir.path().join("server-key.pem"),
    );
    let tls = Arc::new(ReloadableTls::new(files, unix_now())?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(serve(listener, tls.clone()));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(pki.ca_pem.as_bytes())?)?;
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = TlsConnector::from(Arc::new(client));

    // The first certificate serves.
    let before = connect(addr, &connector).await?;
    assert_eq!(served(&before), der(&first.0));
    let inventory = &tls.loaded().inventory;
    assert_eq!(inventory.leaves.len(), 1);
    let first_sha = inventory.keyfile.sha256.clone();

    // Replace the files and reload: new connections get the second one.
    install(dir.path(), &second)?;
    let loaded = tls.reload(unix_now())?;
    assert_ne!(loaded.inventory.keyfile.sha256, first_sha);
    let after = connect(addr, &connector).await?;
    assert_eq!(served(&after), der(&second.0));

    // The connection opened before the reload keeps its session and works.
    let answer = http1(before, "GET", "/", &[], "").await?;
    assert_eq!((answer.status, answer.body.as_str()), (200, "hello"));
    let answer = http1(after, "GET", "/", &[], "").await?;
    assert_eq!((answer.status, answer.body.as_str()), (200, "hello"));

    // A broken replacement (the first key with the second certificate) is
    // refused, and the second certificate goes on serving.
    install(dir.path(), &(second.0.clone(), first.1.clone()))?;
    let refused = tls.reload(unix_now());
    let reason = refused.err().ok_or("a mismatched key must be refused")?;
    let still = connect(addr, &connector).await?;
    assert_eq!(served(&still), der(&second.0));

    server.abort();
    println!(
        "tls_reload: ok: reloaded without a restart; open connections kept; broken files refused ({reason})"
    );
    Ok(())
}
