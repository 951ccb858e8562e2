//! Handlers, one module per capability. Each parses its request into typed
//! values, calls the crate that owns the capability and renders the answer in
//! its family's envelope.

pub(crate) mod audit;
pub(crate) mod auth_token;
pub(crate) mod encryption;
pub(crate) mod health;
pub(crate) mod log_level;
pub(crate) mod metrics;
pub(crate) mod secrets;
pub(crate) mod security;
pub(crate) mod sys_capabilities;
pub(crate) mod sys_metrics;
pub(crate) mod sys_mounts;
pub(crate) mod sys_policies;
pub(crate) mod sys_quotas;
pub(crate) mod sys_snapshot;
pub(crate) mod tls;
pub(crate) mod transit;
