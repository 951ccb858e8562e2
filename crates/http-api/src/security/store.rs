//! Where the security configuration lives in the encrypted store: one
//! record per entity (so a change writes only what changed, in one atomic
//! batch) and one per single document.

use std::collections::BTreeMap;

use keyring_core::{Barrier, WriteBatch};
use rbac_model::SecurityConfig;
use rbac_model::model::{Allowlist, DynamicConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Error;

const INITIALIZED: &str = "security/initialized";
const ALLOWLIST: &str = "security/allowlist";
const CONFIG: &str = "security/config";

const USERS: &str = "security/internalusers/";
const ROLES: &str = "security/roles/";
const MAPPINGS: &str = "security/rolesmapping/";
const GROUPS: &str = "security/actiongroups/";
const TENANTS: &str = "security/tenants/";
const NODES_DN: &str = "security/nodesdn/";

fn decode<T: DeserializeOwned>(path: &str, bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::Record {
        path: path.to_string(),
        reason: e.to_string(),
    })
}

fn encode<T: Serialize>(path: &str, value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|e| Error::Record {
        path: path.to_string(),
        reason: e.to_string(),
    })
}

async fn load_map<T: DeserializeOwned>(
    barrier: &Barrier,
    prefix: &str,
) -> Result<BTreeMap<String, T>, Error> {
    let mut out = BTreeMap::new();
    for (path, bytes) in barrier.scan(prefix).await? {
        let name = path[prefix.len()..].to_string();
        out.insert(name, decode(&path, &bytes)?);
    }
    Ok(out)
}

/// Reads the stored configuration; `None` before the first start wrote it.
pub(crate) async fn load(barrier: &Barrier) -> Result<Option<SecurityConfig>, Error> {
    if barrier.get(INITIALIZED).await?.is_none() {
        return Ok(None);
    }
    let allowlist: Allowlist = match barrier.get(ALLOWLIST).await? {
        Some(b) => decode(ALLOWLIST, &b)?,
        None => Allowlist::default(),
    };
    let dynamic: DynamicConfig = match barrier.get(CONFIG).await? {
        Some(b) => decode(CONFIG, &b)?,
        None => DynamicConfig::default(),
    };
    Ok(Some(SecurityConfig {
        internal_users: load_map(barrier, USERS).await?,
        roles: load_map(barrier, ROLES).await?,
        roles_mapping: load_map(barrier, MAPPINGS).await?,
        action_groups: load_map(barrier, GROUPS).await?,
        tenants: load_map(barrier, TENANTS).await?,
        nodes_dn: load_map(barrier, NODES_DN).await?,
        allowlist,
        dynamic,
    }))
}

fn diff_map<T: Serialize + PartialEq>(
    batch: &mut WriteBatch,
    prefix: &str,
    old: &BTreeMap<String, T>,
    new: &BTreeMap<String, T>,
) -> Result<(), Error> {
    for (name, entity) in new {
        if old.get(name) != Some(entity) {
            let path = format!("{prefix}{name}");
            batch.put(path.clone(), encode(&path, entity)?);
        }
    }
    for name in old.keys().filter(|n| !new.contains_key(*n)) {
        batch.delete(format!("{prefix}{name}"));
    }
    Ok(())
}

/// Writes what differs between `old` and `new` in one atomic batch.
/// `old` is `None` at first start: everything is written.
pub(crate) async fn save(
    barrier: &Barrier,
    old: Option<&SecurityConfig>,
    new: &SecurityConfig,
) -> Result<(), Error> {
    let empty = SecurityConfig::default();
    let first = old.is_none();
    let old = old.unwrap_or(&empty);
    let mut batch = WriteBatch::new();
    diff_map(&mut batch, USERS, &old.internal_users, &new.internal_users)?;
    diff_map(&mut batch, ROLES, &old.roles, &new.roles)?;
    diff_map(&mut batch, MAPPINGS, &old.roles_mapping, &new.roles_mapping)?;
    diff_map(&mut batch, GROUPS, &old.action_groups, &new.action_groups)?;
    diff_map(&mut batch, TENANTS, &old.tenants, &new.tenants)?;
    diff_map(&mut batch, NODES_DN, &old.nodes_dn, &new.nodes_dn)?;
    if first || old.allowlist != new.allowlist {
        batch.put(ALLOWLIST, encode(ALLOWLIST, &new.allowlist)?);
    }
    if first || old.dynamic != new.dynamic {
        batch.put(CONFIG, encode(CONFIG, &new.dynamic)?);
    }
    if first {
        batch.put(INITIALIZED, b"{}".to_vec());
    }
    if !batch.is_empty() {
        barrier.write(batch).await?;
    }
    Ok(())
}
