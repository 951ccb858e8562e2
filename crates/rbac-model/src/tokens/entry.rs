//! One token's record.

use std::collections::BTreeMap;
use std::fmt;

use keyring_core::Timestamp;
use ring::digest::{SHA256, digest};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// SHA-256 of a token: how a token is found without keeping it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenId([u8; 32]);

impl TokenId {
    /// The id of a presented token.
    pub fn of(token: &SecretString) -> Self {
        let d = digest(&SHA256, token.expose_secret().as_bytes());
        let mut id = [0u8; 32];
        id.copy_from_slice(d.as_ref());
        TokenId(id)
    }

    /// The 32 bytes of the hash.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex (format 1 named storage records so).
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub(crate) fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 64 {
            return None;
        }
        let mut id = [0u8; 32];
        for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
            let hex = std::str::from_utf8(chunk).ok()?;
            id[i] = u8::from_str_radix(hex, 16).ok()?;
        }
        Some(TokenId(id))
    }
}

impl fmt::Debug for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenId({}…)", &self.hex()[..8])
    }
}

impl Serialize for TokenId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.hex())
    }
}

impl<'de> Deserialize<'de> for TokenId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        TokenId::from_hex(&s).ok_or_else(|| serde::de::Error::custom("not a token hash"))
    }
}

/// A token's record: everything Vault's `lookup` shows, except the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenEntry {
    /// The hash of the token.
    pub id: TokenId,
    /// The accessor: names the token without granting anything.
    pub accessor: String,
    /// Policies, sorted, `default` included unless asked otherwise.
    pub policies: Vec<String>,
    /// The accessor of the parent token; `None` for orphans.
    pub parent: Option<String>,
    /// `token-<display name>` (or `root`, or `userpass-<user>`).
    pub display_name: String,
    /// Free metadata.
    pub meta: BTreeMap<String, String>,
    /// Uses left; 0 means unlimited.
    pub num_uses: u32,
    /// When it was made.
    pub creation_time: Timestamp,
    /// The TTL it was made (or last renewed) with, in seconds; 0 means none.
    pub creation_ttl: u64,
    /// Upper bound of its life in seconds since creation; 0 means none.
    pub explicit_max_ttl: u64,
    /// When it expires; `None` for tokens without TTL.
    pub expire_time: Option<Timestamp>,
    /// When it was last issued or renewed.
    pub issue_time: Timestamp,
    /// Whether it can be renewed.
    pub renewable: bool,
    /// True when made without a parent.
    pub orphan: bool,
    /// The path it was made on (`auth/token/create`, `auth/userpass/login/<user>`).
    pub path: String,
    /// The internal user it stands for (userpass logins).
    pub user: Option<String>,
}

impl TokenEntry {
    /// True for the root token.
    pub fn is_root(&self) -> bool {
        self.policies.iter().any(|p| p == "root")
    }

    /// True when it is past its expiry at `now`.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expire_time.is_some_and(|t| now >= t)
    }

    /// Seconds left at `now` (0 for tokens without TTL).
    pub fn ttl_left(&self, now: Timestamp) -> u64 {
        match self.expire_time {
            Some(t) => u64::try_from(t.unix_secs() - now.unix_secs()).unwrap_or(0),
            None => 0,
        }
    }
}

/// What `auth/token/create` asks for, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenRequest {
    /// Policies (without `default`, added unless `no_default_policy`).
    pub policies: Option<Vec<String>>,
    /// Free metadata.
    pub meta: BTreeMap<String, String>,
    /// No parent (needs `sudo` or root, checked by the caller).
    pub no_parent: bool,
    /// Leave `default` out.
    pub no_default_policy: bool,
    /// TTL in seconds; `None` for the default.
    pub ttl: Option<u64>,
    /// Hard upper bound in seconds.
    pub explicit_max_ttl: Option<u64>,
    /// Renewable (default true).
    pub renewable: Option<bool>,
    /// Display name.
    pub display_name: Option<String>,
    /// Uses allowed; 0 unlimited.
    pub num_uses: u32,
}
