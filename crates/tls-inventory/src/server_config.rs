//! The rustls server configuration, built from files and swappable at run
//! time together with the inventory of what it serves.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::{CertificateInfo, Error, PemSummary};

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
    /// PEM private key (PKCS#8, PKCS#1 or SEC1); may be the same file as `cert`.
    pub key: PathBuf,
    /// PEM CA certificates that client certificates must chain to.
    pub client_ca: Option<PathBuf>,
    /// Whether clients are asked for a certificate (needs `client_ca`).
    pub client_auth: ClientAuth,
    /// Per server name (SNI), a PEM file holding that name's chain and key.
    pub sni: BTreeMap<String, PathBuf>,
}

/// What a configuration serves, summarised from the very bytes it was built from.
#[derive(Debug, Clone, Default)]
pub struct TlsInventory {
    /// ArangoDB summary of the default certificate and key.
    pub keyfile: PemSummary,
    /// ArangoDB summary of the client CA file (empty without one).
    pub client_ca: PemSummary,
    /// ArangoDB summary per SNI name.
    pub sni: BTreeMap<String, PemSummary>,
    /// The leaf certificates served (default first, then per SNI name).
    pub leaves: Vec<CertificateInfo>,
}

/// A built configuration and its inventory; swapped as one.
#[derive(Debug)]
pub struct LoadedTls {
    /// The rustls configuration new connections use.
    pub config: Arc<ServerConfig>,
    /// What it serves.
    pub inventory: TlsInventory,
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

fn private_key(path: &Path, pem: &[u8]) -> Result<PrivateKeyDer<'static>, Error> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| Error::Content {
        path: path.to_path_buf(),
        reason: format!("no usable private key: {e}"),
    })
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Checks the leaf is parseable and valid at `now`, and builds the key pair.
fn certified(
    cert_path: &Path,
    chain: Vec<CertificateDer<'static>>,
    key_path: &Path,
    key: PrivateKeyDer<'static>,
    now_unix: i64,
) -> Result<(Arc<CertifiedKey>, CertificateInfo), Error> {
    let info = CertificateInfo::from_der(&chain[0]).ok_or_else(|| Error::Content {
        path: cert_path.to_path_buf(),
        reason: "the first certificate is not a parseable X.509 certificate".into(),
    })?;
    if !info.is_valid_at(now_unix) {
        return Err(Error::Content {
            path: cert_path.to_path_buf(),
            reason: format!(
                "the certificate {} is not valid now (valid from {} to {})",
                info.subject_dn, info.not_before, info.not_after
            ),
        });
    }
    let key = CertifiedKey::from_der(chain, key, &provider()).map_err(|e| {
        Error::Config(format!(
            "{} and {}: {e}",
            cert_path.display(),
            key_path.display()
        ))
    })?;
    Ok((Arc::new(key), info))
}

/// Serves the certificate of the SNI name the client asked for, or the default.
#[derive(Debug)]
struct SniResolver {
    default: Arc<CertifiedKey>,
    by_name: BTreeMap<String, Arc<CertifiedKey>>,
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let named = hello
            .server_name()
            .and_then(|n| self.by_name.get(&n.to_ascii_lowercase()));
        Some(named.unwrap_or(&self.default).clone())
    }
}

impl TlsFiles {
    /// Files for one certificate and key, without client authentication or SNI.
    pub fn simple(cert: PathBuf, key: PathBuf) -> Self {
        TlsFiles {
            cert,
            key,
            client_ca: None,
            client_auth: ClientAuth::None,
            sni: BTreeMap::new(),
        }
    }

    /// Reads every file once and builds a complete configuration and its
    /// inventory: each key must match its certificate, each leaf must be
    /// valid at `now_unix`, the client CA must parse.
    pub fn load(&self, now_unix: i64) -> Result<LoadedTls, Error> {
        let cert_pem = read(&self.cert)?;
        let same_file = self.cert == self.key;
        let key_pem = if same_file {
            cert_pem.clone()
        } else {
            read(&self.key)?
        };
        let chain = certificates(&self.cert, &cert_pem)?;
        let key = private_key(&self.key, &key_pem)?;
        let (default, default_info) = certified(&self.cert, chain, &self.key, key, now_unix)?;
        let mut inventory = TlsInventory {
            keyfile: PemSummary::of_pair(&cert_pem, (!same_file).then_some(key_pem.as_slice())),
            leaves: vec![default_info],
            ..TlsInventory::default()
        };

        let mut by_name = BTreeMap::new();
        for (name, path) in &self.sni {
            let pem = read(path)?;
            let chain = certificates(path, &pem)?;
            let key = private_key(path, &pem)?;
            let (ck, info) = certified(path, chain, path, key, now_unix)?;
            by_name.insert(name.to_ascii_lowercase(), ck);
            inventory
                .sni
                .insert(name.clone(), PemSummary::of_file(&pem));
            inventory.leaves.push(info);
        }

        let builder = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| Error::Config(e.to_string()))?;
        let builder = match (self.client_auth, &self.client_ca) {
            (ClientAuth::None, None) => builder.with_no_client_auth(),
            (_, None) => {
                return Err(Error::Config(
                    "client certificates are requested but no client CA file is configured".into(),
                ));
            }
            (mode, Some(ca_path)) => {
                let ca_pem = read(ca_path)?;
                inventory.client_ca = PemSummary::of_file(&ca_pem);
                if mode == ClientAuth::None {
                    builder.with_no_client_auth()
                } else {
                    let mut roots = RootCertStore::empty();
                    for cert in certificates(ca_path, &ca_pem)? {
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
            }
        };
        let mut config = builder.with_cert_resolver(Arc::new(SniResolver { default, by_name }));
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(LoadedTls {
            config: Arc::new(config),
            inventory,
        })
    }
}

/// A server configuration that can be replaced while the server runs.
pub struct ReloadableTls {
    files: TlsFiles,
    current: ArcSwap<LoadedTls>,
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
    pub fn new(files: TlsFiles, now_unix: i64) -> Result<Self, Error> {
        let loaded = files.load(now_unix)?;
        Ok(ReloadableTls {
            files,
            current: ArcSwap::from_pointee(loaded),
        })
    }

    /// The configuration new connections use now.
    pub fn current(&self) -> Arc<ServerConfig> {
        self.current.load().config.clone()
    }

    /// The configuration and its inventory, as one consistent snapshot.
    pub fn loaded(&self) -> Arc<LoadedTls> {
        self.current.load_full()
    }

    /// The files the configuration is built from.
    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    /// Reads the files again and swaps the new configuration and inventory
    /// in together; on any error the old ones keep serving.
    pub fn reload(&self, now_unix: i64) -> Result<Arc<LoadedTls>, Error> {
        let loaded = Arc::new(self.files.load(now_unix)?);
        self.current.store(loaded.clone());
        Ok(loaded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DevPki;

    const NOW: i64 = 1_800_000_000;

    fn write_dev(dir: &Path) -> TlsFiles {
        let pki = DevPki::generate(NOW).unwrap();
        std::fs::write(dir.join("ca.pem"), &pki.ca_cert).unwrap();
        std::fs::write(dir.join("server.pem"), &pki.server_chain).unwrap();
        std::fs::write(dir.join("server-key.pem"), &pki.server_key).unwrap();
        std::fs::write(dir.join("admin-key.pem"), &pki.admin_key).unwrap();
        std::fs::write(
            dir.join("admin-keyfile.pem"),
            format!("{}{}", pki.admin_cert, pki.admin_key),
        )
        .unwrap();
        TlsFiles {
            cert: dir.join("server.pem"),
            key: dir.join("server-key.pem"),
            client_ca: Some(dir.join("ca.pem")),
            client_auth: ClientAuth::Optional,
            sni: BTreeMap::new(),
        }
    }

    #[test]
    fn dev_pki_builds_a_config_and_its_inventory() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_dev(dir.path());
        let tls = ReloadableTls::new(files, NOW).unwrap();
        let loaded = tls.loaded();
        assert_eq!(loaded.config.alpn_protocols.len(), 2);
        let inv = &loaded.inventory;
        assert_eq!(inv.keyfile.certificates.len(), 2, "leaf and CA");
        assert!(inv.keyfile.private_key_sha256.is_some());
        assert_eq!(inv.client_ca.certificates.len(), 1);
        assert_eq!(
            inv.leaves[0].subject_dn,
            "CN=localhost,OU=keyward dev,O=keyward"
        );
    }

    #[test]
    fn sni_entries_are_loaded_and_summarised() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = write_dev(dir.path());
        files
            .sni
            .insert("Other.Example".into(), dir.path().join("admin-keyfile.pem"));
        let loaded = files.load(NOW).unwrap();
        assert!(
            loaded.inventory.sni["Other.Example"]
                .private_key_sha256
                .is_some()
        );
        assert_eq!(loaded.inventory.leaves.len(), 2);
    }

    #[test]
    fn failed_reload_keeps_the_old_config() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = write_dev(dir.path());
        let tls = ReloadableTls::new(files.clone(), NOW).unwrap();
        let before = tls.loaded();
        // A key that does not match the certificate.
        std::fs::copy(
            dir.path().join("admin-key.pem"),
            dir.path().join("server-key.pem"),
        )
        .unwrap();
        let err = tls.reload(NOW).unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err}");
        assert!(Arc::ptr_eq(&before, &tls.loaded()));
        files.cert = dir.path().join("missing.pem");
        assert!(matches!(files.load(NOW), Err(Error::Read { .. })));
    }

    #[test]
    fn an_expired_or_future_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_dev(dir.path());
        let err = files
            .load(NOW + 10 * 365 * 24 * 3600)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not valid now"), "{err}");
        assert!(files.load(NOW - 86_400).is_err());
    }

    #[test]
    fn garbage_is_refused_with_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = write_dev(dir.path());
        std::fs::write(dir.path().join("junk.pem"), "not pem").unwrap();
        files.cert = dir.path().join("junk.pem");
        let err = files.load(NOW).unwrap_err().to_string();
        assert!(
            err.contains("junk.pem") && err.contains("no CERTIFICATE"),
            "{err}"
        );
    }
}
