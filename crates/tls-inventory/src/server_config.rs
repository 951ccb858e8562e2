//! The rustls server configuration, built from files and swappable at run
//! time together with the inventory of what it serves.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{ProtocolVersion, RootCertStore, ServerConfig, ServerConnection};
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
    /// The leaf certificates served, the ones with a private key (default
    /// first, then per SNI name in name order).
    pub leaves: Vec<CertificateInfo>,
    /// The certificates without a private key: those of the client CA file,
    /// then the rest of each chain (default first), as the plugin lists
    /// them before the leaves.
    pub authorities: Vec<CertificateInfo>,
}

impl TlsInventory {
    fn fingerprints(list: &[CertificateInfo]) -> BTreeSet<&str> {
        list.iter().map(|c| c.sha256_fingerprint.as_str()).collect()
    }
}

/// A built configuration and its inventory; swapped as one.
pub struct LoadedTls {
    /// The rustls configuration new connections use.
    pub config: Arc<ServerConfig>,
    /// What it serves.
    pub inventory: TlsInventory,
    default_chain: Vec<CertificateDer<'static>>,
    /// Per lower-case SNI name.
    sni_chains: BTreeMap<String, Vec<CertificateDer<'static>>>,
    /// The file each certificate came from, by SHA-256 fingerprint.
    sources: BTreeMap<String, PathBuf>,
}

impl std::fmt::Debug for LoadedTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedTls")
            .field("inventory", &self.inventory)
            .finish_non_exhaustive()
    }
}

impl LoadedTls {
    /// The chain served to a client that asked for `server_name` (SNI).
    pub fn served_chain(&self, server_name: Option<&str>) -> &[CertificateDer<'static>] {
        server_name
            .and_then(|n| self.sni_chains.get(&n.to_ascii_lowercase()))
            .unwrap_or(&self.default_chain)
    }
}

/// What one TLS session negotiated, in the names Java gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSession {
    /// `TLSv1.3` or `TLSv1.2`.
    pub protocol: Option<String>,
    /// The IANA name of the cipher suite (`TLS_AES_256_GCM_SHA384`).
    pub cipher: Option<String>,
    /// The client's certificate chain (DER), leaf first; empty without one.
    pub peer_certificates: Vec<Vec<u8>>,
    /// The chain the server presented (DER), leaf first.
    pub local_certificates: Vec<Vec<u8>>,
}

impl TlsSession {
    /// Describes an established server connection that was set up with `loaded`.
    pub fn of(conn: &ServerConnection, loaded: &LoadedTls) -> Self {
        let protocol = conn.protocol_version().map(|v| match v {
            ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
            ProtocolVersion::TLSv1_2 => "TLSv1.2".to_string(),
            other => format!("{other:?}"),
        });
        let cipher = conn.negotiated_cipher_suite().map(|s| {
            let name = s
                .suite()
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("{:?}", s.suite()));
            // rustls spells the TLS 1.3 suites `TLS13_...`; IANA and Java `TLS_...`.
            match name.strip_prefix("TLS13_") {
                Some(rest) => format!("TLS_{rest}"),
                None => name,
            }
        });
        TlsSession {
            protocol,
            cipher,
            peer_certificates: conn
                .peer_certificates()
                .map(|certs| certs.iter().map(|c| c.as_ref().to_vec()).collect())
                .unwrap_or_default(),
            local_certificates: loaded
                .served_chain(conn.server_name())
                .iter()
                .map(|c| c.as_ref().to_vec())
                .collect(),
        }
    }
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

fn describe(path: &Path, der: &CertificateDer<'_>, which: &str) -> Result<CertificateInfo, Error> {
    CertificateInfo::from_der(der).ok_or_else(|| Error::Content {
        path: path.to_path_buf(),
        reason: format!("the {which} certificate is not a parseable X.509 certificate"),
    })
}

fn private_key(path: &Path, pem: &[u8]) -> Result<PrivateKeyDer<'static>, Error> {
    // The PEM parser's own message could quote the file; say only what is wrong.
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| Error::Content {
        path: path.to_path_buf(),
        reason: match e {
            rustls_pki_types::pem::Error::NoItemsFound => "holds no private key".into(),
            _ => "holds no readable private key (PKCS#8, PKCS#1 or SEC1 PEM)".into(),
        },
    })
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// One chain and its key, checked and described.
struct Certified {
    key: Arc<CertifiedKey>,
    chain: Vec<CertificateDer<'static>>,
    leaf: CertificateInfo,
    rest: Vec<CertificateInfo>,
}

/// Checks the chain parses (and, if asked, that the leaf is valid at `now`)
/// and that the key belongs to the leaf.
fn certified(
    cert_path: &Path,
    chain: Vec<CertificateDer<'static>>,
    key_path: &Path,
    key: PrivateKeyDer<'static>,
    now_unix: i64,
    leaf_validity: bool,
) -> Result<Certified, Error> {
    let leaf = describe(cert_path, &chain[0], "first")?;
    if leaf_validity && !leaf.is_valid_at(now_unix) {
        return Err(Error::NotValidNow {
            path: cert_path.to_path_buf(),
            certificate: Box::new(leaf),
            now_unix,
        });
    }
    let rest = chain[1..]
        .iter()
        .map(|c| describe(cert_path, c, "chain"))
        .collect::<Result<Vec<_>, _>>()?;
    let key = CertifiedKey::from_der(chain.clone(), key, &provider()).map_err(|e| {
        Error::Config(format!(
            "{} and {}: {e}",
            cert_path.display(),
            key_path.display()
        ))
    })?;
    Ok(Certified {
        key: Arc::new(key),
        chain,
        leaf,
        rest,
    })
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
        self.load_with(now_unix, true)
    }

    fn load_with(&self, now_unix: i64, leaf_validity: bool) -> Result<LoadedTls, Error> {
        let cert_pem = read(&self.cert)?;
        let same_file = self.cert == self.key;
        let key_pem = if same_file {
            cert_pem.clone()
        } else {
            read(&self.key)?
        };
        let chain = certificates(&self.cert, &cert_pem)?;
        let key = private_key(&self.key, &key_pem)?;
        let default = certified(&self.cert, chain, &self.key, key, now_unix, leaf_validity)?;
        let mut inventory = TlsInventory {
            keyfile: PemSummary::of_pair(&cert_pem, (!same_file).then_some(key_pem.as_slice())),
            leaves: vec![default.leaf],
            ..TlsInventory::default()
        };
        let mut sources = BTreeMap::new();
        for c in inventory.leaves.iter().chain(&default.rest) {
            sources.insert(c.sha256_fingerprint.clone(), self.cert.clone());
        }
        let mut chain_rest = default.rest;

        let mut by_name = BTreeMap::new();
        let mut sni_chains = BTreeMap::new();
        for (name, path) in &self.sni {
            let pem = read(path)?;
            let chain = certificates(path, &pem)?;
            let key = private_key(path, &pem)?;
            let c = certified(path, chain, path, key, now_unix, leaf_validity)?;
            by_name.insert(name.to_ascii_lowercase(), c.key);
            sni_chains.insert(name.to_ascii_lowercase(), c.chain);
            inventory
                .sni
                .insert(name.clone(), PemSummary::of_file(&pem));
            for info in std::iter::once(&c.leaf).chain(&c.rest) {
                sources.insert(info.sha256_fingerprint.clone(), path.clone());
            }
            inventory.leaves.push(c.leaf);
            chain_rest.extend(c.rest);
        }

        let ca = match &self.client_ca {
            Some(ca_path) => {
                let ca_pem = read(ca_path)?;
                let certs = certificates(ca_path, &ca_pem)?;
                for c in &certs {
                    let info = describe(ca_path, c, "CA")?;
                    sources.insert(info.sha256_fingerprint.clone(), ca_path.clone());
                    inventory.authorities.push(info);
                }
                inventory.client_ca = PemSummary::of_file(&ca_pem);
                Some((ca_path, certs))
            }
            None => None,
        };
        inventory.authorities.extend(chain_rest);

        let builder = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| Error::Config(e.to_string()))?;
        let builder = match (self.client_auth, ca) {
            (ClientAuth::None, _) => builder.with_no_client_auth(),
            (_, None) => {
                return Err(Error::Config(
                    "client certificates are requested but no client CA file is configured".into(),
                ));
            }
            (mode, Some((ca_path, certs))) => {
                let mut roots = RootCertStore::empty();
                for cert in certs {
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
        let mut config = builder.with_cert_resolver(Arc::new(SniResolver {
            default: default.key,
            by_name,
        }));
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(LoadedTls {
            config: Arc::new(config),
            inventory,
            default_chain: default.chain,
            sni_chains,
            sources,
        })
    }
}

/// What a checked reload did.
#[derive(Debug, Clone)]
pub enum Replacement {
    /// The files hold the certificates already serving: nothing was swapped.
    Unchanged(Arc<LoadedTls>),
    /// The new configuration serves from now on.
    Replaced(Arc<LoadedTls>),
}

/// The sorted values of one field of the leaves, as the plugin compares them.
fn sorted(list: &[CertificateInfo], field: fn(&CertificateInfo) -> &String) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|c| field(c).clone()).collect();
    v.sort();
    v
}

/// A server configuration that can be replaced while the server runs.
pub struct ReloadableTls {
    files: TlsFiles,
    current: ArcSwap<LoadedTls>,
    /// One reload at a time, so a checked reload compares with what it replaces.
    reloads: Mutex<()>,
    /// Reloads that succeeded (replaced or found nothing to change).
    reloaded: AtomicU64,
    /// Reloads refused (the old configuration kept serving).
    failed: AtomicU64,
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
            reloads: Mutex::new(()),
            reloaded: AtomicU64::new(0),
            failed: AtomicU64::new(0),
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

    /// How many reloads succeeded and how many were refused since start
    /// (every kind: SIGHUP, ArangoDB's POST, the plugin's `reloadcerts`).
    pub fn reload_counts(&self) -> (u64, u64) {
        (
            self.reloaded.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }

    fn count<T>(&self, outcome: Result<T, Error>) -> Result<T, Error> {
        let counter = if outcome.is_ok() {
            &self.reloaded
        } else {
            &self.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
        outcome
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        // The guard protects no data: a panic elsewhere leaves nothing broken.
        self.reloads.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads the files again and swaps the new configuration and inventory
    /// in together; on any error the old ones keep serving. (ArangoDB's
    /// `POST /_admin/server/tls` and SIGHUP.)
    pub fn reload(&self, now_unix: i64) -> Result<Arc<LoadedTls>, Error> {
        let _guard = self.lock();
        let loaded = Arc::new(self.count(self.files.load(now_unix))?);
        self.current.store(loaded.clone());
        Ok(loaded)
    }

    /// The OpenSearch plugin's reload (`reloadcerts`): when the CA
    /// certificates changed, each new one must be valid now; when the leaf
    /// certificates changed, each new one must be valid now and, with
    /// `verify_dns`, the sorted subject DNs, issuer DNs and SANs must equal
    /// the current ones. Files that hold the certificates already serving
    /// change nothing. On any error the old configuration keeps serving.
    pub fn reload_checked(&self, now_unix: i64, verify_dns: bool) -> Result<Replacement, Error> {
        let _guard = self.lock();
        let outcome = self.checked(now_unix, verify_dns);
        self.count(outcome)
    }

    fn checked(&self, now_unix: i64, verify_dns: bool) -> Result<Replacement, Error> {
        let current = self.current.load_full();
        let new = self.files.load_with(now_unix, false)?;
        let (old_inv, new_inv) = (&current.inventory, &new.inventory);
        let mut changed = false;
        if TlsInventory::fingerprints(&old_inv.authorities)
            != TlsInventory::fingerprints(&new_inv.authorities)
        {
            changed = true;
            Self::check_validity(&new, &new_inv.authorities, now_unix)?;
        }
        if TlsInventory::fingerprints(&old_inv.leaves)
            != TlsInventory::fingerprints(&new_inv.leaves)
        {
            changed = true;
            Self::check_validity(&new, &new_inv.leaves, now_unix)?;
            if verify_dns {
                let (current, new) = (
                    sorted(&old_inv.leaves, |c| &c.subject_dn),
                    sorted(&new_inv.leaves, |c| &c.subject_dn),
                );
                if current != new {
                    return Err(Error::SubjectDnsDiffer { current, new });
                }
                let (current, new) = (
                    sorted(&old_inv.leaves, |c| &c.issuer_dn),
                    sorted(&new_inv.leaves, |c| &c.issuer_dn),
                );
                if current != new {
                    return Err(Error::IssuerDnsDiffer { current, new });
                }
                let (current, new) = (
                    sorted(&old_inv.leaves, |c| &c.san),
                    sorted(&new_inv.leaves, |c| &c.san),
                );
                if current != new {
                    return Err(Error::SansDiffer { current, new });
                }
            }
        }
        if !changed {
            return Ok(Replacement::Unchanged(current));
        }
        let new = Arc::new(new);
        self.current.store(new.clone());
        Ok(Replacement::Replaced(new))
    }

    fn check_validity(
        loaded: &LoadedTls,
        list: &[CertificateInfo],
        now_unix: i64,
    ) -> Result<(), Error> {
        match list.iter().find(|c| !c.is_valid_at(now_unix)) {
            None => Ok(()),
            Some(c) => Err(Error::NotValidNow {
                path: loaded
                    .sources
                    .get(&c.sha256_fingerprint)
                    .cloned()
                    .unwrap_or_default(),
                certificate: Box::new(c.clone()),
                now_unix,
            }),
        }
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
        std::fs::copy(
            dir.path().join("server-key.pem"),
            dir.path().join("server-key.pem.orig"),
        )
        .unwrap();
        // A key that does not match the certificate.
        std::fs::copy(
            dir.path().join("admin-key.pem"),
            dir.path().join("server-key.pem"),
        )
        .unwrap();
        let err = tls.reload(NOW).unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err}");
        assert!(Arc::ptr_eq(&before, &tls.loaded()));
        assert_eq!(tls.reload_counts(), (0, 1), "one refused reload counted");
        assert!(tls.reload_checked(NOW, true).is_err());
        assert_eq!(tls.reload_counts(), (0, 2));
        std::fs::copy(
            dir.path().join("server-key.pem.orig"),
            dir.path().join("server-key.pem"),
        )
        .unwrap();
        tls.reload(NOW).unwrap();
        assert_eq!(tls.reload_counts(), (1, 2));
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

    /// A CA kept in memory that issues leaves with a chosen subject, SANs and validity.
    struct TestCa {
        issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
        pem: String,
    }

    impl TestCa {
        fn new(cn: &str) -> TestCa {
            let key = rcgen::KeyPair::generate().unwrap();
            let mut params = rcgen::CertificateParams::default();
            params.distinguished_name = rcgen::DistinguishedName::new();
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, cn);
            params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            params.not_before = time::OffsetDateTime::from_unix_timestamp(NOW - 86_400).unwrap();
            params.not_after = time::OffsetDateTime::from_unix_timestamp(NOW + 86_400).unwrap();
            let cert = params.self_signed(&key).unwrap();
            TestCa {
                pem: cert.pem(),
                issuer: rcgen::Issuer::new(params, key),
            }
        }

        /// Writes `name.pem` (leaf) and `name-key.pem`.
        fn issue(&self, dir: &Path, name: &str, cn: &str, sans: &[&str], from: i64, to: i64) {
            let key = rcgen::KeyPair::generate().unwrap();
            let mut params = rcgen::CertificateParams::new(
                sans.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            )
            .unwrap();
            params.distinguished_name = rcgen::DistinguishedName::new();
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, cn);
            params.not_before = time::OffsetDateTime::from_unix_timestamp(from).unwrap();
            params.not_after = time::OffsetDateTime::from_unix_timestamp(to).unwrap();
            let cert = params.signed_by(&key, &self.issuer).unwrap();
            std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
            std::fs::write(dir.join(format!("{name}-key.pem")), key.serialize_pem()).unwrap();
        }
    }

    fn checked_setup(dir: &Path) -> (TestCa, ReloadableTls) {
        let ca = TestCa::new("Test CA");
        std::fs::write(dir.join("ca.pem"), &ca.pem).unwrap();
        ca.issue(dir, "node", "node-1", &["localhost"], NOW - 60, NOW + 3600);
        let files = TlsFiles {
            cert: dir.join("node.pem"),
            key: dir.join("node-key.pem"),
            client_ca: Some(dir.join("ca.pem")),
            client_auth: ClientAuth::Required,
            sni: BTreeMap::new(),
        };
        let tls = ReloadableTls::new(files, NOW).unwrap();
        (ca, tls)
    }

    fn replace_node(dir: &Path, from: &str) {
        std::fs::copy(dir.join(format!("{from}.pem")), dir.join("node.pem")).unwrap();
        std::fs::copy(
            dir.join(format!("{from}-key.pem")),
            dir.join("node-key.pem"),
        )
        .unwrap();
    }

    #[test]
    fn a_checked_reload_of_the_same_files_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (_ca, tls) = checked_setup(dir.path());
        let before = tls.loaded();
        match tls.reload_checked(NOW, true).unwrap() {
            Replacement::Unchanged(l) => assert!(Arc::ptr_eq(&l, &before)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_checked_reload_takes_a_new_certificate_with_the_same_names() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (ca, tls) = checked_setup(d);
        ca.issue(d, "same", "node-1", &["localhost"], NOW - 30, NOW + 7200);
        replace_node(d, "same");
        let Replacement::Replaced(new) = tls.reload_checked(NOW, true).unwrap() else {
            panic!("not replaced")
        };
        assert_eq!(new.inventory.leaves[0].not_before_unix, NOW - 30);
        assert!(Arc::ptr_eq(&new, &tls.loaded()));
    }

    #[test]
    fn a_checked_reload_refuses_other_names_with_the_plugin_text() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (ca, tls) = checked_setup(d);
        let before = tls.loaded();

        ca.issue(d, "other", "node-2", &["localhost"], NOW - 30, NOW + 7200);
        replace_node(d, "other");
        let err = tls.reload_checked(NOW, true).unwrap_err();
        assert_eq!(
            err.to_string(),
            "New certificates do not have valid Subject DNs. Current Subject DNs [CN=node-1] new Subject DNs [CN=node-2]"
        );
        assert!(
            Arc::ptr_eq(&before, &tls.loaded()),
            "the old one keeps serving"
        );

        ca.issue(d, "san", "node-1", &["other.example"], NOW - 30, NOW + 7200);
        replace_node(d, "san");
        let err = tls.reload_checked(NOW, true).unwrap_err();
        assert_eq!(
            err.to_string(),
            "New certificates do not have valid SANs. Current SANs: [[[2, localhost]]] new SANs: [[[2, other.example]]]"
        );

        let other_ca = TestCa::new("Other CA");
        other_ca.issue(d, "issuer", "node-1", &["localhost"], NOW - 30, NOW + 7200);
        replace_node(d, "issuer");
        let err = tls.reload_checked(NOW, true).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("New certificates do not have valid Issuer DNs. Current Issuer DNs: [CN=Test CA] new Issuer DNs: [CN=Other CA]"),
            "{err}"
        );
        assert!(Arc::ptr_eq(&before, &tls.loaded()));

        // Without DN verification the other subject is taken.
        replace_node(d, "other");
        assert!(matches!(
            tls.reload_checked(NOW, false).unwrap(),
            Replacement::Replaced(_)
        ));
    }

    #[test]
    fn a_checked_reload_refuses_a_certificate_not_valid_now() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (ca, tls) = checked_setup(d);
        ca.issue(d, "old", "node-1", &["localhost"], NOW - 7200, NOW - 3600);
        replace_node(d, "old");
        let err = tls.reload_checked(NOW, true).unwrap_err();
        assert_eq!(err.expired(), Some(true), "{err}");
        assert!(err.to_string().contains("node.pem"), "{err}");
        ca.issue(
            d,
            "future",
            "node-1",
            &["localhost"],
            NOW + 3600,
            NOW + 7200,
        );
        replace_node(d, "future");
        assert_eq!(
            tls.reload_checked(NOW, true).unwrap_err().expired(),
            Some(false)
        );
        // A plain reload refuses them too (the leaf must be valid now).
        assert!(matches!(tls.reload(NOW), Err(Error::NotValidNow { .. })));
    }

    #[test]
    fn the_served_chain_follows_sni() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = write_dev(dir.path());
        files
            .sni
            .insert("Admin.Example".into(), dir.path().join("admin-keyfile.pem"));
        let loaded = files.load(NOW).unwrap();
        let default = loaded.served_chain(None);
        assert_eq!(default.len(), 2);
        let named = loaded.served_chain(Some("admin.example"));
        assert_eq!(named.len(), 1);
        assert_eq!(
            crate::dn::subject_dn(named[0].as_ref()).as_deref(),
            Some("CN=admin,OU=keyward,O=keyward")
        );
        assert_eq!(loaded.served_chain(Some("unknown")).len(), 2);
    }
}
