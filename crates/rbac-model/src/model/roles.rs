//! Roles (`roles.yml`, `P/roles`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::serde_util::{is_false, lenient_bool};

/// A role: cluster, index and tenant permissions.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Role {
    /// Changed only by the REST admin.
    #[serde(deserialize_with = "lenient_bool", skip_serializing_if = "is_false")]
    pub reserved: bool,
    /// Invisible to anyone but the REST admin.
    #[serde(deserialize_with = "lenient_bool", skip_serializing_if = "is_false")]
    pub hidden: bool,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Cluster actions and action groups (patterns).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cluster_permissions: Vec<String>,
    /// Index permissions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub index_permissions: Vec<IndexPermission>,
    /// Dashboards tenant permissions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tenant_permissions: Vec<TenantPermission>,
}

/// One `index_permissions` entry.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndexPermission {
    /// Index patterns (may hold `${user_name}` and the like).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub index_patterns: Vec<String>,
    /// Document-level security query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dls: Option<String>,
    /// Field-level security (`~field` excludes).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fls: Vec<String>,
    /// Masked fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub masked_fields: Vec<String>,
    /// Index actions and action groups.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_actions: Vec<String>,
}

/// One `tenant_permissions` entry.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantPermission {
    /// Tenant patterns.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tenant_patterns: Vec<String>,
    /// Usually `kibana_all_read` or `kibana_all_write`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_actions: Vec<String>,
}

impl Role {
    /// The role as `GET P/roles` shows it.
    pub fn to_api(&self, is_static: bool) -> Value {
        let index: Vec<Value> = self
            .index_permissions
            .iter()
            .map(|p| {
                let mut v = json!({
                    "index_patterns": p.index_patterns,
                    "fls": p.fls,
                    "masked_fields": p.masked_fields,
                    "allowed_actions": p.allowed_actions,
                });
                if let Some(dls) = &p.dls {
                    v["dls"] = json!(dls);
                }
                v
            })
            .collect();
        let mut v = json!({
            "reserved": self.reserved,
            "hidden": self.hidden,
            "cluster_permissions": self.cluster_permissions,
            "index_permissions": index,
            "tenant_permissions": self.tenant_permissions.iter().map(|t| json!({
                "tenant_patterns": t.tenant_patterns,
                "allowed_actions": t.allowed_actions,
            })).collect::<Vec<_>>(),
            "static": is_static,
        });
        if let Some(d) = &self.description {
            v["description"] = json!(d);
        }
        v
    }
}
