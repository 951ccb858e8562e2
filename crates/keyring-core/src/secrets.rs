//! The secret store of the Atlassian Data Center model: named secrets, each
//! sealed with AES-256-GCM under the active AES key (and, like everything,
//! under the barrier too). Rotation makes a new key, re-encrypts every secret
//! under it and marks the old key inactive — all in one atomic, durable
//! write, so a crash leaves either the old or the new state, never a mix.
//! Inactive keys are listed and deleted once no secret uses them.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::rand::SystemRandom;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::aead::{KEY_LEN, SealKey};
use crate::{Barrier, Error, Timestamp, WriteBatch};

/// A secret's name: 1 to 256 characters from `A-Z a-z 0-9 . _ -`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SecretName(String);

impl SecretName {
    /// Checks a name.
    pub fn new(name: &str) -> Option<Self> {
        let ok = !name.is_empty()
            && name.len() <= 256
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        ok.then(|| SecretName(name.to_string()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name of an AES key of the store, such as `aes-key-0002`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AesKeyId(String);

impl AesKeyId {
    fn numbered(n: u32) -> Self {
        AesKeyId(format!("aes-key-{n:04}"))
    }

    fn number(&self) -> u32 {
        self.0
            .rsplit('-')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a secret-store operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretsError {
    /// Another rotation is running.
    #[error("a key rotation is already in progress; try again when it has finished")]
    RotationInProgress,
}

#[derive(Serialize, Deserialize)]
struct StoredKey {
    id: AesKeyId,
    active: bool,
    created: Timestamp,
    material: String,
}

#[derive(Serialize, Deserialize)]
struct StoredSecret {
    key: AesKeyId,
    sealed: String,
}

struct Key {
    seal: SealKey,
    active: bool,
    created: Timestamp,
}

struct State {
    keys: BTreeMap<AesKeyId, Key>,
    /// How many secrets each key seals.
    usage: BTreeMap<AesKeyId, usize>,
    /// Which key seals each secret.
    index: BTreeMap<String, AesKeyId>,
}

impl State {
    fn active(&self) -> (&AesKeyId, &Key) {
        self.keys
            .iter()
            .find(|(_, k)| k.active)
            .expect("a secret store always has an active key")
    }
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// The new active key.
    pub new_key: AesKeyId,
    /// The key that became inactive.
    pub old_key: AesKeyId,
    /// How many secrets were re-encrypted.
    pub re_encrypted: usize,
}

/// Named secrets under rotatable AES keys.
pub struct SecretStore {
    barrier: Arc<Barrier>,
    prefix: String,
    state: RwLock<State>,
    /// Writers of secrets hold it shared; a rotation holds it exclusively.
    gate: tokio::sync::RwLock<()>,
    rotation: tokio::sync::Mutex<()>,
    rng: SystemRandom,
}

impl fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn record<T: for<'de> Deserialize<'de>>(path: &str, bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|_| Error::Corrupt { path: path.into() })
}

fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("records serialize")
}

impl SecretStore {
    /// Opens the store under `prefix` of the barrier, making its first key at
    /// the first use.
    pub async fn open(barrier: Arc<Barrier>, prefix: &str, now: Timestamp) -> Result<Self, Error> {
        let rng = SystemRandom::new();
        let keys_prefix = format!("{prefix}keys/");
        let mut keys = BTreeMap::new();
        for (path, bytes) in barrier.scan(&keys_prefix).await? {
            let stored: StoredKey = record(&path, &bytes)?;
            let raw = Zeroizing::new(
                STANDARD
                    .decode(&stored.material)
                    .map_err(|_| Error::Corrupt { path: path.clone() })?,
            );
            let raw: &[u8; KEY_LEN] = raw
                .as_slice()
                .try_into()
                .map_err(|_| Error::Corrupt { path: path.clone() })?;
            keys.insert(
                stored.id,
                Key {
                    seal: SealKey::from_bytes(raw),
                    active: stored.active,
                    created: stored.created,
                },
            );
        }
        if !keys.values().any(|k| k.active) {
            let id = AesKeyId::numbered(keys.keys().map(AesKeyId::number).max().unwrap_or(0) + 1);
            let seal =
                SealKey::generate(&rng).map_err(|_| Error::Storage("no randomness".into()))?;
            let stored = StoredKey {
                id: id.clone(),
                active: true,
                created: now,
                material: STANDARD.encode(seal.raw()),
            };
            barrier
                .put(&format!("{keys_prefix}{}", id.as_str()), &to_json(&stored))
                .await?;
            keys.insert(
                id,
                Key {
                    seal,
                    active: true,
                    created: now,
                },
            );
        }
        let mut usage: BTreeMap<AesKeyId, usize> = keys.keys().map(|k| (k.clone(), 0)).collect();
        let mut index = BTreeMap::new();
        let values_prefix = format!("{prefix}values/");
        for (path, bytes) in barrier.scan(&values_prefix).await? {
            let stored: StoredSecret = record(&path, &bytes)?;
            *usage.entry(stored.key.clone()).or_default() += 1;
            index.insert(path[values_prefix.len()..].to_string(), stored.key);
        }
        Ok(SecretStore {
            barrier,
            prefix: prefix.to_string(),
            state: RwLock::new(State { keys, usage, index }),
            gate: tokio::sync::RwLock::new(()),
            rotation: tokio::sync::Mutex::new(()),
            rng,
        })
    }

    fn state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn value_path(&self, name: &str) -> String {
        format!("{}values/{name}", self.prefix)
    }

    fn seal_with(&self, key: &SealKey, name: &str, value: &[u8]) -> Result<String, Error> {
        let sealed = key
            .seal(&self.rng, name.as_bytes(), value)
            .map_err(|_| Error::Storage("no randomness".into()))?;
        Ok(STANDARD.encode(sealed))
    }

    fn open_with(
        &self,
        key: &SealKey,
        path: &str,
        name: &str,
        sealed: &str,
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let bytes = STANDARD
            .decode(sealed)
            .map_err(|_| Error::Corrupt { path: path.into() })?;
        key.open(name.as_bytes(), &bytes)
            .ok_or_else(|| Error::Corrupt { path: path.into() })
    }

    /// Stores `value` under `name`, sealed with the active key. True when it
    /// replaced a secret.
    pub async fn put(&self, name: &SecretName, value: &[u8]) -> Result<bool, Error> {
        let _gate = self.gate.read().await;
        let (key_id, sealed) = {
            let state = self.state();
            let (id, key) = state.active();
            (id.clone(), self.seal_with(&key.seal, name.as_str(), value)?)
        };
        let record = StoredSecret {
            key: key_id.clone(),
            sealed,
        };
        self.barrier
            .put(&self.value_path(name.as_str()), &to_json(&record))
            .await?;
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        let previous = state
            .index
            .insert(name.as_str().to_string(), key_id.clone());
        if let Some(prev) = &previous {
            *state.usage.entry(prev.clone()).or_default() -= 1;
        }
        *state.usage.entry(key_id).or_default() += 1;
        Ok(previous.is_some())
    }

    /// The value of a secret.
    pub async fn get(&self, name: &SecretName) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        // Shared with other readers and writers; waits out a rotation or a
        // key deletion, so the key a record names is always there.
        let _gate = self.gate.read().await;
        let path = self.value_path(name.as_str());
        let Some(bytes) = self.barrier.get(&path).await? else {
            return Ok(None);
        };
        let stored: StoredSecret = record(&path, &bytes)?;
        let state = self.state();
        let key = state
            .keys
            .get(&stored.key)
            .ok_or_else(|| Error::Corrupt { path: path.clone() })?;
        self.open_with(&key.seal, &path, name.as_str(), &stored.sealed)
            .map(Some)
    }

    /// Removes a secret; false when there was none.
    pub async fn delete(&self, name: &SecretName) -> Result<bool, Error> {
        let _gate = self.gate.read().await;
        if !self.state().index.contains_key(name.as_str()) {
            return Ok(false);
        }
        self.barrier.delete(&self.value_path(name.as_str())).await?;
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        if let Some(key) = state.index.remove(name.as_str()) {
            *state.usage.entry(key).or_default() -= 1;
        }
        Ok(true)
    }

    /// Every secret's name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.state().index.keys().cloned().collect()
    }

    /// The active key.
    pub fn active_key(&self) -> AesKeyId {
        self.state().active().0.clone()
    }

    /// The inactive keys, oldest first.
    pub fn inactive_keys(&self) -> Vec<AesKeyId> {
        self.state()
            .keys
            .iter()
            .filter(|(_, k)| !k.active)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// When a key was created.
    pub fn key_created(&self, id: &AesKeyId) -> Option<Timestamp> {
        self.state().keys.get(id).map(|k| k.created)
    }

    /// Makes a new active key, re-encrypts every secret under it and marks
    /// the old key inactive, in one atomic durable write. A rotation that
    /// finds another running is refused.
    pub async fn rotate(&self, now: Timestamp) -> Result<Result<Rotation, SecretsError>, Error> {
        let Ok(_one) = self.rotation.try_lock() else {
            return Ok(Err(SecretsError::RotationInProgress));
        };
        let _exclusive = self.gate.write().await;
        let (old_id, new_id, new_key) = {
            let state = self.state();
            let old = state.active().0.clone();
            let next = state.keys.keys().map(AesKeyId::number).max().unwrap_or(0) + 1;
            let key =
                SealKey::generate(&self.rng).map_err(|_| Error::Storage("no randomness".into()))?;
            (old, AesKeyId::numbered(next), key)
        };
        let values_prefix = format!("{}values/", self.prefix);
        let mut batch = WriteBatch::new();
        let mut count = 0;
        for (path, bytes) in self.barrier.scan(&values_prefix).await? {
            let name = &path[values_prefix.len()..];
            let stored: StoredSecret = record(&path, &bytes)?;
            let plaintext = {
                let state = self.state();
                let key = state
                    .keys
                    .get(&stored.key)
                    .ok_or_else(|| Error::Corrupt { path: path.clone() })?;
                self.open_with(&key.seal, &path, name, &stored.sealed)?
            };
            let record = StoredSecret {
                key: new_id.clone(),
                sealed: self.seal_with(&new_key, name, &plaintext)?,
            };
            batch.put(path.clone(), to_json(&record));
            count += 1;
        }
        let keys_prefix = format!("{}keys/", self.prefix);
        let (old_created, old_material) = {
            let state = self.state();
            let old = &state.keys[&old_id];
            (old.created, STANDARD.encode(old.seal.raw()))
        };
        batch.put(
            format!("{keys_prefix}{}", old_id.as_str()),
            to_json(&StoredKey {
                id: old_id.clone(),
                active: false,
                created: old_created,
                material: old_material,
            }),
        );
        batch.put(
            format!("{keys_prefix}{}", new_id.as_str()),
            to_json(&StoredKey {
                id: new_id.clone(),
                active: true,
                created: now,
                material: STANDARD.encode(new_key.raw()),
            }),
        );
        self.barrier.write(batch).await?;

        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        for key in state.keys.values_mut() {
            key.active = false;
        }
        state.keys.insert(
            new_id.clone(),
            Key {
                seal: new_key,
                active: true,
                created: now,
            },
        );
        for key in state.index.values_mut() {
            *key = new_id.clone();
        }
        for n in state.usage.values_mut() {
            *n = 0;
        }
        state.usage.insert(new_id.clone(), count);
        Ok(Ok(Rotation {
            new_key: new_id,
            old_key: old_id,
            re_encrypted: count,
        }))
    }

    /// Deletes every inactive key no secret uses; returns the deleted ones.
    pub async fn delete_inactive_keys(&self) -> Result<Vec<AesKeyId>, Error> {
        let _exclusive = self.gate.write().await;
        let doomed: Vec<AesKeyId> = {
            let state = self.state();
            state
                .keys
                .iter()
                .filter(|(id, k)| !k.active && state.usage.get(*id).copied().unwrap_or(0) == 0)
                .map(|(id, _)| id.clone())
                .collect()
        };
        if doomed.is_empty() {
            return Ok(doomed);
        }
        let mut batch = WriteBatch::new();
        for id in &doomed {
            batch.delete(format!("{}keys/{}", self.prefix, id.as_str()));
        }
        self.barrier.write(batch).await?;
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        for id in &doomed {
            state.keys.remove(id);
            state.usage.remove(id);
        }
        Ok(doomed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;

    fn name(s: &str) -> SecretName {
        SecretName::new(s).unwrap()
    }

    async fn store(barrier: &Arc<Barrier>) -> SecretStore {
        SecretStore::open(barrier.clone(), "secrets/", Timestamp::from_unix_secs(1))
            .await
            .unwrap()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn rotation_keeps_every_value_and_retires_the_old_key() {
        let barrier = Arc::new(Barrier::ephemeral(Arc::new(MemoryStore::new())).unwrap());
        let s = store(&barrier).await;
        for i in 0..50 {
            s.put(&name(&format!("s{i}")), format!("value-{i}").as_bytes())
                .await
                .unwrap();
        }
        let first = s.active_key();
        let r = s
            .rotate(Timestamp::from_unix_secs(2))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.re_encrypted, 50);
        assert_eq!(r.old_key, first);
        assert_eq!(s.inactive_keys(), vec![first.clone()]);
        for i in 0..50 {
            assert_eq!(
                &s.get(&name(&format!("s{i}"))).await.unwrap().unwrap()[..],
                format!("value-{i}").as_bytes()
            );
        }
        assert_eq!(s.delete_inactive_keys().await.unwrap(), vec![first]);
        assert!(s.inactive_keys().is_empty());

        // A reopened store sees the same state.
        let again = store(&barrier).await;
        assert_eq!(again.active_key(), r.new_key);
        assert_eq!(again.names().len(), 50);
        assert_eq!(
            &again.get(&name("s7")).await.unwrap().unwrap()[..],
            b"value-7"
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn secrets_are_bound_to_their_name_and_deleted() {
        let barrier = Arc::new(Barrier::ephemeral(Arc::new(MemoryStore::new())).unwrap());
        let s = store(&barrier).await;
        assert!(!s.put(&name("a"), b"1").await.unwrap());
        assert!(s.put(&name("a"), b"2").await.unwrap(), "replaced");
        let a = barrier.get("secrets/values/a").await.unwrap().unwrap();
        barrier.put("secrets/values/b", &a).await.unwrap();
        let moved = store(&barrier).await;
        assert!(
            moved.get(&name("b")).await.is_err(),
            "a value copied to another name does not open"
        );
        assert!(s.delete(&name("a")).await.unwrap());
        assert!(!s.delete(&name("a")).await.unwrap());
        assert_eq!(s.get(&name("a")).await.unwrap(), None);
    }

    #[test]
    fn names_are_checked() {
        assert!(SecretName::new("db.password-1_x").is_some());
        for bad in ["", "a/b", "a b", &"x".repeat(257)] {
            assert!(SecretName::new(bad).is_none(), "{bad:?}");
        }
    }
}
