//! The static `plugins.security.*` settings (keyward's `[security]` table).
//! Defaults are those of the plugin's demo configuration.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::password_policy::{PasswordPolicy, Strength};

/// `plugins.security.*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySettings {
    /// `restapi.*`.
    pub restapi: RestApiSettings,
    /// `unsupported.*`.
    pub unsupported: UnsupportedSettings,
    /// Registers `P/nodesdn` at all.
    pub nodes_dn_dynamic_config_enabled: bool,
    /// Enables `PUT P/ssl/{http,transport}/reloadcerts`.
    pub ssl_cert_reload_enabled: bool,
    /// `ssl.*`.
    pub ssl: SslSettings,
    /// `cache.*`.
    pub cache: CacheSettings,
    /// `authcz.*`.
    pub authcz: AuthczSettings,
    /// Static node DNs.
    pub nodes_dn: Vec<String>,
    /// `password.*`.
    pub password: PasswordSettings,
    /// How backend roles become security roles.
    pub roles_mapping_resolution: RolesMappingResolution,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        SecuritySettings {
            restapi: RestApiSettings::default(),
            unsupported: UnsupportedSettings::default(),
            nodes_dn_dynamic_config_enabled: false,
            ssl_cert_reload_enabled: false,
            ssl: SslSettings::default(),
            cache: CacheSettings::default(),
            authcz: AuthczSettings::default(),
            nodes_dn: Vec::new(),
            password: PasswordSettings::default(),
            roles_mapping_resolution: RolesMappingResolution::MappingOnly,
        }
    }
}

/// `restapi.*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RestApiSettings {
    /// Security roles allowed through the REST-API gate.
    pub roles_enabled: Vec<String>,
    /// role (or `global`) → endpoint → disabled methods (`*` = all).
    pub endpoints_disabled: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    /// `admin.*`.
    pub admin: RestAdminSettings,
    /// A regex every new password must match as a whole.
    pub password_validation_regex: Option<String>,
    /// The reason given when it does not.
    pub password_validation_error_message: Option<String>,
    /// Minimum password length (`-1`: off).
    pub password_min_length: i64,
    /// `fair`, `good`, `strong` or `very_strong`.
    pub password_score_based_validation_strength: String,
}

impl Default for RestApiSettings {
    fn default() -> Self {
        RestApiSettings {
            roles_enabled: vec!["all_access".into(), "security_rest_api_access".into()],
            endpoints_disabled: BTreeMap::new(),
            admin: RestAdminSettings::default(),
            password_validation_regex: None,
            password_validation_error_message: None,
            password_min_length: -1,
            password_score_based_validation_strength: "strong".into(),
        }
    }
}

/// `restapi.admin.*`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RestAdminSettings {
    /// Honour the `restapi:admin/*` permissions.
    pub enabled: bool,
}

/// `unsupported.*`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UnsupportedSettings {
    /// `unsupported.restapi.*`.
    pub restapi: UnsupportedRestApi,
}

/// `unsupported.restapi.*`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UnsupportedRestApi {
    /// Allows PUT/PATCH `P/securityconfig` while `restapi.admin.enabled` is off.
    pub allow_securityconfig_modification: bool,
}

/// `ssl.*`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SslSettings {
    /// `ssl.certificates_hot_reload.*`.
    pub certificates_hot_reload: HotReload,
    /// `ssl.http.*`.
    pub http: SslLayer,
    /// `ssl.transport.*`.
    pub transport: SslLayer,
}

/// `ssl.certificates_hot_reload.*`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HotReload {
    /// Reload certificates when their files change.
    pub enabled: bool,
}

/// `ssl.<layer>.*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SslLayer {
    /// Check DNs and SANs of reloaded certificates.
    pub enforce_cert_reload_dn_verification: bool,
}

impl Default for SslLayer {
    fn default() -> Self {
        SslLayer {
            enforce_cert_reload_dn_verification: true,
        }
    }
}

/// `cache.*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheSettings {
    /// Authentication cache lifetime (`0` disables the cache).
    pub ttl_minutes: u64,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings { ttl_minutes: 60 }
    }
}

/// `authcz.*`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthczSettings {
    /// DNs of admin (superuser) client certificates.
    pub admin_dn: Vec<String>,
}

/// `password.*`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordSettings {
    /// `password.hashing.*`.
    pub hashing: HashingSettings,
}

/// `password.hashing.*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HashingSettings {
    /// Only `BCrypt` is supported by keyward.
    pub algorithm: String,
    /// `password.hashing.bcrypt.*`.
    pub bcrypt: BcryptSettings,
}

impl Default for HashingSettings {
    fn default() -> Self {
        HashingSettings {
            algorithm: "BCrypt".into(),
            bcrypt: BcryptSettings::default(),
        }
    }
}

/// `password.hashing.bcrypt.*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BcryptSettings {
    /// Cost (4..=31).
    pub rounds: u32,
    /// `A`, `B` or `Y`.
    pub minor: String,
}

impl Default for BcryptSettings {
    fn default() -> Self {
        BcryptSettings {
            rounds: 12,
            minor: "Y".into(),
        }
    }
}

/// `roles_mapping_resolution`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RolesMappingResolution {
    /// Only role mappings give security roles.
    #[default]
    #[serde(rename = "MAPPING_ONLY")]
    MappingOnly,
    /// Backend roles are security roles.
    #[serde(rename = "BACKENDROLES_ONLY")]
    BackendRolesOnly,
    /// Both.
    #[serde(rename = "BOTH")]
    Both,
}

impl SecuritySettings {
    /// Checks the settings as the plugin does at node start and builds the
    /// password rules.
    pub fn password_policy(&self) -> Result<PasswordPolicy, Error> {
        if self.ssl_cert_reload_enabled && self.ssl.certificates_hot_reload.enabled {
            return Err(Error::Setting {
                setting: "plugins.security.ssl_cert_reload_enabled".into(),
                reason: "Either plugins.security.ssl_cert_reload_enabled or plugins.security.ssl.certificates_hot_reload.enabled can be set to true, but not both.".into(),
            });
        }
        if !self
            .password
            .hashing
            .algorithm
            .eq_ignore_ascii_case("bcrypt")
        {
            return Err(Error::Setting {
                setting: "plugins.security.password.hashing.algorithm".into(),
                reason: format!(
                    "{} is not supported by keyward; use BCrypt",
                    self.password.hashing.algorithm
                ),
            });
        }
        if !(4..=31).contains(&self.password.hashing.bcrypt.rounds) {
            return Err(Error::Setting {
                setting: "plugins.security.password.hashing.bcrypt.rounds".into(),
                reason: "must be between 4 and 31".into(),
            });
        }
        if !["A", "B", "Y"].contains(
            &self
                .password
                .hashing
                .bcrypt
                .minor
                .to_ascii_uppercase()
                .as_str(),
        ) {
            return Err(Error::Setting {
                setting: "plugins.security.password.hashing.bcrypt.minor".into(),
                reason: "must be A, B or Y".into(),
            });
        }
        let strength = Strength::parse(&self.restapi.password_score_based_validation_strength)?;
        PasswordPolicy::new(
            self.restapi.password_min_length,
            self.restapi.password_validation_regex.as_deref(),
            self.restapi.password_validation_error_message.as_deref(),
            strength,
        )
    }
}
