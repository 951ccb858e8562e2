//! The demo configuration (the plugin's `install_demo_configuration`): what
//! dev mode starts with when no `--security-config` folder is given. The
//! demo users' passwords are their names, except `admin`, whose password dev
//! mode generates (or takes from `--dev-admin-password`).

use crate::Error;
use crate::model::{ConfigType, SecurityConfig};

/// The demo files, by type.
pub const FILES: [(ConfigType, &str); 8] = [
    (ConfigType::Config, include_str!("demo/config.yml")),
    (
        ConfigType::InternalUsers,
        include_str!("demo/internal_users.yml"),
    ),
    (ConfigType::Roles, include_str!("demo/roles.yml")),
    (
        ConfigType::RolesMapping,
        include_str!("demo/roles_mapping.yml"),
    ),
    (
        ConfigType::ActionGroups,
        include_str!("demo/action_groups.yml"),
    ),
    (ConfigType::Tenants, include_str!("demo/tenants.yml")),
    (ConfigType::NodesDn, include_str!("demo/nodes_dn.yml")),
    (ConfigType::Allowlist, include_str!("demo/allowlist.yml")),
];

/// The demo configuration.
pub fn config() -> Result<SecurityConfig, Error> {
    let mut c = SecurityConfig::default();
    for (ty, text) in FILES {
        c.load_yaml(ty, text)?;
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ConfigType;

    #[test]
    fn the_demo_set_loads_and_round_trips_through_yaml() {
        let c = config().unwrap();
        assert!(c.internal_users["admin"].reserved);
        assert_eq!(c.roles_mapping["all_access"].backend_roles, vec!["admin"]);
        let mut again = SecurityConfig::default();
        for ty in ConfigType::ALL {
            again.load_yaml(ty, &c.to_yaml(ty)).unwrap();
        }
        assert_eq!(again, c);
    }
}
