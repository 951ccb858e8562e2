//! The OpenSearch security model: one [`SecurityConfig`] holding every
//! configuration type, and the [`Entity`] trait the CRUD resources share.

mod action_groups;
mod allowlist;
mod config;
mod mappings;
mod roles;
pub(crate) mod serde_util;
mod tenants;
mod users;

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use action_groups::ActionGroup;
pub use allowlist::{Allowlist, AllowlistMethod};
pub use config::{AuthFailureListener, DynamicConfig, KibanaConfig, ListenerType, TenancyConfig};
pub use mappings::RoleMapping;
pub use roles::{IndexPermission, Role, TenantPermission};
pub use tenants::{NodesDn, Tenant};
pub use users::InternalUser;

use crate::statics;
use crate::validate::{DataType, Schema};

/// The configuration types, named as the plugin names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConfigType {
    /// `internalusers` (`internal_users.yml`).
    InternalUsers,
    /// `roles` (`roles.yml`).
    Roles,
    /// `rolesmapping` (`roles_mapping.yml`).
    RolesMapping,
    /// `actiongroups` (`action_groups.yml`).
    ActionGroups,
    /// `tenants` (`tenants.yml`).
    Tenants,
    /// `nodesdn` (`nodes_dn.yml`).
    NodesDn,
    /// `allowlist` (`allowlist.yml`).
    Allowlist,
    /// `config` (`config.yml`).
    Config,
}

impl ConfigType {
    /// Every type, in the order securityadmin loads them.
    pub const ALL: [ConfigType; 8] = [
        ConfigType::Config,
        ConfigType::Roles,
        ConfigType::RolesMapping,
        ConfigType::InternalUsers,
        ConfigType::ActionGroups,
        ConfigType::Tenants,
        ConfigType::NodesDn,
        ConfigType::Allowlist,
    ];

    /// The `_meta.type` and document id.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigType::InternalUsers => "internalusers",
            ConfigType::Roles => "roles",
            ConfigType::RolesMapping => "rolesmapping",
            ConfigType::ActionGroups => "actiongroups",
            ConfigType::Tenants => "tenants",
            ConfigType::NodesDn => "nodesdn",
            ConfigType::Allowlist => "allowlist",
            ConfigType::Config => "config",
        }
    }

    /// The YAML file name.
    pub fn file_name(self) -> &'static str {
        match self {
            ConfigType::InternalUsers => "internal_users.yml",
            ConfigType::Roles => "roles.yml",
            ConfigType::RolesMapping => "roles_mapping.yml",
            ConfigType::ActionGroups => "action_groups.yml",
            ConfigType::Tenants => "tenants.yml",
            ConfigType::NodesDn => "nodes_dn.yml",
            ConfigType::Allowlist => "allowlist.yml",
            ConfigType::Config => "config.yml",
        }
    }

    /// Reads a `_meta.type` or document id.
    pub fn parse(s: &str) -> Option<ConfigType> {
        ConfigType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The word the plugin uses in messages (`No role specified.`).
    pub fn resource_name(self) -> &'static str {
        match self {
            ConfigType::InternalUsers => "user",
            ConfigType::Roles => "role",
            ConfigType::RolesMapping => "rolesmapping",
            ConfigType::ActionGroups => "actiongroup",
            ConfigType::Tenants => "tenant",
            ConfigType::NodesDn => "nodesdn",
            ConfigType::Allowlist | ConfigType::Config => "config",
        }
    }
}

/// Every configuration type at once: what the security index holds.
/// Static entities are not in here; [`statics`] has them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SecurityConfig {
    /// Internal users.
    pub internal_users: BTreeMap<String, InternalUser>,
    /// Roles.
    pub roles: BTreeMap<String, Role>,
    /// Role mappings, by role name.
    pub roles_mapping: BTreeMap<String, RoleMapping>,
    /// Action groups.
    pub action_groups: BTreeMap<String, ActionGroup>,
    /// Tenants.
    pub tenants: BTreeMap<String, Tenant>,
    /// Nodes DN, by cluster name.
    pub nodes_dn: BTreeMap<String, NodesDn>,
    /// The allowlist.
    pub allowlist: Allowlist,
    /// `config.dynamic`.
    pub dynamic: DynamicConfig,
}

impl SecurityConfig {
    /// A role by name, static ones included.
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles.get(name).or_else(|| statics::roles().get(name))
    }

    /// An action group by name, static ones included.
    pub fn action_group(&self, name: &str) -> Option<&ActionGroup> {
        self.action_groups
            .get(name)
            .or_else(|| statics::action_groups().get(name))
    }

    /// True for an existing tenant, static ones included.
    pub fn has_tenant(&self, name: &str) -> bool {
        self.tenants.contains_key(name) || statics::tenants().contains_key(name)
    }

    /// Every tenant name, static ones included.
    pub fn tenant_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = statics::tenants()
            .keys()
            .chain(self.tenants.keys())
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// What the CRUD resources (users, roles, mappings, action groups, tenants,
/// nodes DN) have in common.
pub trait Entity:
    Clone + PartialEq + Serialize + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static
{
    /// Its configuration type.
    const TYPE: ConfigType;
    /// What a PUT body may hold.
    const SCHEMA: Schema;
    /// Changed only by the REST admin.
    fn reserved(&self) -> bool;
    /// Invisible to anyone but the REST admin.
    fn hidden(&self) -> bool;
    /// As GET shows it.
    fn to_api(&self, is_static: bool) -> Value;
    /// The entities of this type in `config`.
    fn map(config: &SecurityConfig) -> &BTreeMap<String, Self>;
    /// The same, to change.
    fn map_mut(config: &mut SecurityConfig) -> &mut BTreeMap<String, Self>;
    /// The static (built-in, read-only) entities of this type.
    fn statics() -> &'static BTreeMap<String, Self>;
}

macro_rules! flags {
    () => {
        fn reserved(&self) -> bool {
            self.reserved
        }
        fn hidden(&self) -> bool {
            self.hidden
        }
    };
}

impl Entity for InternalUser {
    const TYPE: ConfigType = ConfigType::InternalUsers;
    const SCHEMA: Schema = Schema {
        allowed: &[
            ("password", DataType::String),
            ("hash", DataType::String),
            ("backend_roles", DataType::Array),
            ("opendistro_security_roles", DataType::Array),
            ("attributes", DataType::Object),
            ("description", DataType::String),
        ],
        mandatory: &[],
        mandatory_or: &[],
        flags: true,
    };
    flags!();
    fn to_api(&self, _: bool) -> Value {
        InternalUser::to_api(self)
    }
    fn map(c: &SecurityConfig) -> &BTreeMap<String, Self> {
        &c.internal_users
    }
    fn map_mut(c: &mut SecurityConfig) -> &mut BTreeMap<String, Self> {
        &mut c.internal_users
    }
    fn statics() -> &'static BTreeMap<String, Self> {
        static EMPTY: BTreeMap<String, InternalUser> = BTreeMap::new();
        &EMPTY
    }
}

impl Entity for Role {
    const TYPE: ConfigType = ConfigType::Roles;
    const SCHEMA: Schema = Schema {
        allowed: &[
            ("cluster_permissions", DataType::Array),
            ("index_permissions", DataType::Array),
            ("tenant_permissions", DataType::Array),
            ("description", DataType::String),
        ],
        mandatory: &[],
        mandatory_or: &[],
        flags: true,
    };
    flags!();
    fn to_api(&self, is_static: bool) -> Value {
        Role::to_api(self, is_static)
    }
    fn map(c: &SecurityConfig) -> &BTreeMap<String, Self> {
        &c.roles
    }
    fn map_mut(c: &mut SecurityConfig) -> &mut BTreeMap<String, Self> {
        &mut c.roles
    }
    fn statics() -> &'static BTreeMap<String, Self> {
        statics::roles()
    }
}

impl Entity for RoleMapping {
    const TYPE: ConfigType = ConfigType::RolesMapping;
    const SCHEMA: Schema = Schema {
        allowed: &[
            ("backend_roles", DataType::Array),
            ("and_backend_roles", DataType::Array),
            ("hosts", DataType::Array),
            ("users", DataType::Array),
            ("description", DataType::String),
        ],
        mandatory: &[],
        mandatory_or: &["backend_roles", "and_backend_roles", "hosts", "users"],
        flags: true,
    };
    flags!();
    fn to_api(&self, _: bool) -> Value {
        RoleMapping::to_api(self)
    }
    fn map(c: &SecurityConfig) -> &BTreeMap<String, Self> {
        &c.roles_mapping
    }
    fn map_mut(c: &mut SecurityConfig) -> &mut BTreeMap<String, Self> {
        &mut c.roles_mapping
    }
    fn statics() -> &'static BTreeMap<String, Self> {
        static EMPTY: BTreeMap<String, RoleMapping> = BTreeMap::new();
        &EMPTY
    }
}

impl Entity for ActionGroup {
    const TYPE: ConfigType = ConfigType::ActionGroups;
    const SCHEMA: Schema = Schema {
        allowed: &[
            ("allowed_actions", DataType::Array),
            ("type", DataType::String),
            ("description", DataType::String),
        ],
        mandatory: &["allowed_actions"],
        mandatory_or: &[],
        flags: true,
    };
    flags!();
    fn to_api(&self, is_static: bool) -> Value {
        ActionGroup::to_api(self, is_static)
    }
    fn map(c: &SecurityConfig) -> &BTreeMap<String, Self> {
        &c.action_groups
    }
    fn map_mut(c: &mut SecurityConfig) -> &mut BTreeMap<String, Self> {
        &mut c.action_groups
    }
    fn statics() -> &'static BTreeMap<String, Self> {
        statics::action_groups()
    }
}

impl Entity for Tenant {
    const TYPE: ConfigType = ConfigType::Tenants;
    const SCHEMA: Schema = Schema {
        allowed: &[("description", DataType::String)],
        mandatory: &[],
        mandatory_or: &[],
        flags: true,
    };
    flags!();
    fn to_api(&self, is_static: bool) -> Value {
        Tenant::to_api(self, is_static)
    }
    fn map(c: &SecurityConfig) -> &BTreeMap<String, Self> {
        &c.tenants
    }
    fn map_mut(c: &mut SecurityConfig) -> &mut BTreeMap<String, Self> {
        &mut c.tenants
    }
    fn statics() -> &'static BTreeMap<String, Self> {
        statics::tenants()
    }
}

impl Entity for NodesDn {
    const TYPE: ConfigType = ConfigType::NodesDn;
    const SCHEMA: Schema = Schema {
        allowed: &[("nodes_dn", DataType::Array)],
        mandatory: &["nodes_dn"],
        mandatory_or: &[],
        flags: false,
    };
    fn reserved(&self) -> bool {
        false
    }
    fn hidden(&self) -> bool {
        false
    }
    fn to_api(&self, _: bool) -> Value {
        NodesDn::to_api(self)
    }
    fn map(c: &SecurityConfig) -> &BTreeMap<String, Self> {
        &c.nodes_dn
    }
    fn map_mut(c: &mut SecurityConfig) -> &mut BTreeMap<String, Self> {
        &mut c.nodes_dn
    }
    fn statics() -> &'static BTreeMap<String, Self> {
        static EMPTY: BTreeMap<String, NodesDn> = BTreeMap::new();
        &EMPTY
    }
}
