//! Internal users (`internal_users.yml`, `P/internalusers`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::serde_util::{is_false, lenient_bool, string_map};

/// An internal user as stored. The hash is kept verbatim (bcrypt `$2a$`,
/// `$2b$`, `$2y$` or PBKDF2) and never shown.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InternalUser {
    /// The password hash; empty for a user without a password.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub hash: String,
    /// Reserved users are changed only by the REST admin.
    #[serde(deserialize_with = "lenient_bool", skip_serializing_if = "is_false")]
    pub reserved: bool,
    /// Hidden users are invisible to anyone but the REST admin.
    #[serde(deserialize_with = "lenient_bool", skip_serializing_if = "is_false")]
    pub hidden: bool,
    /// Backend roles, which role mappings turn into security roles.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub backend_roles: Vec<String>,
    /// Free attributes (`${attr.internal.<key>}`).
    #[serde(
        deserialize_with = "string_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub attributes: BTreeMap<String, String>,
    /// Security roles given directly, without a mapping.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub opendistro_security_roles: Vec<String>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl std::fmt::Debug for InternalUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InternalUser")
            .field("hash", &"[REDACTED]")
            .field("reserved", &self.reserved)
            .field("hidden", &self.hidden)
            .field("backend_roles", &self.backend_roles)
            .field("attributes", &self.attributes)
            .field("opendistro_security_roles", &self.opendistro_security_roles)
            .field("description", &self.description)
            .finish()
    }
}

impl InternalUser {
    /// The user as `GET P/internalusers` shows it: `"hash": ""`.
    pub fn to_api(&self) -> Value {
        let mut v = json!({
            "hash": "",
            "reserved": self.reserved,
            "hidden": self.hidden,
            "backend_roles": self.backend_roles,
            "attributes": self.attributes,
            "opendistro_security_roles": self.opendistro_security_roles,
            "static": false,
        });
        if let Some(d) = &self.description {
            v["description"] = json!(d);
        }
        v
    }
}
