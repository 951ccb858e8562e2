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
//! No HTTP here: `http-api` turns requests into calls of this crate.
#![forbid(unsafe_code)]

pub mod acl;
pub mod demo;
pub mod dn;
mod error;
pub mod evaluator;
mod login_cache;
pub mod gate;
pub mod json;
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
