//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong loading or generating TLS material.
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
    /// The certificate and key do not go together, or rustls refused them.
    #[error("TLS configuration refused: {0}")]
    Config(String),
    /// Generating a certificate failed.
    #[error("certificate generation failed: {0}")]
    Generate(String),
}
