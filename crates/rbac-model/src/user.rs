//! Internal users as stored.

use serde::{Deserialize, Serialize};

use crate::PasswordHash;

/// An internal user as stored (the OpenSearch `internal_users.yml` entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InternalUser {
    /// The bcrypt hash of the password.
    pub hash: PasswordHash,
    /// Backend roles, which role mappings map to security roles.
    #[serde(default)]
    pub backend_roles: Vec<String>,
    /// Reserved users can be changed only by the REST admin.
    #[serde(default)]
    pub reserved: bool,
    /// Free text.
    #[serde(default)]
    pub description: String,
}
