//! Vault mounts: secrets engines at paths under `/v1/`. Each mount record
//! lives at `sys/mounts/<path>/` in the store; a transit mount keeps its
//! keys under `transit/<uuid>/`, so two mounts never see each other's keys
//! and unmounting deletes exactly one prefix.
//!
//! The table is an atomically swapped snapshot: the request path reads it
//! without a lock; mount and unmount are serialized.

use std::sync::Arc;

use arc_swap::ArcSwap;
use keyring_core::{Barrier, Clock, Timestamp};
use serde::{Deserialize, Serialize};
use transit_crypto::{RotationReport, Transit};

use crate::Error;
use crate::family::vault::VaultError;

const MOUNTS_PREFIX: &str = "sys/mounts/";

/// Paths no engine may be mounted at or under (Vault's protected mounts).
const PROTECTED: [&str; 5] = ["sys/", "auth/", "audit/", "cubbyhole/", "identity/"];

/// The paths keyward serves as Vault's built-in mounts do.
const BUILT_IN: [&str; 3] = ["auth/token/", "auth/userpass/", "sys/"];

/// The stored record of a mount.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MountEntry {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) uuid: String,
    #[serde(default)]
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) accessor: String,
}

/// One mounted engine.
pub(crate) struct Mount {
    /// The path with its trailing slash, e.g. `transit/`.
    pub(crate) path: String,
    pub(crate) entry: MountEntry,
    pub(crate) transit: Arc<Transit>,
}

/// A refusal with Vault's text (400).
fn refused(text: String) -> VaultError {
    VaultError::bad_request(text)
}

/// A failure of the store or the engine while mounting: the server's, 500.
fn failed(e: impl std::fmt::Display) -> VaultError {
    tracing::error!(target: "keyward::mounts", error = %e, "mount table failure");
    VaultError::wrapped(http::StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
}

/// The mount table.
pub(crate) struct Mounts {
    barrier: Arc<Barrier>,
    clock: Arc<dyn Clock>,
    /// Sorted longest path first, so the first prefix match is the longest.
    table: ArcSwap<Vec<Arc<Mount>>>,
    write: tokio::sync::Mutex<()>,
}

/// `a/b` and `a/b/` are the path `a/b/`. Segments must be non-empty and
/// free of `.`/`..` so a mount path is always a clean prefix.
pub(crate) fn normalize(path: &str) -> Result<String, VaultError> {
    let trimmed = path.trim_matches('/');
    let ok = !trimmed.is_empty()
        && trimmed.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        });
    if !ok {
        return Err(refused(format!("invalid mount path {path:?}")));
    }
    Ok(format!("{trimmed}/"))
}

fn accessor_of(entry: &MountEntry) -> String {
    if !entry.accessor.is_empty() {
        return entry.accessor.clone();
    }
    let short: String = entry.uuid.chars().filter(|c| *c != '-').take(8).collect();
    format!("{}_{short}", entry.kind)
}

impl Mounts {
    /// Loads every mount from the store and opens its engine.
    pub(crate) async fn open(
        barrier: Arc<Barrier>,
        clock: Arc<dyn Clock>,
    ) -> Result<Mounts, Error> {
        let mut table = Vec::new();
        for (key, bytes) in barrier.scan(MOUNTS_PREFIX).await? {
            let mut entry: MountEntry =
                serde_json::from_slice(&bytes).map_err(|e| Error::Record {
                    path: key.clone(),
                    reason: e.to_string(),
                })?;
            if entry.kind != "transit" {
                tracing::warn!(target: "keyward::mounts", path = %key, kind = %entry.kind, "unknown engine type; mount skipped");
                continue;
            }
            entry.accessor = accessor_of(&entry);
            let transit = Transit::open(
                barrier.clone(),
                format!("transit/{}/", entry.uuid),
                clock.clone(),
            )
            .await
            .map_err(|e| Error::Record {
                path: key.clone(),
                reason: e.to_string(),
            })?;
            table.push(Arc::new(Mount {
                path: key[MOUNTS_PREFIX.len()..].to_string(),
                entry,
                transit: Arc::new(transit),
            }));
        }
        sort(&mut table);
        Ok(Mounts {
            barrier,
            clock,
            table: ArcSwap::from_pointee(table),
            write: tokio::sync::Mutex::new(()),
        })
    }

    /// The mount whose path is the longest prefix of `rest` (the request
    /// path after `/v1/`), and what follows the mount path.
    pub(crate) fn find<'a>(&self, rest: &'a str) -> Option<(Arc<Mount>, &'a str)> {
        let table = self.table.load();
        table.iter().find_map(|m| {
            if let Some(after) = rest.strip_prefix(m.path.as_str()) {
                Some((m.clone(), after))
            } else if rest == m.path.trim_end_matches('/') {
                Some((m.clone(), ""))
            } else {
                None
            }
        })
    }

    /// The mount a request path (after `/v1/`) is under, as Vault's router
    /// matches it: a mounted engine, or a built-in path keyward serves
    /// without a mount table entry (`sys/`, `auth/token/`, `auth/userpass/`).
    pub(crate) fn matching_mount(&self, path: &str) -> Option<String> {
        if let Some(m) = BUILT_IN
            .iter()
            .find(|m| path.starts_with(**m) || path == m.trim_end_matches('/'))
        {
            return Some(m.to_string());
        }
        self.find(path).map(|(m, _)| m.path.clone())
    }

    /// Every mount, sorted by path.
    pub(crate) fn all(&self) -> Vec<Arc<Mount>> {
        let mut all: Vec<_> = self.table.load().iter().cloned().collect();
        all.sort_by(|a, b| a.path.cmp(&b.path));
        all
    }

    /// The mount at exactly `path`.
    pub(crate) fn get(&self, path: &str) -> Option<Arc<Mount>> {
        let path = normalize(path).ok()?;
        self.table.load().iter().find(|m| m.path == path).cloned()
    }

    /// Mounts an engine of `kind` at `path`.
    pub(crate) async fn mount(
        &self,
        path: &str,
        kind: Option<&str>,
        description: &str,
    ) -> Result<(), VaultError> {
        let kind = kind
            .filter(|k| !k.is_empty())
            .ok_or_else(|| refused("backend type must be specified as a string".into()))?;
        let path = normalize(path)?;
        if let Some(p) = PROTECTED.iter().find(|p| path.starts_with(*p)) {
            let shown = if path == *p {
                p.to_string()
            } else {
                path.clone()
            };
            return Err(refused(format!("cannot mount {shown:?}")));
        }
        if kind != "transit" {
            return Err(refused(format!("plugin not found in the catalog: {kind}")));
        }
        let _serial = self.write.lock().await;
        if let Some(m) = self
            .table
            .load()
            .iter()
            .find(|m| path.starts_with(&m.path) || m.path.starts_with(&path))
        {
            return Err(refused(format!("path is already in use at {}", m.path)));
        }
        let uuid = uuid::Uuid::new_v4().to_string();
        let mut entry = MountEntry {
            kind: kind.to_string(),
            uuid: uuid.clone(),
            description: description.to_string(),
            accessor: String::new(),
        };
        entry.accessor = accessor_of(&entry);
        let transit = Transit::open(
            self.barrier.clone(),
            format!("transit/{uuid}/"),
            self.clock.clone(),
        )
        .await
        .map_err(failed)?;
        let bytes = serde_json::to_vec(&entry).map_err(failed)?;
        self.barrier
            .put(&format!("{MOUNTS_PREFIX}{path}"), &bytes)
            .await
            .map_err(failed)?;
        let mut table: Vec<_> = self.table.load().iter().cloned().collect();
        table.push(Arc::new(Mount {
            path,
            entry,
            transit: Arc::new(transit),
        }));
        sort(&mut table);
        self.table.store(Arc::new(table));
        Ok(())
    }

    /// Unmounts `path` and deletes its keys. Nothing mounted there is not
    /// an error (Vault answers 204 too).
    pub(crate) async fn unmount(&self, path: &str) -> Result<(), VaultError> {
        let path = normalize(path)?;
        if PROTECTED.iter().any(|p| path.starts_with(*p)) {
            return Err(refused(format!("cannot unmount {path:?}")));
        }
        let _serial = self.write.lock().await;
        let Some(mount) = self.table.load().iter().find(|m| m.path == path).cloned() else {
            return Ok(());
        };
        // Remove from the table first, so no new request reaches the engine;
        // then delete the record and every key, the record last so a crash
        // in between leaves a mount whose keys are gone rather than keys
        // nobody can reach.
        let table: Vec<_> = self
            .table
            .load()
            .iter()
            .filter(|m| m.path != path)
            .cloned()
            .collect();
        self.table.store(Arc::new(table));
        mount.transit.destroy().await.map_err(failed)?;
        self.barrier
            .delete(&format!("{MOUNTS_PREFIX}{path}"))
            .await
            .map_err(failed)?;
        Ok(())
    }

    /// Runs auto-rotation on every mount at `now`.
    pub(crate) async fn rotate_due(
        &self,
        now: Timestamp,
    ) -> Vec<(String, Result<RotationReport, transit_crypto::Error>)> {
        let mut out = Vec::new();
        for mount in self.all() {
            let report = mount.transit.rotate_due(now).await;
            out.push((mount.path.clone(), report));
        }
        out
    }
}

fn sort(table: &mut [Arc<Mount>]) {
    table.sort_by(|a, b| b.path.len().cmp(&a.path.len()).then(a.path.cmp(&b.path)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(normalize("transit").unwrap(), "transit/");
        assert_eq!(normalize("/a/b/").unwrap(), "a/b/");
        assert!(normalize("").is_err());
        assert!(normalize("a//b").is_err());
        assert!(normalize("a/../b").is_err());
        assert!(normalize("a b").is_err());
    }
}
