//! Identity and access control, modelled on the OpenSearch Security plugin:
//! internal users, roles, role mappings, action groups, tenants, nodes DN,
//! the allowlist and the security configuration ([`SecurityConfig`]);
//! validation and JSON Patch exactly as the plugin applies them ([`ops`]);
//! the static entities it ships ([`statics`]); its YAML files ([`yaml`]);
//! its settings ([`SecuritySettings`]) and REST-API gate ([`RestApiGate`]);
//! and one compiled [`Evaluator`], built once per configuration change,
//! that answers "which roles does this caller have" and "do they hold this
//! action". For the Vault routes: ACL policies compiled into an [`acl::Acl`],
//! and the [`tokens::TokenStore`].
//!
//! HTTP Basic logins of internal users go through a [`LoginCache`]
//! (bcrypt once, then memory until the time to live runs out).
//!
//! No HTTP here: `http-api` turns requests into calls of this crate, and any
//! other service can do the same for its own routes.
//!
//! # Example: authorizing an application's actions from the plugin's YAML
//!
//! ```
//! use rbac_model::settings::RolesMappingResolution;
//! use rbac_model::{ConfigType, Evaluator, SecurityConfig, Subject};
//!
//! let mut config = SecurityConfig::default();
//! config.load_yaml(ConfigType::Roles, r#"
//! _meta: {type: roles, config_version: 2}
//! reports_reader:
//!   cluster_permissions: ["reports:read"]
//! reports_admin:
//!   cluster_permissions: ["reports:*"]
//! "#)?;
//! config.load_yaml(ConfigType::RolesMapping, r#"
//! _meta: {type: rolesmapping, config_version: 2}
//! reports_reader: {backend_roles: [staff]}
//! reports_admin: {users: [carol]}
//! "#)?;
//!
//! // Compiled once per configuration; the actions the application checks
//! // are precomputed for every role.
//! let known = ["reports:read", "reports:delete"];
//! let evaluator = Evaluator::compile(&config, RolesMappingResolution::MappingOnly, &known);
//!
//! let staff = vec!["staff".to_string()];
//! let alice = evaluator.map_roles(&Subject {
//!     name: "alice", backend_roles: &staff, direct_roles: &[], address: None,
//! });
//! assert!(evaluator.allows(&alice, "reports:read"));
//! assert!(!evaluator.allows(&alice, "reports:delete"));
//!
//! let carol = evaluator.map_roles(&Subject {
//!     name: "carol", backend_roles: &[], direct_roles: &[], address: None,
//! });
//! assert!(evaluator.allows(&carol, "reports:delete"));
//! assert_eq!(evaluator.role_names(&carol), ["reports_admin"]);
//! # Ok::<(), rbac_model::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod acl;
pub mod demo;
pub mod dn;
mod error;
pub mod evaluator;
pub mod gate;
pub mod json;
mod login_cache;
pub mod model;
pub mod ops;
mod password;
pub mod password_policy;
pub mod pattern;
mod principal;
pub mod settings;
pub mod statics;
pub mod tokens;
pub mod validate;
pub mod yaml;

pub use dn::AdminDns;
pub use error::{Error, ValidationFailure};
pub use evaluator::{Evaluator, RoleSet, Subject};
pub use gate::{CertStatus, Endpoint, RestApiGate};
pub use login_cache::{LoginCache, principal_of};
pub use model::{ConfigType, InternalUser, SecurityConfig};
pub use password::{BCRYPT_COST, PasswordHash};
pub use password_policy::{PasswordPolicy, Strength};
pub use principal::{Principal, PrincipalKind, TokenGrant, UserName};
pub use settings::SecuritySettings;
