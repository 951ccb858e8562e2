//! Tenants (`tenants.yml`, `P/tenants`) and nodes DN (`nodes_dn.yml`, `P/nodesdn`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::serde_util::{is_false, lenient_bool};

/// A Dashboards tenant.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tenant {
    /// Changed only by the REST admin.
    #[serde(deserialize_with = "lenient_bool", skip_serializing_if = "is_false")]
    pub reserved: bool,
    /// Invisible to anyone but the REST admin.
    #[serde(deserialize_with = "lenient_bool", skip_serializing_if = "is_false")]
    pub hidden: bool,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Tenant {
    /// The tenant as `GET P/tenants` shows it.
    pub fn to_api(&self, is_static: bool) -> Value {
        let mut v = json!({
            "reserved": self.reserved,
            "hidden": self.hidden,
            "static": is_static,
        });
        if let Some(d) = &self.description {
            v["description"] = json!(d);
        }
        v
    }
}

/// The distinguished names of the nodes of one (remote) cluster.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodesDn {
    /// DN patterns.
    pub nodes_dn: Vec<String>,
}

impl NodesDn {
    /// As `GET P/nodesdn` shows it.
    pub fn to_api(&self) -> Value {
        json!({ "nodes_dn": self.nodes_dn })
    }
}
