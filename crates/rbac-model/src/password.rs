//! Password hashes in the OpenSearch Security format: bcrypt `$2y$`, cost 12.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::Error;

/// The bcrypt cost OpenSearch uses by default.
pub const BCRYPT_COST: u32 = 12;

/// A stored password hash. Its Debug output does not show the hash.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PasswordHash(String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash([REDACTED])")
    }
}

impl PasswordHash {
    /// Hashes `password` with bcrypt at `cost`, written as `$2y$`. Slow by
    /// design: call it off the async workers.
    pub fn create(password: &SecretString, cost: u32) -> Result<Self, Error> {
        Self::create_with_minor(password, cost, "Y")
    }

    /// Hashes with bcrypt at `cost`, written with the minor version `A`,
    /// `B` or `Y` (`plugins.security.password.hashing.bcrypt.minor`).
    pub fn create_with_minor(
        password: &SecretString,
        cost: u32,
        minor: &str,
    ) -> Result<Self, Error> {
        let version = match minor.to_ascii_uppercase().as_str() {
            "A" => bcrypt::Version::TwoA,
            "B" => bcrypt::Version::TwoB,
            _ => bcrypt::Version::TwoY,
        };
        let parts = bcrypt::hash_with_result(password.expose_secret(), cost)
            .map_err(|e| Error::Hashing(e.to_string()))?;
        Ok(PasswordHash(parts.format_for_version(version)))
    }

    /// A hash given as text (for example from `internal_users.yml`).
    pub fn from_stored(hash: impl Into<String>) -> Result<Self, Error> {
        let hash = hash.into();
        let ok = ["$2a$", "$2b$", "$2x$", "$2y$"]
            .iter()
            .any(|p| hash.starts_with(p))
            && hash.len() == 60;
        if ok {
            Ok(PasswordHash(hash))
        } else {
            Err(Error::UnsupportedHash)
        }
    }

    /// Checks `password` against the hash (bcrypt compares in constant time).
    /// Slow by design: call it off the async workers and cache the outcome.
    pub fn verify(&self, password: &SecretString) -> bool {
        bcrypt::verify(password.expose_secret(), &self.0).unwrap_or(false)
    }

    /// The hash text, for storage.
    pub fn as_stored(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_2y_and_verifies() {
        let pw = SecretString::from("correct horse");
        let hash = PasswordHash::create(&pw, 4).unwrap();
        assert!(hash.as_stored().starts_with("$2y$04$"));
        assert!(hash.verify(&pw));
        assert!(!hash.verify(&SecretString::from("wrong")));
        assert_eq!(format!("{hash:?}"), "PasswordHash([REDACTED])");
    }

    #[test]
    fn reads_the_opensearch_demo_hash() {
        // The hash of "admin" in OpenSearch's demo internal_users.yml.
        let hash = PasswordHash::from_stored(
            "$2a$12$VcCDgh2NDk07JGN0rjGbM.Ad41qVR/YFJcgHp0UGns5JDymv..TOG",
        )
        .unwrap();
        assert!(hash.verify(&SecretString::from("admin")));
        assert!(PasswordHash::from_stored("plain").is_err());
    }
}
