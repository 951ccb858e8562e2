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
        // IPv4 by hand: the formatting machinery is a tenth of the
        // writer's time otherwise.
        Some(IpAddr::V4(v4)) => {
            let mut buf = [0u8; 15];
            let mut len = 0;
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    buf[len] = b'.';
                    len += 1;
                }
                if octet >= 100 {
                    buf[len] = b'0' + octet / 100;
                    len += 1;
                }
                if octet >= 10 {
                    buf[len] = b'0' + octet / 10 % 10;
                    len += 1;
                }
                buf[len] = b'0' + octet % 10;
                len += 1;
            }
            s.serialize_str(std::str::from_utf8(&buf[..len]).unwrap_or_default())
        }
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
    transcode(body, Mode::Plain)
}

/// A request body of an API that carries secrets in its values (Vault
/// transit, the secret store): JSON with every string value replaced by
/// `"__SENSITIVE__"` except those of a few descriptive keys (`type`,
/// `algorithm`, ...); numbers, booleans and the structure stay. Anything
/// that is not JSON is left out entirely.
pub fn redact_body_strict(body: &[u8]) -> Option<String> {
    transcode(body, Mode::Strict)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Keep everything but the values of secret keys (and bcrypt hashes).
    Plain,
    /// Keep the structure, numbers, booleans and descriptive strings only.
    Strict,
}

/// Reads the JSON in `body` and writes its redacted form in one pass:
/// strings without escapes are borrowed from the body, nothing is built
/// but the output (the audit writer does this for every logged body).
fn transcode(body: &[u8], mode: Mode) -> Option<String> {
    use serde::de::DeserializeSeed;
    if body.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(body.len().min(4096));
    let mut de = serde_json::Deserializer::from_slice(body);
    Redacting {
        out: &mut out,
        mode,
        keep: mode == Mode::Plain,
        redact: false,
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    Some(out)
}

/// A JSON string literal of `s` (quotes and escapes), appended to `out`.
fn push_json_str(out: &mut String, s: &str) {
    use std::fmt::Write as _;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn is_one_of(key: &str, keys: &[&str]) -> bool {
    keys.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// One JSON value on its way from the body to the log.
struct Redacting<'o> {
    out: &'o mut String,
    mode: Mode,
    /// Strings are kept (plain mode; strict mode: a descriptive key's value).
    keep: bool,
    /// The whole value is replaced (plain mode: a secret key's value).
    redact: bool,
}

impl Redacting<'_> {
    fn redacted(self) {
        push_json_str(self.out, REDACTED);
    }
}

/// An object key, borrowed from the body when it has no escapes.
struct Key;

impl<'de> serde::de::DeserializeSeed<'de> for Key {
    type Value = std::borrow::Cow<'de, str>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Key {
    type Value = std::borrow::Cow<'de, str>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Owned(v.to_string()))
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Redacting<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Redacting<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        if self.redact {
            self.redacted();
        } else {
            self.out.push_str(if v { "true" } else { "false" });
        }
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        if self.redact {
            self.redacted();
        } else {
            use std::fmt::Write as _;
            let _ = write!(self.out, "{v}");
        }
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        if self.redact {
            self.redacted();
        } else {
            use std::fmt::Write as _;
            let _ = write!(self.out, "{v}");
        }
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        if self.redact {
            self.redacted();
        } else {
            self.out.push_str(&Value::from(v).to_string());
        }
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        if self.redact {
            self.redacted();
        } else {
            self.out.push_str("null");
        }
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        if self.redact || !self.keep {
            self.redacted();
        } else if self.mode == Mode::Plain && is_bcrypt(v) {
            push_json_str(self.out, "__HASH__");
        } else {
            push_json_str(self.out, v);
        }
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.redact {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            self.redacted();
            return Ok(());
        }
        self.out.push('[');
        let mut first = true;
        loop {
            let len = self.out.len();
            if !first {
                self.out.push(',');
            }
            let item = Redacting {
                out: &mut *self.out,
                mode: self.mode,
                keep: self.keep,
                redact: false,
            };
            if seq.next_element_seed(item)?.is_none() {
                self.out.truncate(len);
                break;
            }
            first = false;
        }
        self.out.push(']');
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.redact {
            while map
                .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                .is_some()
            {}
            self.redacted();
            return Ok(());
        }
        self.out.push('{');
        let mut first = true;
        while let Some(key) = map.next_key_seed(Key)? {
            if !first {
                self.out.push(',');
            }
            first = false;
            push_json_str(self.out, &key);
            self.out.push(':');
            let (keep, redact) = match self.mode {
                Mode::Plain => (true, is_one_of(&key, SECRET_KEYS)),
                Mode::Strict => (is_one_of(&key, DESCRIPTIVE_KEYS), false),
            };
            map.next_value_seed(Redacting {
                out: &mut *self.out,
                mode: self.mode,
                keep,
                redact,
            })?;
        }
        self.out.push('}');
        Ok(())
    }
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

    /// The redactions as first written: parse into a tree, walk it. The
    /// one-pass transcoder must agree with them on every input.
    fn reference(body: &[u8], strict: bool) -> Option<Value> {
        fn plain(v: &mut Value) {
            match v {
                Value::Object(map) => {
                    for (k, v) in map.iter_mut() {
                        if SECRET_KEYS.contains(&k.to_ascii_lowercase().as_str()) {
                            *v = Value::String(REDACTED.into());
                        } else {
                            plain(v);
                        }
                    }
                }
                Value::Array(items) => items.iter_mut().for_each(plain),
                Value::String(s) if is_bcrypt(s) => *s = "__HASH__".into(),
                _ => {}
            }
        }
        fn strict_walk(v: &mut Value, keep: bool) {
            match v {
                Value::Object(map) => {
                    for (k, v) in map.iter_mut() {
                        let keep = DESCRIPTIVE_KEYS.contains(&k.to_ascii_lowercase().as_str());
                        strict_walk(v, keep);
                    }
                }
                Value::Array(items) => items.iter_mut().for_each(|v| strict_walk(v, keep)),
                Value::String(s) if !keep => *s = REDACTED.into(),
                _ => {}
            }
        }
        let mut v: Value = serde_json::from_slice(body).ok()?;
        if strict {
            strict_walk(&mut v, false);
        } else {
            plain(&mut v);
        }
        Some(v)
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let key = prop_oneof![
            Just("password".to_string()),
            Just("PlainText".to_string()),
            Just("type".to_string()),
            Just("Algorithm".to_string()),
            Just("token".to_string()),
            Just("name".to_string()),
            "[a-z_\"\\\\\u{e9}]{0,6}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "[ -~\n\t\u{0}\u{1f}\u{e9}\u{1F600}]{0,12}".prop_map(Value::from),
            Just(Value::from(
                "$2y$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"
            )),
        ];
        leaf.prop_recursive(4, 40, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::vec((key.clone(), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn the_transcoder_agrees_with_the_tree_walk(v in json_value()) {
            let body = serde_json::to_vec(&v).unwrap();
            for strict in [false, true] {
                let got = if strict { redact_body_strict(&body) } else { redact_body(&body) };
                let got: Value = serde_json::from_str(&got.unwrap()).unwrap();
                proptest::prop_assert_eq!(Some(got), reference(&body, strict));
            }
        }

        #[test]
        fn anything_that_is_not_json_is_left_out(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            let parses = serde_json::from_slice::<Value>(&bytes).is_ok();
            proptest::prop_assert_eq!(redact_body(&bytes).is_some(), parses);
            proptest::prop_assert_eq!(redact_body_strict(&bytes).is_some(), parses);
        }
    }

    #[test]
    fn duplicate_keys_and_escapes_are_redacted_too() {
        let body =
            br#"{"plaintext":"a","plaintext":"b","n\u0061me":"x\"y","Password":{"deep":["s"]}}"#;
        let plain = redact_body(body).unwrap();
        assert!(
            !plain.contains("\"a\"") && !plain.contains("\"b\"") && !plain.contains("deep"),
            "{plain}"
        );
        assert!(plain.contains(r#""name":"x\"y""#), "{plain}");
        let strict = redact_body_strict(body).unwrap();
        assert!(
            !strict.contains("x\\\"y") && !strict.contains("\"s\""),
            "{strict}"
        );
        assert_eq!(redact_body(b"{} x"), None, "trailing bytes");
    }

    proptest::proptest! {
        #[test]
        fn addresses_as_display_writes_them(octets in proptest::prelude::any::<[u8; 4]>(), v6 in proptest::prelude::any::<u128>()) {
            for ip in [IpAddr::from(octets), IpAddr::from(std::net::Ipv6Addr::from(v6))] {
                let mut e = AuditEvent::new(AuditCategory::FailedLogin, AuditTopic::Authentication, Timestamp::from_unix_secs(0));
                e.audit_request_remote_address = Some(ip);
                let v: Value = serde_json::from_slice(&e.to_line()).unwrap();
                let expected = ip.to_string();
                proptest::prop_assert_eq!(v["audit_request_remote_address"].as_str(), Some(expected.as_str()));
            }
        }
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
