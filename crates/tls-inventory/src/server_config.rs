//! The rustls server configuration, built from files and swappable at run time.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::Error;

/// Whether clients are asked for a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// Clients are not asked.
    #[default]
    None,
    /// Clients are asked; those without a certificate still get in. A
    /// certificate that is presented must chain to the client CA.
    Optional,
    /// Clients without a certificate from the client CA fail the handshake.
    Required,
}

/// The files a server configuration is built from.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// PEM CA certificates that client certificates must chain to.
    pub client_ca: Option<PathBuf>,
    /// Whether clients are asked for a certificate (needs `client_ca`).
    pub client_auth: ClientAuth,
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn certificates(path: &Path, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Content {
            path: path.to_path_buf(),
            reason: format!("bad PEM: {e}"),
        })?;
    if certs.is_empty() {
        return Err(Error::Content {
            path: path.to_path_buf(),
            reason: "holds no CERTIFICATE block".into(),
        });
    }
    Ok(certs)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl TlsFiles {
    /// Reads every file and builds a complete server configuration: the key
    /// must match the leaf certificate and the client CA must parse.
    pub fn build(&self) -> Result<ServerConfig, Error> {
        let chain = certificates(&self.cert, &read(&self.cert)?)?;
        let key_pem = read(&self.key)?;
        let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| Error::Content {
            path: self.key.clone(),
            reason: format!("no usable private key: {e}"),
        })?;
        let builder = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| Error::Config(e.to_string()))?;
        let builder = match (self.client_auth, &self.client_ca) {
            (ClientAuth::None, _) => builder.with_no_client_auth(),
            (_, None) => {
                return Err(Error::Config(
                    "client certificates are requested but no client CA file is configured".into(),
                ));
            }
            (mode, Some(ca_path)) => {
                let mut roots = RootCertStore::empty();
                for cert in certificates(ca_path, &read(ca_path)?)? {
                    roots.add(cert).map_err(|e| Error::Content {
                        path: ca_path.clone(),
                        reason: format!("not a usable CA certificate: {e}"),
                    })?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider());
                let verifier = if mode == ClientAuth::Optional {
                    verifier.allow_unauthenticated()
                } else {
                    verifier
                };
                let verifier = verifier.build().map_err(|e| Error::Config(e.to_string()))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder.with_single_cert(chain, key).map_err(|e| {
            Error::Config(format!(
                "{} and {}: {e}",
                self.cert.display(),
                self.key.display()
            ))
        })?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// A server configuration that can be replaced while the server runs.
pub struct ReloadableTls {
    files: TlsFiles,
    current: ArcSwap<ServerConfig>,
}

impl std::fmt::Debug for ReloadableTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReloadableTls")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl ReloadableTls {
    /// Builds the first configuration from `files`.
    pub fn new(files: TlsFiles) -> Result<Self, Error> {
        let config = files.build()?;
        Ok(ReloadableTls {
            files,
            current: ArcSwap::from_pointee(config),
        })
    }

    /// The configuration new connections use now.
    pub fn current(&self) -> Arc<ServerConfig> {
        self.current.load_full()
    }

    /// The files the configuration is built from.
    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    /// Reads the files again and swaps the new configuration in; on any
    /// error the old one keeps serving.
    pub fn reload(&self) -> Result<(), Error> {
        let config = self.files.build()?;
        self.current.store(Arc::new(config));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DevPki;

    fn write_dev(dir: &Path) -> TlsFiles {
        let pki = DevPki::generate(1_800_000_000).unwrap();
        std::fs::write(dir.join("ca.pem"), &pki.ca_cert).unwrap();
        std::fs::write(dir.join("server.pem"), &pki.server_chain).unwrap();
        std::fs::write(dir.join("server-key.pem"), &pki.server_key).unwrap();
        std::fs::write(dir.join("admin-key.pem"), &pki.admin_key).unwrap();
        TlsFiles {
            cert: dir.join("server.pem"),
            key: dir.join("server-key.pem"),
            client_ca: Some(dir.join("ca.pem")),
            client_auth: ClientAuth::Optional,
        }
    }

    #[test]
    fn dev_pki_builds_a_config() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_dev(dir.path());
        let tls = ReloadableTls::new(files).unwrap();
        assert_eq!(tls.current().alpn_protocols.len(), 2);
    }

    #[test]
    fn failed_reload_keeps_the_old_config() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = write_dev(dir.path());
        let tls = ReloadableTls::new(files.clone()).unwrap();
        let before = tls.current();
        // A key that does not match the certificate.
        std::fs::copy(
            dir.path().join("admin-key.pem"),
            dir.path().join("server-key.pem"),
        )
        .unwrap();
        let err = tls.reload().unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err}");
        assert!(Arc::ptr_eq(&before, &tls.current()));
        files.cert = dir.path().join("missing.pem");
        assert!(matches!(files.build(), Err(Error::Read { .. })));
    }

    #[test]
    fn garbage_is_refused_with_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = write_dev(dir.path());
        std::fs::write(dir.path().join("junk.pem"), "not pem").unwrap();
        files.cert = dir.path().join("junk.pem");
        let err = files.build().unwrap_err().to_string();
        assert!(
            err.contains("junk.pem") && err.contains("no CERTIFICATE"),
            "{err}"
        );
    }
}
