//! The audit configuration of the OpenSearch Security plugin: the model with
//! its defaults, the document the API answers with (`_readonly` + `config`),
//! and the rules for replacing and patching it.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::category::{AuditCategory, REST_CATEGORIES, TRANSPORT_CATEGORIES};

/// Booleans as Jackson reads them: `true`, or the strings `"true"`/`"false"` in any case.
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Value::deserialize(d)? {
        Value::Bool(b) => Ok(b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        other => Err(serde::de::Error::custom(format!(
            "expected a boolean, got {other}"
        ))),
    }
}

fn yes() -> bool {
    true
}

fn kibanaserver() -> Vec<String> {
    vec!["kibanaserver".to_string()]
}

fn default_rest_disabled() -> Vec<AuditCategory> {
    vec![
        AuditCategory::Authenticated,
        AuditCategory::GrantedPrivileges,
    ]
}

fn default_transport_disabled() -> Vec<AuditCategory> {
    vec![
        AuditCategory::Authenticated,
        AuditCategory::GrantedPrivileges,
        AuditCategory::ClusterSettingsChanged,
        AuditCategory::IndexSettingsChanged,
    ]
}

/// The `audit` section. Absent keys take the model's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSection {
    /// Audit REST requests.
    #[serde(default = "yes", deserialize_with = "lenient_bool")]
    pub enable_rest: bool,
    /// REST categories not logged.
    #[serde(default = "default_rest_disabled")]
    pub disabled_rest_categories: Vec<AuditCategory>,
    /// Audit transport (node-to-node) requests.
    #[serde(default = "yes", deserialize_with = "lenient_bool")]
    pub enable_transport: bool,
    /// Transport categories not logged.
    #[serde(default = "default_transport_disabled")]
    pub disabled_transport_categories: Vec<AuditCategory>,
    /// Kept for compatibility; keyward has no bulk requests.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub resolve_bulk_requests: bool,
    /// Log request bodies, redacted: secret keys (passwords, hashes, tokens,
    /// plaintexts, ...) replaced everywhere; of Vault and secret-store
    /// routes only descriptive strings (`type`, `algorithm`, ...) kept.
    #[serde(default = "yes", deserialize_with = "lenient_bool")]
    pub log_request_body: bool,
    /// Kept for compatibility; keyward has no indices.
    #[serde(default = "yes", deserialize_with = "lenient_bool")]
    pub resolve_indices: bool,
    /// Leave sensitive headers out (credentials are left out regardless).
    #[serde(default = "yes", deserialize_with = "lenient_bool")]
    pub exclude_sensitive_headers: bool,
    /// Users whose requests are not logged (`*` wildcards; a single `NONE` means none).
    #[serde(default = "kibanaserver")]
    pub ignore_users: Vec<String>,
    /// Request paths not logged (`*` wildcards).
    #[serde(default)]
    pub ignore_requests: Vec<String>,
    /// Headers not logged.
    #[serde(default)]
    pub ignore_headers: Vec<String>,
    /// URL parameters not logged.
    #[serde(default)]
    pub ignore_url_params: Vec<String>,
}

impl Default for AuditSection {
    fn default() -> Self {
        serde_json::from_value(Value::Object(Default::default())).expect("defaults deserialize")
    }
}

/// The `compliance` section. Absent keys take the model's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplianceSection {
    /// Compliance logging on.
    #[serde(default = "yes", deserialize_with = "lenient_bool")]
    pub enabled: bool,
    /// Log changes to the server's own configuration and keys.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub internal_config: bool,
    /// Log the external configuration at start.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub external_config: bool,
    /// Log only metadata of reads.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub read_metadata_only: bool,
    /// Watched fields of reads (kept for compatibility).
    #[serde(default)]
    pub read_watched_fields: serde_json::Map<String, Value>,
    /// Users whose reads are not logged.
    #[serde(default = "kibanaserver")]
    pub read_ignore_users: Vec<String>,
    /// Log only metadata of writes.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub write_metadata_only: bool,
    /// Log diffs of writes.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub write_log_diffs: bool,
    /// Watched indices of writes (kept for compatibility).
    #[serde(default)]
    pub write_watched_indices: Vec<String>,
    /// Users whose writes are not logged.
    #[serde(default = "kibanaserver")]
    pub write_ignore_users: Vec<String>,
}

impl Default for ComplianceSection {
    fn default() -> Self {
        serde_json::from_value(Value::Object(Default::default())).expect("defaults deserialize")
    }
}

/// The whole audit configuration (`config` in the API's document).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// Audit logging on.
    #[serde(default = "yes", deserialize_with = "lenient_bool")]
    pub enabled: bool,
    /// What is logged of requests.
    #[serde(default)]
    pub audit: AuditSection,
    /// What is logged of configuration reads and writes.
    #[serde(default)]
    pub compliance: ComplianceSection,
}

/// Why a new configuration is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Top-level keys other than `enabled`, `audit`, `compliance` (sorted, comma-joined).
    #[error("Invalid configuration")]
    InvalidKeys(String),
    /// The body does not fit the model (unknown nested key, bad category, wrong type).
    #[error("Could not parse content of request.")]
    Unparsable(String),
    /// A `_readonly` path would change.
    #[error("Attempted to update read-only property.")]
    ReadOnly,
    /// A patch that cannot apply (bad path, unsupported operation).
    #[error("{0}")]
    Patch(String),
    /// A `_readonly` entry that names no field of the model.
    #[error("{0} is not a field of the audit configuration; the fields are {fields}", fields = AuditConfig::field_paths().join(", "))]
    UnknownPath(String),
}

impl AuditConfig {
    /// The configuration the plugin ships (`audit.yml`): what a new server starts with.
    pub fn shipped() -> Self {
        let mut c = AuditConfig {
            enabled: true,
            audit: AuditSection::default(),
            compliance: ComplianceSection::default(),
        };
        c.compliance.internal_config = true;
        c.compliance.read_metadata_only = true;
        c.compliance.write_metadata_only = true;
        c
    }

    /// Reads a `PUT .../audit/config` body: only `enabled`, `audit` and
    /// `compliance` at the top; everything must fit the model.
    pub fn from_put_body(body: &Value) -> Result<Self, ConfigError> {
        let Value::Object(map) = body else {
            return Err(ConfigError::Unparsable("the body is not an object".into()));
        };
        let mut invalid: Vec<&str> = map
            .keys()
            .map(String::as_str)
            .filter(|k| !["enabled", "audit", "compliance"].contains(k))
            .collect();
        if !invalid.is_empty() {
            invalid.sort_unstable();
            return Err(ConfigError::InvalidKeys(invalid.join(",")));
        }
        Self::from_value(body.clone())
    }

    fn from_value(value: Value) -> Result<Self, ConfigError> {
        let config: AuditConfig =
            serde_json::from_value(value).map_err(|e| ConfigError::Unparsable(e.to_string()))?;
        config.check_categories()?;
        Ok(config)
    }

    fn check_categories(&self) -> Result<(), ConfigError> {
        if let Some(c) = self
            .audit
            .disabled_rest_categories
            .iter()
            .find(|c| !REST_CATEGORIES.contains(c))
        {
            return Err(ConfigError::Unparsable(format!(
                "{c} is not a REST category"
            )));
        }
        if let Some(c) = self
            .audit
            .disabled_transport_categories
            .iter()
            .find(|c| !TRANSPORT_CATEGORIES.contains(c))
        {
            return Err(ConfigError::Unparsable(format!(
                "{c} is not a transport category"
            )));
        }
        Ok(())
    }

    fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("the model serializes")
    }

    /// Every field of the model as a JSON pointer relative to `config`
    /// (`/enabled`, `/audit/enable_rest`, ...): what `_readonly` may name.
    pub fn field_paths() -> Vec<String> {
        fn walk(prefix: &str, v: &Value, out: &mut Vec<String>) {
            if let Value::Object(map) = v
                && (prefix.is_empty() || prefix == "/audit" || prefix == "/compliance")
            {
                for (k, v) in map {
                    walk(&format!("{prefix}/{k}"), v, out);
                }
            } else {
                out.push(prefix.to_string());
            }
        }
        let mut out = Vec::new();
        walk("", &AuditConfig::shipped().to_value(), &mut out);
        out
    }

    /// Checks a `_readonly` list against [`AuditConfig::field_paths`].
    pub fn check_readonly_paths(paths: &[String]) -> Result<(), ConfigError> {
        let known = Self::field_paths();
        match paths.iter().find(|p| !known.contains(p)) {
            Some(p) => Err(ConfigError::UnknownPath(p.clone())),
            None => Ok(()),
        }
    }
}

/// The document `GET .../audit` answers with: the read-only paths and the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditDocument {
    /// JSON pointers, relative to `config`, that only the REST admin may change.
    #[serde(rename = "_readonly")]
    pub readonly: Vec<String>,
    /// The configuration.
    pub config: AuditConfig,
}

impl AuditDocument {
    /// A document with the given read-only paths and configuration.
    pub fn new(readonly: Vec<String>, config: AuditConfig) -> Self {
        AuditDocument { readonly, config }
    }

    fn check_readonly(&self, new: &AuditConfig, is_admin: bool) -> Result<(), ConfigError> {
        if is_admin {
            return Ok(());
        }
        let (old, new) = (self.config.to_value(), new.to_value());
        for path in &self.readonly {
            if old.pointer(path) != new.pointer(path) {
                return Err(ConfigError::ReadOnly);
            }
        }
        Ok(())
    }

    /// The configuration a PUT body would make; `None` when it equals the current one.
    pub fn replace(
        &self,
        body: &Value,
        is_admin: bool,
    ) -> Result<Option<AuditConfig>, ConfigError> {
        let new = AuditConfig::from_put_body(body)?;
        self.check_readonly(&new, is_admin)?;
        Ok((new != self.config).then_some(new))
    }

    /// The configuration a JSON Patch would make (paths start with
    /// `/config`); `None` when nothing changes.
    pub fn patch(&self, ops: &Value, is_admin: bool) -> Result<Option<AuditConfig>, ConfigError> {
        let patch: json_patch::Patch = serde_json::from_value(ops.clone())
            .map_err(|e| ConfigError::Patch(format!("Error in JSON patch: {e}")))?;
        for op in &patch.0 {
            let path = op.path().to_string();
            if path != "/config" && !path.starts_with("/config/") {
                return Err(ConfigError::Patch(format!(
                    "path {path} is outside the configuration; paths start with /config"
                )));
            }
        }
        let mut doc = serde_json::json!({ "config": self.config.to_value() });
        // The copy is thrown away on failure, so the variant that does not
        // try to undo (and cannot panic doing so) is the right one.
        json_patch::patch_unsafe(&mut doc, &patch)
            .map_err(|e| ConfigError::Patch(e.to_string()))?;
        let config = doc
            .get_mut("config")
            .map(Value::take)
            .ok_or_else(|| ConfigError::Patch("the patch removed the configuration".into()))?;
        let new = AuditConfig::from_value(config)?;
        self.check_readonly(&new, is_admin)?;
        Ok((new != self.config).then_some(new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shipped_document_is_the_plugins() {
        let doc = AuditDocument::new(vec![], AuditConfig::shipped());
        let expected = json!({"_readonly":[],
         "config":{"enabled":true,
           "audit":{"enable_rest":true,"disabled_rest_categories":["AUTHENTICATED","GRANTED_PRIVILEGES"],
                    "enable_transport":true,"disabled_transport_categories":["AUTHENTICATED","GRANTED_PRIVILEGES","CLUSTER_SETTINGS_CHANGED","INDEX_SETTINGS_CHANGED"],
                    "resolve_bulk_requests":false,"log_request_body":true,"resolve_indices":true,
                    "exclude_sensitive_headers":true,"ignore_users":["kibanaserver"],"ignore_requests":[],
                    "ignore_headers":[],"ignore_url_params":[]},
           "compliance":{"enabled":true,"internal_config":true,"external_config":false,"read_metadata_only":true,
                    "read_watched_fields":{},"read_ignore_users":["kibanaserver"],"write_metadata_only":true,
                    "write_log_diffs":false,"write_watched_indices":[],"write_ignore_users":["kibanaserver"]}}});
        assert_eq!(serde_json::to_value(&doc).unwrap(), expected);
    }

    #[test]
    fn put_rules() {
        let doc = AuditDocument::new(vec![], AuditConfig::shipped());
        // The GET body sent back is refused with the two top-level keys.
        let get = serde_json::to_value(&doc).unwrap();
        assert_eq!(
            doc.replace(&get, false),
            Err(ConfigError::InvalidKeys("_readonly,config".into()))
        );
        // Model defaults fill what is absent.
        let new = doc
            .replace(&json!({"enabled": true}), false)
            .unwrap()
            .unwrap();
        assert!(
            !new.compliance.internal_config,
            "the model's default, not the shipped file's"
        );
        assert!(matches!(
            doc.replace(&json!({"audit": {"nope": 1}}), false),
            Err(ConfigError::Unparsable(_))
        ));
        assert!(matches!(
            doc.replace(
                &json!({"audit": {"disabled_rest_categories": ["INDEX_EVENT"]}}),
                false
            ),
            Err(ConfigError::Unparsable(_))
        ));
        assert!(matches!(
            doc.replace(
                &json!({"audit": {"disabled_rest_categories": ["BOGUS"]}}),
                false
            ),
            Err(ConfigError::Unparsable(_))
        ));
        let same = serde_json::to_value(&doc.config).unwrap();
        assert_eq!(doc.replace(&same, false), Ok(None));
    }

    #[test]
    fn readonly_paths_are_guarded_except_for_the_admin() {
        let doc = AuditDocument::new(
            vec!["/audit/exclude_sensitive_headers".into()],
            AuditConfig::shipped(),
        );
        let mut body = serde_json::to_value(&doc.config).unwrap();
        body["audit"]["exclude_sensitive_headers"] = json!(false);
        assert_eq!(doc.replace(&body, false), Err(ConfigError::ReadOnly));
        assert!(doc.replace(&body, true).unwrap().is_some());
        body["audit"]["exclude_sensitive_headers"] = json!(true);
        body["audit"]["log_request_body"] = json!(false);
        assert!(
            doc.replace(&body, false).unwrap().is_some(),
            "other paths may change"
        );
    }

    #[test]
    fn readonly_paths_are_fields_of_the_model() {
        let paths = AuditConfig::field_paths();
        assert!(paths.contains(&"/enabled".to_string()));
        assert!(paths.contains(&"/audit/exclude_sensitive_headers".to_string()));
        assert!(paths.contains(&"/compliance/read_watched_fields".to_string()));
        assert_eq!(paths.len(), 1 + 12 + 10);
        assert!(AuditConfig::check_readonly_paths(&["/compliance/internal_config".into()]).is_ok());
        assert!(matches!(
            AuditConfig::check_readonly_paths(&["/audit/nope".into()]),
            Err(ConfigError::UnknownPath(_))
        ));
    }

    #[test]
    fn patch_rules() {
        let doc = AuditDocument::new(vec![], AuditConfig::shipped());
        let off = doc
            .patch(
                &json!([{"op":"add","path":"/config/enabled","value":"false"}]),
                false,
            )
            .unwrap()
            .unwrap();
        assert!(!off.enabled, "a string boolean is read as Jackson reads it");
        assert_eq!(
            doc.patch(
                &json!([{"op":"add","path":"/config/enabled","value":true}]),
                false
            ),
            Ok(None)
        );
        assert!(matches!(
            doc.patch(&json!([{"op":"add","path":"/test","value":1}]), false),
            Err(ConfigError::Patch(_))
        ));
        assert!(matches!(
            doc.patch(
                &json!([{"op":"add","path":"/config/test","value":1}]),
                false
            ),
            Err(ConfigError::Unparsable(_))
        ));
        assert!(matches!(
            doc.patch(&json!({"op":"add"}), false),
            Err(ConfigError::Patch(_))
        ));
    }
}
