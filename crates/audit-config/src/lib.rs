//! Audit logging: the audit configuration model of the OpenSearch Security
//! plugin ([`AuditConfig`], [`AuditDocument`]), ArangoDB's log topics and
//! levels ([`LogLevels`]), which events a configuration wants
//! ([`AuditFilter`]), the events themselves ([`AuditEvent`]), and the sink
//! that writes one JSON object per line off the request path ([`AuditSink`]).
//!
//! An event is written when the audit configuration wants its category and
//! the ArangoDB topic it is filed under is at INFO or more verbose: setting
//! `audit-authentication` to WARNING silences failed logins, as in ArangoDB.
//!
//! No secrets ever reach the log: events carry names, never plaintexts,
//! ciphertexts, passwords, key material or tokens.
#![forbid(unsafe_code)]

mod category;
mod config;
mod event;
mod filter;
mod levels;
mod sink;
mod trail;

pub use category::{AuditCategory, REST_CATEGORIES, TRANSPORT_CATEGORIES, UnknownCategory};
pub use config::{AuditConfig, AuditDocument, AuditSection, ComplianceSection, ConfigError};
pub use event::{
    AuditEvent, ComplianceAction, ComplianceOperation, Deferred, DeferredSlot, Origin, REDACTED,
    format_timestamp, redact_body, redact_body_strict,
};
pub use filter::{AuditFilter, SENSITIVE_HEADERS};
pub use levels::{
    APPENDER, AUDIT_TOPICS, AuditTopic, LevelChange, LevelsError, LogLevel, LogLevels,
    TRACING_TARGETS,
};
pub use sink::{AuditSink, SinkConfig, SinkCounts, SinkStats};
pub use trail::{AuditTrail, NodeIdentity};

/// Everything that can go wrong in audit configuration or the audit sink.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The audit log could not be opened or written.
    #[error("audit log: {0}")]
    Sink(String),
    /// A configuration change was refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A log level change was refused.
    #[error(transparent)]
    Levels(#[from] LevelsError),
}
