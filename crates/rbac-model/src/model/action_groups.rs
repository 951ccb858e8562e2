//! Action groups (`action_groups.yml`, `P/actiongroups`): named sets of
//! actions and other groups.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::serde_util::{is_false, lenient_bool};

/// An action group.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActionGroup {
    /// Changed only by the REST admin.
    #[serde(deserialize_with = "lenient_bool", skip_serializing_if = "is_false")]
    pub reserved: bool,
    /// Invisible to anyone but the REST admin.
    #[serde(deserialize_with = "lenient_bool", skip_serializing_if = "is_false")]
    pub hidden: bool,
    /// Actions (patterns) and names of other groups.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_actions: Vec<String>,
    /// `cluster`, `index` (or, in shipped groups, `kibana`, `all`).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub group_type: Option<String>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl ActionGroup {
    /// The group as `GET P/actiongroups` shows it.
    pub fn to_api(&self, is_static: bool) -> Value {
        let mut v = json!({
            "reserved": self.reserved,
            "hidden": self.hidden,
            "allowed_actions": self.allowed_actions,
            "static": is_static,
        });
        if let Some(t) = &self.group_type {
            v["type"] = json!(t);
        }
        if let Some(d) = &self.description {
            v["description"] = json!(d);
        }
        v
    }
}
