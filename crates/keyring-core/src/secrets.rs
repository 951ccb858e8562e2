//! The secret store of the Atlassian Data Center model: named secrets, each
//! sealed with AES-256-GCM under the active AES key (and, like everything,
//! under the barrier too). Rotation makes a new key, re-encrypts every secret
//! under it and marks the old key inactive — all in one atomic, durable
//! write, so a crash leaves either the old or the new state, never a mix.
//! Inactive keys are listed and deleted once no secret uses them.
//!
//! ## Layout
//!
//! - `<prefix>keys/aes-key-NNNN`: one AES key (JSON: id, active, created,
//!   material), sealed by the barrier like every value.
//! - `<prefix>buckets/XX` (`00` to `ff`): the secrets whose name hashes to
//!   that bucket (FNV-1a), each sealed under an AES key and tagged with its
//!   number; the bucket record is sealed by the barrier.
//!
//! Secrets are grouped in 256 buckets rather than stored one per record so
//! that a rotation writes 256 records, not one per secret: with 100,000
//! secrets the storage part of a rotation is a few megabytes in one
//! transaction, and the rest of the time is the cryptography itself. A
//! write of one secret rewrites its bucket (a few kilobytes for 100,000
//! secrets). Every sealed secret is also kept in memory, so reads never
//! touch storage; the plaintexts are not kept.

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

/// How many buckets the secrets are spread over.
const BUCKETS: usize = 256;

/// The bucket record format.
const BUCKET_V1: u8 = 1;

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

    /// The bucket the name lives in (FNV-1a; part of the storage format).
    fn bucket(&self) -> usize {
        let mut h: u32 = 0x811c_9dc5;
        for b in self.0.bytes() {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
        (h as usize) % BUCKETS
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

    fn number(&self) -> Option<u32> {
        self.0.strip_prefix("aes-key-")?.parse().ok()
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a secret-store operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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

struct Key {
    seal: SealKey,
    active: bool,
    created: Timestamp,
}

/// One secret as stored: the number of the AES key and the sealed value
/// (`nonce || ciphertext || tag`, the name as associated data).
#[derive(Clone)]
struct Sealed {
    key: u32,
    bytes: Vec<u8>,
}

type Bucket = BTreeMap<String, Sealed>;

fn encode_bucket(bucket: &Bucket) -> Vec<u8> {
    let size: usize = bucket
        .iter()
        .map(|(n, s)| 10 + n.len() + s.bytes.len())
        .sum();
    let mut out = Vec::with_capacity(1 + size);
    out.push(BUCKET_V1);
    for (name, sealed) in bucket {
        // Names are at most 256 bytes; sealed values at most a few MiB.
        out.extend_from_slice(&(name.len() as u16).to_be_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&sealed.key.to_be_bytes());
        out.extend_from_slice(&(sealed.bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(&sealed.bytes);
    }
    out
}

fn decode_bucket(path: &str, bytes: &[u8]) -> Result<Bucket, Error> {
    let corrupt = || Error::Corrupt { path: path.into() };
    let (&version, mut rest) = bytes.split_first().ok_or_else(corrupt)?;
    if version != BUCKET_V1 {
        return Err(corrupt());
    }
    fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
        if rest.len() < n {
            return None;
        }
        let (head, tail) = rest.split_at(n);
        *rest = tail;
        Some(head)
    }
    let mut bucket = Bucket::new();
    while !rest.is_empty() {
        let len = u16::from_be_bytes(
            take(&mut rest, 2)
                .ok_or_else(corrupt)?
                .try_into()
                .map_err(|_| corrupt())?,
        );
        let name = take(&mut rest, len.into()).ok_or_else(corrupt)?;
        let name = std::str::from_utf8(name)
            .map_err(|_| corrupt())?
            .to_string();
        let key = u32::from_be_bytes(
            take(&mut rest, 4)
                .ok_or_else(corrupt)?
                .try_into()
                .map_err(|_| corrupt())?,
        );
        let len = u32::from_be_bytes(
            take(&mut rest, 4)
                .ok_or_else(corrupt)?
                .try_into()
                .map_err(|_| corrupt())?,
        );
        let sealed = take(&mut rest, len as usize).ok_or_else(corrupt)?.to_vec();
        bucket.insert(name, Sealed { key, bytes: sealed });
    }
    Ok(bucket)
}

struct State {
    keys: BTreeMap<u32, Key>,
    buckets: Vec<Arc<Bucket>>,
}

impl State {
    fn active(&self) -> (u32, &Key) {
        self.keys
            .iter()
            .find(|(_, k)| k.active)
            .map(|(n, k)| (*n, k))
            .expect("a secret store always has an active key")
    }

    /// How many secrets each key seals.
    fn usage(&self) -> BTreeMap<u32, usize> {
        let mut usage = BTreeMap::new();
        for bucket in &self.buckets {
            for sealed in bucket.values() {
                *usage.entry(sealed.key).or_default() += 1;
            }
        }
        usage
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
    /// Writers of secrets hold it shared; a rotation or a key deletion
    /// holds it exclusively.
    gate: tokio::sync::RwLock<()>,
    /// Serializes writers (a write rewrites a whole bucket).
    writer: tokio::sync::Mutex<()>,
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

fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("records serialize")
}

fn seal_with(
    rng: &SystemRandom,
    key: &SealKey,
    name: &str,
    value: &[u8],
) -> Result<Vec<u8>, Error> {
    key.seal(rng, name.as_bytes(), value)
        .map_err(|_| Error::Storage("no randomness".into()))
}

impl SecretStore {
    /// Opens the store under `prefix` of the barrier, making its first key at
    /// the first use.
    pub async fn open(barrier: Arc<Barrier>, prefix: &str, now: Timestamp) -> Result<Self, Error> {
        let rng = SystemRandom::new();
        let keys_prefix = format!("{prefix}keys/");
        let mut keys = BTreeMap::new();
        for (path, bytes) in barrier.scan(&keys_prefix).await? {
            let corrupt = || Error::Corrupt { path: path.clone() };
            let stored: StoredKey = serde_json::from_slice(&bytes).map_err(|_| corrupt())?;
            let number = stored.id.number().ok_or_else(corrupt)?;
            let raw = Zeroizing::new(STANDARD.decode(&stored.material).map_err(|_| corrupt())?);
            let raw: &[u8; KEY_LEN] = raw.as_slice().try_into().map_err(|_| corrupt())?;
            keys.insert(
                number,
                Key {
                    seal: SealKey::from_bytes(raw),
                    active: stored.active,
                    created: stored.created,
                },
            );
        }
        if !keys.values().any(|k| k.active) {
            let number = keys.keys().max().copied().unwrap_or(0) + 1;
            let seal =
                SealKey::generate(&rng).map_err(|_| Error::Storage("no randomness".into()))?;
            let id = AesKeyId::numbered(number);
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
                number,
                Key {
                    seal,
                    active: true,
                    created: now,
                },
            );
        }
        let mut buckets: Vec<Arc<Bucket>> = (0..BUCKETS).map(|_| Arc::default()).collect();
        let buckets_prefix = format!("{prefix}buckets/");
        for (path, bytes) in barrier.scan(&buckets_prefix).await? {
            let index = usize::from_str_radix(&path[buckets_prefix.len()..], 16)
                .ok()
                .filter(|i| *i < BUCKETS)
                .ok_or_else(|| Error::Corrupt { path: path.clone() })?;
            let bucket = decode_bucket(&path, &bytes)?;
            if bucket.values().any(|s| !keys.contains_key(&s.key)) {
                return Err(Error::Corrupt { path });
            }
            buckets[index] = Arc::new(bucket);
        }
        Ok(SecretStore {
            barrier,
            prefix: prefix.to_string(),
            state: RwLock::new(State { keys, buckets }),
            gate: tokio::sync::RwLock::new(()),
            writer: tokio::sync::Mutex::new(()),
            rotation: tokio::sync::Mutex::new(()),
            rng,
        })
    }

    fn state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn bucket_path(&self, index: usize) -> String {
        format!("{}buckets/{index:02x}", self.prefix)
    }

    fn key_path(&self, id: &AesKeyId) -> String {
        format!("{}keys/{}", self.prefix, id.as_str())
    }

    /// Applies `edit` to copies of the buckets it names, persists them in
    /// one durable write, then swaps them in. The caller holds `gate` shared.
    async fn edit<F>(&self, names: &[&SecretName], edit: F) -> Result<usize, Error>
    where
        F: FnOnce(&State, &mut BTreeMap<usize, Bucket>) -> Result<usize, Error>,
    {
        let _writer = self.writer.lock().await;
        let (mut touched, outcome) = {
            let state = self.state();
            let mut touched: BTreeMap<usize, Bucket> = BTreeMap::new();
            for name in names {
                let i = name.bucket();
                touched
                    .entry(i)
                    .or_insert_with(|| (*state.buckets[i]).clone());
            }
            let outcome = edit(&state, &mut touched)?;
            (touched, outcome)
        };
        let mut batch = WriteBatch::new();
        for (i, bucket) in &touched {
            if bucket.is_empty() {
                batch.delete(self.bucket_path(*i));
            } else {
                batch.put(self.bucket_path(*i), encode_bucket(bucket));
            }
        }
        self.barrier.write(batch).await?;
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        for (i, bucket) in std::mem::take(&mut touched) {
            state.buckets[i] = Arc::new(bucket);
        }
        Ok(outcome)
    }

    /// Stores `value` under `name`, sealed with the active key. True when it
    /// replaced a secret.
    pub async fn put(&self, name: &SecretName, value: &[u8]) -> Result<bool, Error> {
        let value = Zeroizing::new(value.to_vec());
        let replaced = self.put_many(&[(name.clone(), value)]).await?;
        Ok(replaced == 1)
    }

    /// Stores many secrets in one atomic durable write; returns how many
    /// replaced a secret.
    pub async fn put_many(
        &self,
        items: &[(SecretName, Zeroizing<Vec<u8>>)],
    ) -> Result<usize, Error> {
        let _gate = self.gate.read().await;
        let names: Vec<&SecretName> = items.iter().map(|(n, _)| n).collect();
        self.edit(&names, |state, touched| {
            let (number, key) = state.active();
            let mut replaced = 0;
            for (name, value) in items {
                let sealed = Sealed {
                    key: number,
                    bytes: seal_with(&self.rng, &key.seal, name.as_str(), value)?,
                };
                let bucket = touched
                    .get_mut(&name.bucket())
                    .expect("every named bucket is loaded");
                if bucket.insert(name.as_str().to_string(), sealed).is_some() {
                    replaced += 1;
                }
            }
            Ok(replaced)
        })
        .await
    }

    /// The value of a secret (from memory: no storage read).
    pub async fn get(&self, name: &SecretName) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        let state = self.state();
        let Some(sealed) = state.buckets[name.bucket()].get(name.as_str()) else {
            return Ok(None);
        };
        let key = state.keys.get(&sealed.key).ok_or_else(|| Error::Corrupt {
            path: self.bucket_path(name.bucket()),
        })?;
        key.seal
            .open(name.as_str().as_bytes(), &sealed.bytes)
            .map(Some)
            .ok_or_else(|| Error::Corrupt {
                path: self.bucket_path(name.bucket()),
            })
    }

    /// Removes a secret; false when there was none.
    pub async fn delete(&self, name: &SecretName) -> Result<bool, Error> {
        let _gate = self.gate.read().await;
        if !self.state().buckets[name.bucket()].contains_key(name.as_str()) {
            return Ok(false);
        }
        let removed = self
            .edit(&[name], |_, touched| {
                let bucket = touched
                    .get_mut(&name.bucket())
                    .expect("the named bucket is loaded");
                Ok(usize::from(bucket.remove(name.as_str()).is_some()))
            })
            .await?;
        Ok(removed == 1)
    }

    /// Every secret's name, sorted.
    pub fn names(&self) -> Vec<String> {
        let state = self.state();
        let mut names: Vec<String> = state
            .buckets
            .iter()
            .flat_map(|b| b.keys().cloned())
            .collect();
        names.sort_unstable();
        names
    }

    /// How many secrets are stored.
    pub fn len(&self) -> usize {
        self.state().buckets.iter().map(|b| b.len()).sum()
    }

    /// True when no secret is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The active key.
    pub fn active_key(&self) -> AesKeyId {
        AesKeyId::numbered(self.state().active().0)
    }

    /// The inactive keys, oldest first.
    pub fn inactive_keys(&self) -> Vec<AesKeyId> {
        self.state()
            .keys
            .iter()
            .filter(|(_, k)| !k.active)
            .map(|(n, _)| AesKeyId::numbered(*n))
            .collect()
    }

    /// When a key was created.
    pub fn key_created(&self, id: &AesKeyId) -> Option<Timestamp> {
        let n = id.number()?;
        self.state().keys.get(&n).map(|k| k.created)
    }

    /// Makes a new active key, re-encrypts every secret under it and marks
    /// the old key inactive, in one atomic durable write. A rotation that
    /// finds another running is refused. The cryptography runs off the
    /// async workers.
    pub async fn rotate(&self, now: Timestamp) -> Result<Result<Rotation, SecretsError>, Error> {
        let Ok(_one) = self.rotation.try_lock() else {
            return Ok(Err(SecretsError::RotationInProgress));
        };
        let _exclusive = self.gate.write().await;
        let new_key =
            SealKey::generate(&self.rng).map_err(|_| Error::Storage("no randomness".into()))?;
        let (old_number, new_number, old_record, buckets, keys) = {
            let state = self.state();
            let (old_number, old) = state.active();
            let new_number = state.keys.keys().max().copied().unwrap_or(0) + 1;
            let old_record = StoredKey {
                id: AesKeyId::numbered(old_number),
                active: false,
                created: old.created,
                material: STANDARD.encode(old.seal.raw()),
            };
            let keys: BTreeMap<u32, SealKey> = state
                .keys
                .iter()
                .map(|(n, k)| (*n, SealKey::from_bytes(k.seal.raw())))
                .collect();
            (
                old_number,
                new_number,
                old_record,
                state.buckets.clone(),
                keys,
            )
        };
        let rng = self.rng.clone();
        let work = tokio::task::spawn_blocking(move || {
            reencrypt(&buckets, &keys, &new_key, new_number, &rng).map(|b| (b, new_key))
        })
        .await
        .map_err(|e| Error::Storage(format!("the rotation task failed: {e}")))?;
        let ((new_buckets, count), new_key) = work?;

        let mut batch = WriteBatch::new();
        for (i, bucket) in new_buckets.iter().enumerate() {
            if !bucket.is_empty() {
                batch.put(self.bucket_path(i), encode_bucket(bucket));
            }
        }
        let new_id = AesKeyId::numbered(new_number);
        batch.put(self.key_path(&old_record.id), to_json(&old_record));
        batch.put(
            self.key_path(&new_id),
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
            new_number,
            Key {
                seal: new_key,
                active: true,
                created: now,
            },
        );
        state.buckets = new_buckets.into_iter().map(Arc::new).collect();
        Ok(Ok(Rotation {
            new_key: new_id,
            old_key: AesKeyId::numbered(old_number),
            re_encrypted: count,
        }))
    }

    /// Deletes every inactive key no secret uses; returns the deleted ones.
    pub async fn delete_inactive_keys(&self) -> Result<Vec<AesKeyId>, Error> {
        let _exclusive = self.gate.write().await;
        let doomed: Vec<u32> = {
            let state = self.state();
            let usage = state.usage();
            state
                .keys
                .iter()
                .filter(|(n, k)| !k.active && usage.get(*n).copied().unwrap_or(0) == 0)
                .map(|(n, _)| *n)
                .collect()
        };
        if doomed.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<AesKeyId> = doomed.iter().map(|n| AesKeyId::numbered(*n)).collect();
        let mut batch = WriteBatch::new();
        for id in &ids {
            batch.delete(self.key_path(id));
        }
        self.barrier.write(batch).await?;
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        for n in &doomed {
            state.keys.remove(n);
        }
        Ok(ids)
    }
}

/// Opens every secret with the key that sealed it and seals it again under
/// `new_key`; returns the new buckets and how many secrets they hold.
fn reencrypt(
    buckets: &[Arc<Bucket>],
    keys: &BTreeMap<u32, SealKey>,
    new_key: &SealKey,
    new_number: u32,
    rng: &SystemRandom,
) -> Result<(Vec<Bucket>, usize), Error> {
    let mut out = Vec::with_capacity(buckets.len());
    let mut count = 0;
    for (i, bucket) in buckets.iter().enumerate() {
        let corrupt = || Error::Corrupt {
            path: format!("buckets/{i:02x}"),
        };
        let mut next = Bucket::new();
        for (name, sealed) in bucket.iter() {
            let key = keys.get(&sealed.key).ok_or_else(corrupt)?;
            let plaintext = key
                .open(name.as_bytes(), &sealed.bytes)
                .ok_or_else(corrupt)?;
            let bytes = seal_with(rng, new_key, name, &plaintext)?;
            next.insert(
                name.clone(),
                Sealed {
                    key: new_number,
                    bytes,
                },
            );
            count += 1;
        }
        out.push(next);
    }
    Ok((out, count))
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
        let many: Vec<(SecretName, Zeroizing<Vec<u8>>)> = (50..2000)
            .map(|i| {
                (
                    name(&format!("s{i}")),
                    Zeroizing::new(format!("value-{i}").into_bytes()),
                )
            })
            .collect();
        assert_eq!(s.put_many(&many).await.unwrap(), 0);
        assert_eq!(s.len(), 2000);
        let first = s.active_key();
        let r = s
            .rotate(Timestamp::from_unix_secs(2))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r.re_encrypted, 2000);
        assert_eq!(r.old_key, first);
        assert_eq!(s.inactive_keys(), vec![first.clone()]);
        for i in 0..2000 {
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
        assert_eq!(again.names().len(), 2000);
        assert_eq!(
            &again.get(&name("s7")).await.unwrap().unwrap()[..],
            b"value-7"
        );
        assert_eq!(
            again.key_created(&r.new_key),
            Some(Timestamp::from_unix_secs(2))
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_rotation_is_refused_while_another_runs() {
        let barrier = Arc::new(Barrier::ephemeral(Arc::new(MemoryStore::new())).unwrap());
        let s = store(&barrier).await;
        s.put(&name("a"), b"1").await.unwrap();
        s.rotate(Timestamp::from_unix_secs(2))
            .await
            .unwrap()
            .unwrap();
        // A concurrent rotation is refused while one runs.
        let _busy = s.rotation.lock().await;
        assert_eq!(
            s.rotate(Timestamp::from_unix_secs(3)).await.unwrap(),
            Err(SecretsError::RotationInProgress)
        );
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn secrets_are_bound_to_their_name_and_deleted() {
        let barrier = Arc::new(Barrier::ephemeral(Arc::new(MemoryStore::new())).unwrap());
        let s = store(&barrier).await;
        assert!(!s.put(&name("a"), b"1").await.unwrap());
        assert!(s.put(&name("a"), b"2").await.unwrap(), "replaced");
        assert_eq!(&s.get(&name("a")).await.unwrap().unwrap()[..], b"2");
        // A sealed value copied under another name does not open.
        let bucket_a = name("a").bucket();
        let stored = barrier
            .get(&format!("secrets/buckets/{bucket_a:02x}"))
            .await
            .unwrap()
            .unwrap();
        let mut decoded = decode_bucket("x", &stored).unwrap();
        let sealed = decoded.remove("a").unwrap();
        let b = name("b");
        let mut forged = Bucket::new();
        forged.insert("b".into(), sealed);
        barrier
            .put(
                &format!("secrets/buckets/{:02x}", b.bucket()),
                &encode_bucket(&forged),
            )
            .await
            .unwrap();
        let moved = store(&barrier).await;
        assert!(
            moved.get(&b).await.is_err(),
            "a value under another name does not open"
        );
        assert!(s.delete(&name("a")).await.unwrap());
        assert!(!s.delete(&name("a")).await.unwrap());
        assert_eq!(s.get(&name("a")).await.unwrap(), None);
        assert!(s.names().is_empty());
    }

    #[test]
    fn names_are_checked_and_buckets_are_stable() {
        assert!(SecretName::new("db.password-1_x").is_some());
        for bad in ["", "a/b", "a b", &"x".repeat(257)] {
            assert!(SecretName::new(bad).is_none(), "{bad:?}");
        }
        // Part of the storage format: must never change.
        assert_eq!(name("a").bucket(), 0x2c);
        assert_eq!(name("db.password").bucket(), name("db.password").bucket());
    }

    #[test]
    fn bucket_records_round_trip_and_reject_damage() {
        let mut b = Bucket::new();
        b.insert(
            "x".into(),
            Sealed {
                key: 3,
                bytes: vec![1, 2, 3],
            },
        );
        b.insert(
            "yy".into(),
            Sealed {
                key: 4,
                bytes: vec![],
            },
        );
        let bytes = encode_bucket(&b);
        let back = decode_bucket("p", &bytes).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back["x"].key, 3);
        assert_eq!(back["x"].bytes, vec![1, 2, 3]);
        for cut in 1..bytes.len() {
            let r = decode_bucket("p", &bytes[..cut]);
            assert!(r.is_err() || r.unwrap().len() < 2, "cut at {cut}");
        }
        assert!(decode_bucket("p", &[2]).is_err());
        assert!(decode_bucket("p", &[]).is_err());
    }
}
