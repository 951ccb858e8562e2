//! The static entities the plugin ships inside its jar (and keyward inside
//! its binary): built-in roles, action groups (with keyward's own
//! `keyward_admin`) and the global tenant. Read-only, present in every GET,
//! never stored.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;

use crate::model::{ActionGroup, Role, Tenant};

fn parse<T: DeserializeOwned>(text: &str) -> BTreeMap<String, T> {
    let mut map: BTreeMap<String, serde_json::Value> =
        serde_norway::from_str(text).expect("the static configuration is valid YAML");
    map.remove("_meta");
    map.into_iter()
        .map(|(k, v)| {
            let entity =
                serde_json::from_value(v).expect("the static configuration fits the model");
            (k, entity)
        })
        .collect()
}

/// The static roles (`all_access`, `kibana_user`, `readall`, ...).
pub fn roles() -> &'static BTreeMap<String, Role> {
    static ROLES: OnceLock<BTreeMap<String, Role>> = OnceLock::new();
    ROLES.get_or_init(|| parse(include_str!("static_config/static_roles.yml")))
}

/// The static action groups (`read`, `cluster_all`, `keyward_admin`, ...).
pub fn action_groups() -> &'static BTreeMap<String, ActionGroup> {
    static GROUPS: OnceLock<BTreeMap<String, ActionGroup>> = OnceLock::new();
    GROUPS.get_or_init(|| parse(include_str!("static_config/static_action_groups.yml")))
}

/// The static tenants (`global_tenant`).
pub fn tenants() -> &'static BTreeMap<String, Tenant> {
    static TENANTS: OnceLock<BTreeMap<String, Tenant>> = OnceLock::new();
    TENANTS.get_or_init(|| parse(include_str!("static_config/static_tenants.yml")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_static_sets_parse() {
        assert_eq!(super::roles()["all_access"].cluster_permissions, vec!["*"]);
        assert!(super::action_groups().contains_key("keyward_admin"));
        assert!(super::action_groups()["read"].reserved);
        assert!(super::tenants().contains_key("global_tenant"));
    }
}
