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
#![forbid(unsafe_code)]

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
