//! Audit logging: the audit configuration model of the OpenSearch Security
//! plugin, ArangoDB's log topics and levels, and the sink that writes one JSON
//! event per line off the request path.
//!
//! Status: the model and sink arrive with the audit issue; today the crate
//! holds its error type only.
#![forbid(unsafe_code)]

/// Everything that can go wrong in audit configuration or the audit sink.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The audit log could not be written.
    #[error("audit log: {0}")]
    Sink(String),
}
