//! TLS for keyward: loading PEM certificate chains and keys, a rustls server
//! configuration that can be swapped while the server runs, and the
//! certificates dev mode generates.
//!
//! A reload ([`ReloadableTls::reload`]) reads every file again and builds a
//! complete new configuration (the key must match the leaf certificate, the
//! client CA must parse) before swapping it in atomically; a failed reload
//! leaves the old configuration serving and says why. Connections already
//! established keep the configuration they started with.
//!
//! What a configuration serves is summarised from the very bytes it was built
//! from ([`TlsInventory`]): ArangoDB's file summaries ([`PemSummary`]) and the
//! OpenSearch plugin's certificate details ([`CertificateInfo`], DNs in
//! [`dn`]). [`ReloadableTls::reload_checked`] is the plugin's `reloadcerts`:
//! it also refuses new leaf certificates whose subject DNs, issuer DNs or
//! SANs differ from the serving ones.
//!
//! Nothing here opens a socket or reads the clock: the application owns its
//! listener, takes [`ReloadableTls::current`] for each connection it
//! accepts, and passes the time to check validity against.
//!
//! # Example: hot-reloadable TLS for an application's own rustls server
//!
//! ```
//! use tls_inventory::{DevPki, ReloadableTls, TlsFiles};
//!
//! let now = 1_700_000_000;
//! let dir = tempfile::tempdir().unwrap();
//! let (cert, key) = (dir.path().join("server.pem"), dir.path().join("server-key.pem"));
//! let pki = DevPki::generate(now)?;
//! std::fs::write(&cert, &pki.server_chain).unwrap();
//! std::fs::write(&key, &pki.server_key).unwrap();
//!
//! let tls = ReloadableTls::new(TlsFiles::simple(cert.clone(), key.clone()), now)?;
//! // Hand this to tokio-rustls (`TlsAcceptor::from`) for each new connection.
//! let _config: std::sync::Arc<rustls::ServerConfig> = tls.current();
//! let before = tls.loaded().inventory.leaves[0].serial_number.clone();
//!
//! // New files in place, one swap: later connections get the new certificate.
//! let renewed = DevPki::generate(now)?;
//! std::fs::write(&cert, &renewed.server_chain).unwrap();
//! std::fs::write(&key, &renewed.server_key).unwrap();
//! let loaded = tls.reload(now)?;
//! assert_ne!(loaded.inventory.leaves[0].serial_number, before);
//!
//! // A key that does not match the certificate is refused; the renewed
//! // configuration goes on serving.
//! std::fs::write(&key, &pki.server_key).unwrap();
//! assert!(tls.reload(now).is_err());
//! assert_eq!(tls.loaded().inventory.leaves[0].serial_number, loaded.inventory.leaves[0].serial_number);
//! # Ok::<(), tls_inventory::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cert_info;
mod dev_pki;
pub mod dn;
mod error;
mod pem_summary;
mod server_config;

pub use cert_info::{CertificateInfo, iso8601, java_date};
pub use dev_pki::{ADMIN_DN, DevPki};
pub use error::Error;
pub use pem_summary::PemSummary;
pub use server_config::{
    ClientAuth, LoadedTls, ReloadableTls, Replacement, TlsFiles, TlsInventory, TlsSession,
};
