//! The crate's error type.
//!
//! Messages never carry key material: at most a path, a DN, a date.

use std::path::PathBuf;

use crate::CertificateInfo;

/// Everything that can go wrong loading, replacing or generating TLS material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A file does not hold what it should (no certificate, no key, bad PEM).
    #[error("{path}: {reason}")]
    Content {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A certificate that is not valid at the time of loading.
    #[error(
        "{path}: the certificate {} is not valid now (valid from {} to {})",
        certificate.subject_dn,
        certificate.not_before,
        certificate.not_after
    )]
    NotValidNow {
        /// The file it came from.
        path: PathBuf,
        /// The certificate.
        certificate: Box<CertificateInfo>,
        /// When it was checked (seconds since the epoch).
        now_unix: i64,
    },
    /// The certificate and key do not go together, or rustls refused them.
    #[error("TLS configuration refused: {0}")]
    Config(String),
    /// A replacement's leaf certificates have other subject DNs than the
    /// ones serving (the plugin's text).
    #[error(
        "New certificates do not have valid Subject DNs. Current Subject DNs [{}] new Subject DNs [{}]",
        current.join(", "),
        new.join(", ")
    )]
    SubjectDnsDiffer {
        /// Sorted subject DNs now serving.
        current: Vec<String>,
        /// Sorted subject DNs of the replacement.
        new: Vec<String>,
    },
    /// A replacement's leaf certificates have other issuer DNs.
    #[error(
        "New certificates do not have valid Issuer DNs. Current Issuer DNs: [{}] new Issuer DNs: [{}]",
        current.join(", "),
        new.join(", ")
    )]
    IssuerDnsDiffer {
        /// Sorted issuer DNs now serving.
        current: Vec<String>,
        /// Sorted issuer DNs of the replacement.
        new: Vec<String>,
    },
    /// A replacement's leaf certificates have other subject alternative names.
    #[error(
        "New certificates do not have valid SANs. Current SANs: [{}] new SANs: [{}]",
        current.join(", "),
        new.join(", ")
    )]
    SansDiffer {
        /// Sorted SAN renderings now serving.
        current: Vec<String>,
        /// Sorted SAN renderings of the replacement.
        new: Vec<String>,
    },
    /// Generating a certificate failed.
    #[error("certificate generation failed: {0}")]
    Generate(String),
}

impl Error {
    /// For [`Error::NotValidNow`]: true when the certificate has expired,
    /// false when it is not valid yet; `None` for other errors.
    pub fn expired(&self) -> Option<bool> {
        match self {
            Error::NotValidNow {
                certificate,
                now_unix,
                ..
            } => Some(*now_unix > certificate.not_after_unix),
            _ => None,
        }
    }
}
