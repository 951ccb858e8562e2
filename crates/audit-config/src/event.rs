//! One audit event, with the plugin's field names (`audit_format_version` 4).
//!
//! Events never carry secrets: no plaintexts, ciphertexts, passwords, key
//! material or tokens. Request bodies are attached only by the caller that
//! knows they are safe (see [`redact_body`]).

use std::collections::BTreeMap;

use keyring_core::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::AuditCategory;

/// What a compliance event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ComplianceOperation {
    /// Something was created.
    Create,
    /// Something was changed.
    Update,
    /// Something was deleted.
    Delete,
}

/// One line of the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent {
    audit_format_version: u8,
    /// The category.
    pub audit_category: AuditCategory,
    /// `yyyy-MM-dd'T'HH:mm:ss.SSS+00:00`.
    #[serde(rename = "@timestamp")]
    pub timestamp: String,
    /// The ArangoDB topic the event is filed under (keyward's addition).
    pub audit_topic: &'static str,
    /// `REST`.
    pub audit_request_layer: &'static str,
    /// `REST` for requests, `LOCAL` for events of the server itself.
    pub audit_request_origin: &'static str,
    /// The node's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_node_name: Option<String>,
    /// The cluster's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_cluster_name: Option<String>,
    /// The request id (the same as Vault's `request_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_request_id: Option<String>,
    /// The client's address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_request_remote_address: Option<String>,
    /// The user the request acts as (the user name given, for a failed login).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_request_effective_user: Option<String>,
    /// True when that user is a superuser.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_request_effective_user_is_admin: Option<bool>,
    /// HTTP method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_rest_request_method: Option<String>,
    /// HTTP path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_rest_request_path: Option<String>,
    /// Query parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_rest_request_params: Option<BTreeMap<String, String>>,
    /// Request headers (credentials never included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_rest_request_headers: Option<BTreeMap<String, Vec<String>>>,
    /// The request body, redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_request_body: Option<String>,
    /// The permission that was checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_request_privilege: Option<String>,
    /// What a compliance event did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_compliance_operation: Option<ComplianceOperation>,
    /// What it did it to (a key, a role, a user: a name, never content).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_trace_resource: Option<String>,
}

/// `yyyy-MM-dd'T'HH:mm:ss.SSS+00:00`, as the plugin writes `@timestamp`.
pub fn format_timestamp(t: Timestamp) -> String {
    let dt = time::OffsetDateTime::from_unix_timestamp(t.unix_secs())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+00:00",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        t.subsec_nanos() / 1_000_000
    )
}

impl AuditEvent {
    /// An event of `category` filed under `topic`, at `now`, from the REST layer.
    pub fn new(category: AuditCategory, topic: &'static str, now: Timestamp) -> Self {
        AuditEvent {
            audit_format_version: 4,
            audit_category: category,
            timestamp: format_timestamp(now),
            audit_topic: topic,
            audit_request_layer: "REST",
            audit_request_origin: "REST",
            audit_node_name: None,
            audit_cluster_name: None,
            audit_request_id: None,
            audit_request_remote_address: None,
            audit_request_effective_user: None,
            audit_request_effective_user_is_admin: None,
            audit_rest_request_method: None,
            audit_rest_request_path: None,
            audit_rest_request_params: None,
            audit_rest_request_headers: None,
            audit_request_body: None,
            audit_request_privilege: None,
            audit_compliance_operation: None,
            audit_trace_resource: None,
        }
    }

    /// The event as one JSON line (with the newline).
    pub fn to_line(&self) -> Vec<u8> {
        let mut line = serde_json::to_vec(self).unwrap_or_default();
        line.push(b'\n');
        line
    }
}

/// Keys whose values never reach the audit log, at any depth.
const SECRET_KEYS: &[&str] = &[
    "password",
    "current_password",
    "hash",
    "plaintext",
    "ciphertext",
    "input",
    "hmac",
    "signature",
    "context",
    "associated_data",
    "nonce",
    "backup",
    "public_key",
    "value",
    "secret",
    "token",
    "client_token",
];

/// A request body fit for the audit log: JSON with every secret-bearing key
/// replaced by `"******"`; anything that is not JSON is left out entirely.
pub fn redact_body(body: &[u8]) -> Option<String> {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if SECRET_KEYS.contains(&k.as_str()) {
                        *v = Value::String("******".into());
                    } else {
                        walk(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    if body.is_empty() {
        return None;
    }
    let mut value: Value = serde_json::from_slice(body).ok()?;
    walk(&mut value);
    serde_json::to_string(&value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_has_the_plugins_format() {
        assert_eq!(
            format_timestamp(Timestamp::new(1_767_323_045, 678_000_000)),
            "2026-01-02T03:04:05.678+00:00"
        );
    }

    #[test]
    fn bodies_are_redacted_at_any_depth() {
        let body = br#"{"password":"s3cret","roles":["a"],"batch_input":[{"plaintext":"cGxhaW4="}],"opendistro_security_roles":[]}"#;
        let red = redact_body(body).unwrap();
        assert!(
            !red.contains("s3cret") && !red.contains("cGxhaW4="),
            "{red}"
        );
        assert!(red.contains("\"roles\":[\"a\"]"));
        assert_eq!(redact_body(b"not json"), None);
        assert_eq!(redact_body(b""), None);
    }

    #[test]
    fn a_line_has_the_plugin_fields() {
        let mut e = AuditEvent::new(
            AuditCategory::FailedLogin,
            "audit-authentication",
            Timestamp::from_unix_secs(0),
        );
        e.audit_request_effective_user = Some("bob".into());
        let v: Value = serde_json::from_slice(&e.to_line()).unwrap();
        assert_eq!(v["audit_format_version"], 4);
        assert_eq!(v["audit_category"], "FAILED_LOGIN");
        assert_eq!(v["@timestamp"], "1970-01-01T00:00:00.000+00:00");
        assert_eq!(v["audit_request_effective_user"], "bob");
        assert!(v.get("audit_request_body").is_none());
    }
}
