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
//!
//! # Example: an application's own audit log in the plugin's format
//!
//! ```
//! use std::sync::Arc;
//! use audit_config::{
//!     AuditCategory, AuditConfig, AuditEvent, AuditSink, AuditTrail, LogLevels, NodeIdentity,
//!     SinkConfig,
//! };
//! use keyring_core::{Clock, Timestamp};
//!
//! struct Fixed;
//! impl Clock for Fixed {
//!     fn now(&self) -> Timestamp { Timestamp::from_unix_secs(1_700_000_000) }
//! }
//!
//! let dir = tempfile::tempdir().unwrap();
//! let log = dir.path().join("audit.log");
//! let sink = Arc::new(AuditSink::open(SinkConfig::new(&log), Arc::new(Fixed))?);
//! let trail = AuditTrail::new(
//!     &AuditConfig::shipped(),
//!     LogLevels::default(),
//!     Some(sink.clone()),
//!     NodeIdentity::default(),
//!     Arc::new(Fixed),
//! );
//!
//! // Decide cheaply, build the event only when it is wanted.
//! let category = AuditCategory::FailedLogin;
//! if trail.wants_rest(category, Some("mallory"), "/reports") {
//!     let mut event = AuditEvent::new(category, category.rest_topic(), trail.now());
//!     event.audit_request_effective_user = Some("mallory".into());
//!     event.audit_rest_request_method = Some("GET".into());
//!     event.audit_rest_request_path = Some("/reports".into());
//!     trail.record(event); // queued; a writer thread appends it
//! }
//! // The shipped configuration leaves AUTHENTICATED out, as the plugin's does.
//! assert!(!trail.wants_rest(AuditCategory::Authenticated, Some("alice"), "/reports"));
//!
//! sink.shutdown(); // drains, fsyncs, stops the writer
//! let line = std::fs::read_to_string(&log).unwrap();
//! let event: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
//! assert_eq!(event["audit_category"], "FAILED_LOGIN");
//! assert_eq!(event["audit_request_effective_user"], "mallory");
//! # Ok::<(), audit_config::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

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
