//! Role mappings (`roles_mapping.yml`, `P/rolesmapping`): who gets a role.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::serde_util::{is_false, lenient_bool};

/// The mapping of one role: users, backend roles, hosts (all patterns).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoleMapping {
    /// Changed only by the REST admin.
    #[serde(deserialize_with = "lenient_bool", skip_serializing_if = "is_false")]
    pub reserved: bool,
    /// Invisible to anyone but the REST admin.
    #[serde(deserialize_with = "lenient_bool", skip_serializing_if = "is_false")]
    pub hidden: bool,
    /// Any of these backend roles maps the role.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub backend_roles: Vec<String>,
    /// All of these backend roles together map the role.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub and_backend_roles: Vec<String>,
    /// Client addresses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// User names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl RoleMapping {
    /// The mapping as `GET P/rolesmapping` shows it (no `static` key).
    pub fn to_api(&self) -> Value {
        let mut v = json!({
            "reserved": self.reserved,
            "hidden": self.hidden,
            "backend_roles": self.backend_roles,
            "and_backend_roles": self.and_backend_roles,
            "hosts": self.hosts,
            "users": self.users,
        });
        if let Some(d) = &self.description {
            v["description"] = json!(d);
        }
        v
    }
}
