//! One audit event, with the plugin's field names (`audit_format_version` 4).
//!
//! Events never carry secrets: no plaintexts, ciphertexts, passwords, key
//! material or tokens. Request bodies are attached only after
//! [`redact_body`], credentials headers never (see `AuditFilter`), and
//! compliance events name what changed, never its content.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use keyring_core::Timestamp;
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::{AuditCategory, AuditTopic};

/// What a compliance event did, in the plugin's words.
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

/// What a compliance event did, in keyward's words (`audit_compliance_action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ComplianceAction {
    /// A key, secret or mount was created.
    Create,
    /// A configuration or a secret was replaced or changed.
    Update,
    /// Something was deleted.
    Delete,
    /// A key was rotated (transit key, AES key, encryption-at-rest user keys).
    Rotate,
    /// A transit key's settings changed.
    Config,
    /// Old versions of a transit key were deleted for good.
    Trim,
    /// Key material was imported (BYOK).
    Import,
    /// A key was restored from a backup.
    Restore,
    /// A secrets engine was mounted.
    Mount,
    /// A secrets engine was unmounted (its keys deleted).
    Unmount,
    /// TLS certificates were reloaded.
    Reload,
    /// Log levels were reset to their startup values.
    Reset,
}

impl ComplianceAction {
    /// The plugin's operation for this action.
    pub fn operation(self) -> ComplianceOperation {
        match self {
            ComplianceAction::Create
            | ComplianceAction::Import
            | ComplianceAction::Restore
            | ComplianceAction::Mount => ComplianceOperation::Create,
            ComplianceAction::Delete | ComplianceAction::Unmount => ComplianceOperation::Delete,
            _ => ComplianceOperation::Update,
        }
    }
}

/// Where an event comes from (`audit_request_origin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Origin {
    /// A REST request.
    Rest,
    /// The server itself (a signal, a timer, start-up).
    Local,
}

fn timestamp<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_timestamp(*t))
}

fn shared<S: Serializer>(v: &Option<Arc<str>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_str(v),
        None => s.serialize_none(),
    }
}

fn address<S: Serializer>(a: &Option<IpAddr>, s: S) -> Result<S::Ok, S::Error> {
    match a {
        Some(a) => s.collect_str(a),
        None => s.serialize_none(),
    }
}

/// Work on an event left to the audit writer thread, off the request path:
/// describing a request's headers, parameters and (redacted) body. The
/// writer calls it once, just before the event is serialized; an event that
/// is dropped (queue full) never costs it.
pub trait Deferred: Send {
    /// Fills in the event's remaining fields.
    fn complete(self: Box<Self>, event: &mut AuditEvent);
}

/// The deferred part of an event. Its `Debug` says only that it is there:
/// what it holds (headers, a body) may carry credentials.
#[derive(Default)]
pub struct DeferredSlot(Option<Box<dyn Deferred>>);

impl std::fmt::Debug for DeferredSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "[deferred request fields]"
        } else {
            "None"
        })
    }
}

/// One line of the audit log.
#[derive(Debug, Serialize)]
pub struct AuditEvent {
    audit_format_version: u8,
    /// The category.
    pub audit_category: AuditCategory,
    /// When: written as `yyyy-MM-dd'T'HH:mm:ss.SSS+00:00`.
    #[serde(rename = "@timestamp", serialize_with = "timestamp")]
    pub timestamp: Timestamp,
    /// The ArangoDB topic the event is filed under (keyward's addition).
    pub audit_topic: AuditTopic,
    /// `REST`.
    pub audit_request_layer: &'static str,
    /// `REST` for requests, `LOCAL` for events of the server itself.
    pub audit_request_origin: Origin,
    /// The node's name.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "shared")]
    pub audit_node_name: Option<Arc<str>>,
    /// The cluster's name.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "shared")]
    pub audit_cluster_name: Option<Arc<str>>,
    /// The request id (the same as Vault's `request_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_request_id: Option<String>,
    /// The client's address.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "address")]
    pub audit_request_remote_address: Option<IpAddr>,
    /// The user the request acts as (the user name given, or `<NONE>`, for a failed login).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_request_effective_user: Option<String>,
    /// True when that user is a superuser (root token or admin certificate).
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
    /// Request headers (credentials never with their values).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_rest_request_headers: Option<BTreeMap<String, Vec<String>>>,
    /// The request body, redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_request_body: Option<String>,
    /// The permission that was checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_request_privilege: Option<&'static str>,
    /// Why a TLS handshake failed (SSL_EXCEPTION).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_request_exception_stacktrace: Option<String>,
    /// What kind of thing a compliance event changed: a configuration type
    /// (`internalusers`, `roles`, `audit`, ...), `transit/keys`, `secrets`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_trace_doc_id: Option<String>,
    /// What a compliance event did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_compliance_operation: Option<ComplianceOperation>,
    /// What a compliance event did, in keyward's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_compliance_action: Option<ComplianceAction>,
    /// The names of what changed (keys, users, roles, secrets): names, never content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit_trace_resources: Option<Vec<String>>,
    /// What the writer thread completes before writing (never serialized).
    #[serde(skip)]
    pub deferred: DeferredSlot,
}

/// `yyyy-MM-dd'T'HH:mm:ss.SSS+00:00`, as the plugin writes `@timestamp`.
pub fn format_timestamp(t: Timestamp) -> String {
    let mut out = String::with_capacity(29);
    write_timestamp(t, &mut out);
    out
}

/// Appends the timestamp to `out`. The date and time down to the second
/// are formatted once per second per thread (the writer thread formats
/// every event's), only the milliseconds each time.
fn write_timestamp(t: Timestamp, out: &mut String) {
    use std::cell::RefCell;
    thread_local! {
        static SECOND: RefCell<(i64, String)> = const { RefCell::new((i64::MIN, String::new())) };
    }
    SECOND.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.0 != t.unix_secs() {
            let dt = time::OffsetDateTime::from_unix_timestamp(t.unix_secs())
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            cached.1 = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                dt.year(),
                u8::from(dt.month()),
                dt.day(),
                dt.hour(),
                dt.minute(),
                dt.second(),
            );
            cached.0 = t.unix_secs();
        }
        out.push_str(&cached.1);
    });
    let ms = t.subsec_nanos() / 1_000_000;
    out.push('.');
    for d in [ms / 100, ms / 10 % 10, ms % 10] {
        out.push(char::from(b'0' + d as u8));
    }
    out.push_str("+00:00");
}

impl AuditEvent {
    /// An event of `category` filed under `topic`, at `now`, from the REST layer.
    pub fn new(category: AuditCategory, topic: AuditTopic, now: Timestamp) -> Self {
        AuditEvent {
            audit_format_version: 4,
            audit_category: category,
            timestamp: now,
            audit_topic: topic,
            audit_request_layer: "REST",
            audit_request_origin: Origin::Rest,
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
            audit_request_exception_stacktrace: None,
            audit_trace_doc_id: None,
            audit_compliance_operation: None,
            audit_compliance_action: None,
            audit_trace_resources: None,
            deferred: DeferredSlot::default(),
        }
    }

    /// Leaves `work` to the writer thread (see [`Deferred`]).
    pub fn defer(&mut self, work: Box<dyn Deferred>) {
        self.deferred = DeferredSlot(Some(work));
    }

    /// Runs the deferred work, if any (the writer does, before writing).
    pub fn complete(&mut self) {
        if let Some(work) = self.deferred.0.take() {
            work.complete(self);
        }
    }

    /// A COMPLIANCE_INTERNAL_CONFIG_WRITE event: `action` done to the
    /// `resources` (names) of `doc_id`.
    pub fn config_write(
        topic: AuditTopic,
        action: ComplianceAction,
        doc_id: impl Into<String>,
        resources: Vec<String>,
        now: Timestamp,
    ) -> Self {
        let mut e = AuditEvent::new(AuditCategory::ComplianceInternalConfigWrite, topic, now);
        e.audit_compliance_operation = Some(action.operation());
        e.audit_compliance_action = Some(action);
        e.audit_trace_doc_id = Some(doc_id.into());
        e.audit_trace_resources = (!resources.is_empty()).then_some(resources);
        e
    }

    /// The event as one JSON line (with the newline), its deferred work done.
    pub fn to_line(&mut self) -> Vec<u8> {
        self.complete();
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
    "key",
    "keys",
    "wrapped_key",
    "secrets",
];

/// String values [`redact_body_strict`] keeps: they describe a request,
/// they are never secrets.
const DESCRIPTIVE_KEYS: &[&str] = &[
    "type",
    "algorithm",
    "hash_algorithm",
    "signature_algorithm",
    "marshaling_algorithm",
    "format",
    "auto_rotate_period",
    "description",
    "source",
    "kdf",
    "padding_scheme",
];

/// The value that replaces a secret in a logged body (the plugin's word).
pub const REDACTED: &str = "__SENSITIVE__";

/// A request body fit for the audit log: JSON with every secret-bearing key
/// replaced by `"__SENSITIVE__"` and any bcrypt hash by `"__HASH__"`;
/// anything that is not JSON is left out entirely.
pub fn redact_body(body: &[u8]) -> Option<String> {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if SECRET_KEYS.contains(&k.to_ascii_lowercase().as_str()) {
                        *v = Value::String(REDACTED.into());
                    } else {
                        walk(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            Value::String(s) if is_bcrypt(s) => *s = "__HASH__".into(),
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

/// A request body of an API that carries secrets in its values (Vault
/// transit, the secret store): JSON with every string value replaced by
/// `"__SENSITIVE__"` except those of a few descriptive keys (`type`,
/// `algorithm`, ...); numbers, booleans and the structure stay. Anything
/// that is not JSON is left out entirely.
pub fn redact_body_strict(body: &[u8]) -> Option<String> {
    fn walk(v: &mut Value, keep: bool) {
        match v {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    let keep = DESCRIPTIVE_KEYS.contains(&k.to_ascii_lowercase().as_str());
                    walk(v, keep);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, keep)),
            Value::String(s) if !keep => *s = REDACTED.into(),
            _ => {}
        }
    }
    if body.is_empty() {
        return None;
    }
    let mut value: Value = serde_json::from_slice(body).ok()?;
    walk(&mut value, false);
    serde_json::to_string(&value).ok()
}

fn is_bcrypt(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 60 && b[0] == b'$' && b[1] == b'2' && b"ayb".contains(&b[2]) && b[3] == b'$'
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
        let body = br#"{"password":"s3cret","roles":["a"],"batch_input":[{"plaintext":"cGxhaW4="}],"opendistro_security_roles":[],"Value":"v4lue","h":"$2y$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"}"#;
        let red = redact_body(body).unwrap();
        for secret in ["s3cret", "cGxhaW4=", "v4lue", "R9h/cIPz0gi"] {
            assert!(!red.contains(secret), "{red}");
        }
        assert!(red.contains("\"roles\":[\"a\"]"));
        assert!(red.contains("__SENSITIVE__") && red.contains("__HASH__"));
        assert_eq!(redact_body(b"not json"), None);
        assert_eq!(redact_body(b""), None);
    }

    #[test]
    fn strict_redaction_keeps_only_descriptive_strings() {
        let body = br#"{"type":"aes256-gcm96","exportable":true,"name":"k","batch_input":[{"plaintext":"cA==","reference":"r1"}],"secrets":{"a":"v1"},"n":3}"#;
        let red = redact_body_strict(body).unwrap();
        let v: Value = serde_json::from_str(&red).unwrap();
        assert_eq!(v["type"], "aes256-gcm96");
        assert_eq!(v["exportable"], true);
        assert_eq!(v["n"], 3);
        for secret in ["cA==", "r1", "v1", "\"k\""] {
            assert!(!red.contains(secret), "{red}");
        }
        assert_eq!(
            redact_body_strict(b"\"plain\"").unwrap(),
            "\"__SENSITIVE__\""
        );
        assert_eq!(redact_body_strict(b"a=b"), None);
    }

    #[test]
    fn timestamps_as_the_plugin_writes_them() {
        for (secs, nanos, text) in [
            (0, 0, "1970-01-01T00:00:00.000+00:00"),
            (1_800_000_000, 7_000_000, "2027-01-15T08:00:00.007+00:00"),
            (1_800_000_000, 999_999_999, "2027-01-15T08:00:00.999+00:00"),
            (1_800_000_001, 120_000_000, "2027-01-15T08:00:01.120+00:00"),
            (951_782_400, 45_000_000, "2000-02-29T00:00:00.045+00:00"),
        ] {
            assert_eq!(format_timestamp(Timestamp::new(secs, nanos)), text);
        }
    }

    #[test]
    fn a_line_has_the_plugin_fields() {
        let mut e = AuditEvent::new(
            AuditCategory::FailedLogin,
            AuditTopic::Authentication,
            Timestamp::from_unix_secs(0),
        );
        e.audit_request_effective_user = Some("bob".into());
        e.audit_request_remote_address = Some("127.0.0.1".parse().unwrap());
        let v: Value = serde_json::from_slice(&e.to_line()).unwrap();
        assert_eq!(v["audit_format_version"], 4);
        assert_eq!(v["audit_category"], "FAILED_LOGIN");
        assert_eq!(v["@timestamp"], "1970-01-01T00:00:00.000+00:00");
        assert_eq!(v["audit_topic"], "audit-authentication");
        assert_eq!(v["audit_request_origin"], "REST");
        assert_eq!(v["audit_request_effective_user"], "bob");
        assert_eq!(v["audit_request_remote_address"], "127.0.0.1");
        assert!(v.get("audit_request_body").is_none());
    }

    #[test]
    fn deferred_work_runs_before_the_line_is_written() {
        struct Path(&'static str);
        impl Deferred for Path {
            fn complete(self: Box<Self>, e: &mut AuditEvent) {
                e.audit_request_body = Some(self.0.to_string());
            }
        }
        let mut e = AuditEvent::new(
            AuditCategory::GrantedPrivileges,
            AuditTopic::Authorization,
            Timestamp::from_unix_secs(0),
        );
        e.defer(Box::new(Path("{}")));
        assert_eq!(format!("{:?}", e.deferred), "[deferred request fields]");
        let v: Value = serde_json::from_slice(&e.to_line()).unwrap();
        assert_eq!(v["audit_request_body"], "{}");
        assert!(v.get("deferred").is_none());
    }

    #[test]
    fn compliance_events_name_what_changed() {
        let mut e = AuditEvent::config_write(
            AuditTopic::Collection,
            ComplianceAction::Rotate,
            "transit/keys",
            vec!["orders".into()],
            Timestamp::from_unix_secs(0),
        );
        let v: Value = serde_json::from_slice(&e.to_line()).unwrap();
        assert_eq!(v["audit_category"], "COMPLIANCE_INTERNAL_CONFIG_WRITE");
        assert_eq!(v["audit_compliance_operation"], "UPDATE");
        assert_eq!(v["audit_compliance_action"], "rotate");
        assert_eq!(v["audit_trace_doc_id"], "transit/keys");
        assert_eq!(v["audit_trace_resources"][0], "orders");
        assert_eq!(
            ComplianceAction::Unmount.operation(),
            ComplianceOperation::Delete
        );
    }
}
