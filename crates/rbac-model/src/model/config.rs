//! The security configuration document (`config.yml`, `P/securityconfig`):
//! `config.dynamic`. keyward reads the parts it acts on (Dashboards
//! multitenancy, `auth_failure_listeners`) into types and round-trips the
//! rest of the tree as it was stored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::serde_util::lenient_bool;

/// `config.dynamic`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DynamicConfig {
    /// Dashboards multitenancy.
    pub kibana: KibanaConfig,
    /// Brute-force protection.
    pub auth_failure_listeners: BTreeMap<String, AuthFailureListener>,
    /// Everything else, kept as stored.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Default for DynamicConfig {
    fn default() -> Self {
        let mut other = Map::new();
        other.insert("authc".into(), default_authc());
        other.insert("authz".into(), json!({}));
        DynamicConfig {
            kibana: KibanaConfig::default(),
            auth_failure_listeners: BTreeMap::new(),
            other,
        }
    }
}

fn default_authc() -> Value {
    json!({
        "basic_internal_auth_domain": {
            "description": "Authenticate via HTTP Basic against internal users database",
            "http_enabled": true,
            "transport_enabled": true,
            "order": 4,
            "http_authenticator": {"type": "basic", "challenge": true, "config": {}},
            "authentication_backend": {"type": "intern", "config": {}},
        }
    })
}

/// `config.dynamic.kibana`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KibanaConfig {
    /// Multitenancy on.
    #[serde(deserialize_with = "lenient_bool")]
    pub multitenancy_enabled: bool,
    /// Private tenants on.
    #[serde(deserialize_with = "lenient_bool")]
    pub private_tenant_enabled: bool,
    /// The tenant selected by default (`""` = global).
    pub default_tenant: String,
    /// Tenants offered first.
    pub preferred_tenants: Vec<String>,
    /// The Dashboards server user.
    pub server_username: String,
    /// The Dashboards index.
    pub index: String,
    /// Sign-in options shown by Dashboards.
    pub sign_in_options: Vec<String>,
}

impl Default for KibanaConfig {
    fn default() -> Self {
        KibanaConfig {
            multitenancy_enabled: true,
            private_tenant_enabled: true,
            default_tenant: String::new(),
            preferred_tenants: Vec::new(),
            server_username: "kibanaserver".into(),
            index: ".kibana".into(),
            sign_in_options: Vec::new(),
        }
    }
}

/// What an auth failure listener counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListenerType {
    /// Failures per client address.
    Ip,
    /// Failures per user name.
    Username,
}

/// One `auth_failure_listeners` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthFailureListener {
    /// `ip` or `username`.
    #[serde(rename = "type")]
    pub listener_type: ListenerType,
    /// `intern` for username listeners.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication_backend: Option<String>,
    /// Failures allowed inside the window (at least 1).
    pub allowed_tries: u32,
    /// The window.
    pub time_window_seconds: u64,
    /// How long a client stays blocked.
    pub block_expiry_seconds: u64,
    /// Most clients blocked at once.
    pub max_blocked_clients: usize,
    /// Most clients counted at once.
    pub max_tracked_clients: usize,
    /// Addresses never blocked (IPs or wildcard patterns).
    pub ignore_hosts: Vec<String>,
}

impl Default for AuthFailureListener {
    fn default() -> Self {
        AuthFailureListener {
            listener_type: ListenerType::Ip,
            authentication_backend: None,
            allowed_tries: 10,
            time_window_seconds: 3600,
            block_expiry_seconds: 600,
            max_blocked_clients: 100_000,
            max_tracked_clients: 100_000,
            ignore_hosts: Vec::new(),
        }
    }
}

impl DynamicConfig {
    /// `{"config":{"dynamic":{...}}}` as `GET P/securityconfig` shows it:
    /// the model's defaults filled in, values of keys named `password` masked.
    pub fn to_api(&self) -> Value {
        let mut dynamic = json!({
            "filtered_alias_mode": "warn",
            "disable_rest_auth": false,
            "disable_intertransport_auth": false,
            "respect_request_indices_options": false,
            "http": {"anonymous_auth_enabled": false, "xff": {
                "enabled": false,
                "internalProxies": "192\\.168\\.0\\.10|192\\.168\\.0\\.11",
                "remoteIpHeader": "X-Forwarded-For"}},
            "authc": {},
            "authz": {},
            "do_not_fail_on_forbidden": false,
            "multi_rolespan_enabled": true,
            "hosts_resolver_mode": "ip-only",
            "do_not_fail_on_forbidden_empty": false,
        });
        let mut stored = serde_json::to_value(self).unwrap_or_else(|_| json!({}));
        redact_passwords(&mut stored);
        merge(&mut dynamic, stored);
        json!({"config": {"dynamic": dynamic}})
    }
}

fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) if existing.is_object() && v.is_object() => merge(existing, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

fn redact_passwords(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                if k == "password" {
                    *child = json!("******");
                } else {
                    redact_passwords(child);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact_passwords),
        _ => {}
    }
}

/// `GET|PUT P/tenancy/config`: the Dashboards multitenancy knobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenancyConfig {
    /// `kibana.default_tenant`.
    pub default_tenant: String,
    /// `kibana.private_tenant_enabled`.
    pub private_tenant_enabled: bool,
    /// `kibana.multitenancy_enabled`.
    pub multitenancy_enabled: bool,
    /// `kibana.sign_in_options`.
    pub sign_in_options: Vec<String>,
    /// `kibana.preferred_tenants`.
    pub preferred_tenants: Vec<String>,
}

impl From<&KibanaConfig> for TenancyConfig {
    fn from(k: &KibanaConfig) -> Self {
        TenancyConfig {
            default_tenant: k.default_tenant.clone(),
            private_tenant_enabled: k.private_tenant_enabled,
            multitenancy_enabled: k.multitenancy_enabled,
            sign_in_options: k.sign_in_options.clone(),
            preferred_tenants: k.preferred_tenants.clone(),
        }
    }
}
