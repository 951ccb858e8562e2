//! Audit categories, with the plugin's names.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What an audit event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AuditCategory {
    /// Credentials missing or invalid, or the client is blocked.
    FailedLogin,
    /// A caller authenticated.
    Authenticated,
    /// A caller lacked the permission.
    MissingPrivileges,
    /// A caller held the permission.
    GrantedPrivileges,
    /// A request carried spoofed internal headers.
    BadHeaders,
    /// A TLS handshake failed.
    SslException,
    /// An index-level admin event (transport only in the plugin).
    IndexEvent,
    /// A non-admin tried to change the security index (transport only).
    SecurityIndexAttempt,
    /// Cluster settings changed (transport only).
    ClusterSettingsChanged,
    /// Index settings changed (transport only).
    IndexSettingsChanged,
    /// The security configuration or a key was read (compliance).
    ComplianceInternalConfigRead,
    /// The security configuration or a key was changed (compliance).
    ComplianceInternalConfigWrite,
    /// Snapshot of external configuration at start (compliance).
    ComplianceExternalConfig,
}

const NAMES: &[(AuditCategory, &str)] = &[
    (AuditCategory::FailedLogin, "FAILED_LOGIN"),
    (AuditCategory::Authenticated, "AUTHENTICATED"),
    (AuditCategory::MissingPrivileges, "MISSING_PRIVILEGES"),
    (AuditCategory::GrantedPrivileges, "GRANTED_PRIVILEGES"),
    (AuditCategory::BadHeaders, "BAD_HEADERS"),
    (AuditCategory::SslException, "SSL_EXCEPTION"),
    (AuditCategory::IndexEvent, "INDEX_EVENT"),
    (
        AuditCategory::SecurityIndexAttempt,
        "OPENDISTRO_SECURITY_INDEX_ATTEMPT",
    ),
    (
        AuditCategory::ClusterSettingsChanged,
        "CLUSTER_SETTINGS_CHANGED",
    ),
    (
        AuditCategory::IndexSettingsChanged,
        "INDEX_SETTINGS_CHANGED",
    ),
    (
        AuditCategory::ComplianceInternalConfigRead,
        "COMPLIANCE_INTERNAL_CONFIG_READ",
    ),
    (
        AuditCategory::ComplianceInternalConfigWrite,
        "COMPLIANCE_INTERNAL_CONFIG_WRITE",
    ),
    (
        AuditCategory::ComplianceExternalConfig,
        "COMPLIANCE_EXTERNAL_CONFIG",
    ),
];

/// The categories `disabled_rest_categories` may name.
pub const REST_CATEGORIES: &[AuditCategory] = &[
    AuditCategory::BadHeaders,
    AuditCategory::SslException,
    AuditCategory::Authenticated,
    AuditCategory::FailedLogin,
    AuditCategory::GrantedPrivileges,
    AuditCategory::MissingPrivileges,
];

/// The categories `disabled_transport_categories` may name.
pub const TRANSPORT_CATEGORIES: &[AuditCategory] = &[
    AuditCategory::BadHeaders,
    AuditCategory::SslException,
    AuditCategory::Authenticated,
    AuditCategory::FailedLogin,
    AuditCategory::GrantedPrivileges,
    AuditCategory::MissingPrivileges,
    AuditCategory::IndexEvent,
    AuditCategory::SecurityIndexAttempt,
    AuditCategory::ClusterSettingsChanged,
    AuditCategory::IndexSettingsChanged,
];

impl AuditCategory {
    /// The ArangoDB audit topic a request event of this category is filed
    /// under: authentication events under `audit-authentication`, privilege
    /// decisions under `audit-authorization`. (Compliance events name their
    /// topic by what changed.)
    pub fn rest_topic(self) -> crate::AuditTopic {
        use crate::AuditTopic;
        match self {
            AuditCategory::MissingPrivileges | AuditCategory::GrantedPrivileges => {
                AuditTopic::Authorization
            }
            AuditCategory::FailedLogin
            | AuditCategory::Authenticated
            | AuditCategory::BadHeaders
            | AuditCategory::SslException => AuditTopic::Authentication,
            _ => AuditTopic::Service,
        }
    }

    /// The plugin's name.
    pub fn as_str(self) -> &'static str {
        NAMES
            .iter()
            .find(|(c, _)| *c == self)
            .map(|(_, n)| *n)
            .unwrap_or("UNKNOWN")
    }
}

impl fmt::Display for AuditCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not an audit category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCategory(pub String);

impl FromStr for AuditCategory {
    type Err = UnknownCategory;
    fn from_str(s: &str) -> Result<Self, UnknownCategory> {
        NAMES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(s))
            .map(|(c, _)| *c)
            .ok_or_else(|| UnknownCategory(s.to_string()))
    }
}

impl Serialize for AuditCategory {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AuditCategory {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|_| serde::de::Error::custom(format!("unknown audit category {s}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (c, n) in NAMES {
            assert_eq!(n.parse::<AuditCategory>().unwrap(), *c);
            assert_eq!(c.as_str(), *n);
        }
        assert!("NOPE".parse::<AuditCategory>().is_err());
    }
}
