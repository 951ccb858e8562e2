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
//! The certificate summaries and the OpenSearch / ArangoDB inventory views
//! arrive with the TLS issue.
#![forbid(unsafe_code)]

mod cert_info;
mod dev_pki;
pub mod dn;
mod error;
mod pem_summary;
mod server_config;

pub use cert_info::CertificateInfo;
pub use dev_pki::{ADMIN_DN, DevPki};
pub use error::Error;
pub use pem_summary::PemSummary;
pub use server_config::{ClientAuth, LoadedTls, ReloadableTls, TlsFiles, TlsInventory};
