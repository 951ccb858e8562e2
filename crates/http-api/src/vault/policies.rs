//! Vault ACL policies: the stored policy texts (`sys/policy/<name>`), the
//! built-in `default` and `root`, and the compiled ACL of every policy set in
//! use, cached until a policy changes.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use keyring_core::{Barrier, Timestamp};
use rbac_model::acl::{Acl, AclPolicy, PolicyName};
use serde::{Deserialize, Serialize};

use crate::family::vault::VaultError;

const PREFIX: &str = "sys/policy/";

/// Vault's `default` policy, limited to the paths keyward serves: a token
/// may look itself up, renew and revoke itself, and ask what it may do.
pub(crate) const DEFAULT_POLICY: &str = r#"# Allow tokens to look up their own properties
path "auth/token/lookup-self" {
    capabilities = ["read"]
}

# Allow tokens to renew themselves
path "auth/token/renew-self" {
    capabilities = ["update"]
}

# Allow tokens to revoke themselves
path "auth/token/revoke-self" {
    capabilities = ["update"]
}

# Allow a token to look up its own capabilities on a path
path "sys/capabilities-self" {
    capabilities = ["update"]
}

# Allow a token to look up its resultant ACL from all policies
path "sys/internal/ui/resultant-acl" {
    capabilities = ["read"]
}

# Allow general purpose tools
path "sys/tools/hash" {
    capabilities = ["update"]
}
path "sys/tools/hash/*" {
    capabilities = ["update"]
}
"#;

#[derive(Serialize, Deserialize)]
struct Record {
    policy: String,
    modified: String,
    version: u64,
}

/// One stored policy.
pub(crate) struct StoredPolicy {
    pub(crate) policy: AclPolicy,
    /// Counts writes (Vault's CAS version); 0 for `root`.
    pub(crate) version: u64,
}

/// Why a policy write was refused; texts are Vault's (400).
fn refused(text: impl Into<String>) -> VaultError {
    VaultError::bad_request(text)
}

fn failed(e: impl std::fmt::Display) -> VaultError {
    tracing::error!(target: "keyward::policies", error = %e, "policy store failure");
    VaultError::wrapped(http::StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
}

/// RFC 3339 with nanoseconds, as Go prints a `time.Time` in UTC.
pub(crate) fn rfc3339(t: Timestamp) -> String {
    let dt = time::OffsetDateTime::from_unix_timestamp(t.unix_secs())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .replace_nanosecond(t.subsec_nanos())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    dt.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Every ACL policy, in memory.
pub(crate) struct Policies {
    barrier: Arc<Barrier>,
    map: ArcSwap<BTreeMap<String, Arc<StoredPolicy>>>,
    /// Compiled ACLs by sorted policy set; emptied by every change.
    compiled: Mutex<HashMap<Vec<String>, Arc<Acl>>>,
    write: tokio::sync::Mutex<()>,
}

impl Policies {
    /// Loads the stored policies and stores `default` at first start.
    pub(crate) async fn open(
        barrier: Arc<Barrier>,
        now: Timestamp,
    ) -> Result<Self, keyring_core::Error> {
        let mut map = BTreeMap::new();
        for (path, bytes) in barrier.scan(PREFIX).await? {
            let name = &path[PREFIX.len()..];
            let Some(pname) = PolicyName::new(name) else {
                continue;
            };
            let record: Record = serde_json::from_slice(&bytes)
                .map_err(|_| keyring_core::Error::Corrupt { path: path.clone() })?;
            // A stored policy parsed when it was written; one that no longer
            // parses (a newer keyward wrote it) is skipped with a warning.
            match AclPolicy::parse(pname, &record.policy) {
                Ok(policy) => {
                    map.insert(
                        name.to_string(),
                        Arc::new(StoredPolicy {
                            policy,
                            version: record.version,
                        }),
                    );
                }
                Err(e) => {
                    tracing::warn!(target: "keyward::policies", policy = name, error = %e, "stored policy skipped")
                }
            }
        }
        let policies = Policies {
            barrier,
            map: ArcSwap::from_pointee(map),
            compiled: Mutex::new(HashMap::new()),
            write: tokio::sync::Mutex::new(()),
        };
        if policies.get("default").is_none() {
            policies
                .put("default", DEFAULT_POLICY, now)
                .await
                .map_err(|e| keyring_core::Error::Storage(e.errors.join("; ")))?;
        }
        Ok(policies)
    }

    /// A policy by name; `root` has no rules.
    pub(crate) fn get(&self, name: &str) -> Option<Arc<StoredPolicy>> {
        let name = name.to_lowercase();
        if name == "root" {
            let policy = AclPolicy::parse(PolicyName::new("root")?, "").ok()?;
            return Some(Arc::new(StoredPolicy { policy, version: 0 }));
        }
        self.map.load().get(&name).cloned()
    }

    /// Every policy name, `root` included, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.map.load().keys().cloned().collect();
        names.push("root".into());
        names.sort();
        names
    }

    /// True when a policy of that name exists.
    pub(crate) fn exists(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        name == "root" || self.map.load().contains_key(&name)
    }

    /// Creates or replaces a policy.
    pub(crate) async fn put(
        &self,
        name: &str,
        text: &str,
        now: Timestamp,
    ) -> Result<(), VaultError> {
        let pname = PolicyName::new(name).ok_or_else(|| refused("policy name is invalid"))?;
        if pname.as_str() == "root" {
            return Err(refused("cannot update \"root\" policy"));
        }
        if text.trim().is_empty() {
            return Err(refused("'policy' parameter not supplied or empty"));
        }
        let policy = AclPolicy::parse(pname.clone(), text).map_err(|e| refused(e.to_string()))?;
        let _w = self.write.lock().await;
        let version = self
            .map
            .load()
            .get(pname.as_str())
            .map(|p| p.version + 1)
            .unwrap_or(1);
        let record = Record {
            policy: text.to_string(),
            modified: rfc3339(now),
            version,
        };
        let bytes = serde_json::to_vec(&record).map_err(failed)?;
        self.barrier
            .put(&format!("{PREFIX}{pname}"), &bytes)
            .await
            .map_err(failed)?;
        let mut map = (**self.map.load()).clone();
        map.insert(
            pname.as_str().to_string(),
            Arc::new(StoredPolicy { policy, version }),
        );
        self.map.store(Arc::new(map));
        self.compiled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        Ok(())
    }

    /// Deletes a policy; deleting one that does not exist is not an error.
    pub(crate) async fn delete(&self, name: &str) -> Result<(), VaultError> {
        let name = name.to_lowercase();
        match name.as_str() {
            "default" => return Err(refused("cannot delete default policy")),
            "root" => return Err(refused("cannot delete \"root\" policy")),
            _ => {}
        }
        let _w = self.write.lock().await;
        if !self.map.load().contains_key(&name) {
            return Ok(());
        }
        self.barrier
            .delete(&format!("{PREFIX}{name}"))
            .await
            .map_err(failed)?;
        let mut map = (**self.map.load()).clone();
        map.remove(&name);
        self.map.store(Arc::new(map));
        self.compiled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        Ok(())
    }

    /// The compiled ACL of a set of policy names (unknown names grant
    /// nothing; `root` makes it root). Compiled once per set and change.
    pub(crate) fn acl_for(&self, names: &[String]) -> Arc<Acl> {
        let mut key: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
        key.sort();
        key.dedup();
        if let Some(acl) = self
            .compiled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return acl.clone();
        }
        let acl = if key.iter().any(|n| n == "root") {
            Arc::new(Acl::root())
        } else {
            let map = self.map.load();
            Arc::new(Acl::new(
                key.iter().filter_map(|n| map.get(n)).map(|p| &p.policy),
            ))
        };
        let mut compiled = self.compiled.lock().unwrap_or_else(|p| p.into_inner());
        // A bound: policy sets come from tokens and roles, but be safe.
        if compiled.len() >= 10_000 {
            compiled.clear();
        }
        compiled.insert(key, acl.clone());
        acl
    }
}
