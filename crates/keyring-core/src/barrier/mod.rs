//! The barrier: every value sealed with AES-256-GCM under the internal data
//! key, with its storage path as associated data, so that a value moved to
//! another path no longer opens.
//!
//! Layout of a stored value: `0x01 || nonce (12) || ciphertext || tag (16)`.

mod keyfolder;
mod keystore;

use std::sync::{Arc, Mutex};

use ring::rand::SystemRandom;
use zeroize::Zeroizing;

pub use keyfolder::{KeyFolder, KeyHash, UserKey};
pub use keystore::{Keystore, Unlocked};

use crate::Error;
use crate::aead::SealKey;
use crate::store::{Store, WriteBatch, WriteOp};

const FORMAT_V1: u8 = 1;

/// The encrypted view of a [`Store`]. Values go in and come out in plaintext;
/// what reaches the store is sealed.
pub struct Barrier {
    store: Arc<dyn Store>,
    key: SealKey,
    rng: SystemRandom,
    keystore: Option<Keystore>,
    user_keys: Mutex<Vec<KeyHash>>,
    rotation: tokio::sync::Mutex<()>,
    /// Why the last write failed, until a write succeeds again.
    write_failure: Mutex<Option<String>>,
    stats: Mutex<WriteStats>,
}

/// How the store's writes went since the barrier opened.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WriteStats {
    /// Writes the store took (each a durable commit).
    pub writes: u64,
    /// Writes the store refused.
    pub failures: u64,
    /// Time spent in writes, in seconds (taken and refused).
    pub seconds_total: f64,
    /// The longest write, in seconds.
    pub seconds_max: f64,
}

impl std::fmt::Debug for Barrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Barrier")
            .field("keystore", &self.keystore)
            .finish_non_exhaustive()
    }
}

impl Barrier {
    /// A barrier over `store` with the data key of an unlocked keystore.
    pub fn new(store: Arc<dyn Store>, unlocked: Unlocked) -> Self {
        let (key, keys, keystore) = unlocked.into_parts();
        Barrier {
            store,
            key,
            rng: SystemRandom::new(),
            keystore: Some(keystore),
            user_keys: Mutex::new(keys),
            rotation: tokio::sync::Mutex::new(()),
            write_failure: Mutex::new(None),
            stats: Mutex::new(WriteStats::default()),
        }
    }

    /// A barrier with a fresh random data key that is kept nowhere: for tests
    /// and for embedders whose store lives no longer than the process.
    /// Rotation is not available on it.
    pub fn ephemeral(store: Arc<dyn Store>) -> Result<Self, Error> {
        let rng = SystemRandom::new();
        let key = SealKey::generate(&rng).map_err(|_| Error::Storage("no randomness".into()))?;
        Ok(Barrier {
            store,
            key,
            rng,
            keystore: None,
            user_keys: Mutex::new(Vec::new()),
            rotation: tokio::sync::Mutex::new(()),
            write_failure: Mutex::new(None),
            stats: Mutex::new(WriteStats::default()),
        })
    }

    /// True when the data key is protected by the keys of a key folder.
    pub fn has_key_folder(&self) -> bool {
        self.keystore.as_ref().is_some_and(Keystore::has_folder)
    }

    /// SHA-256 of each user key the data key is wrapped under now, sorted.
    pub fn user_key_hashes(&self) -> Vec<KeyHash> {
        self.user_keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Re-reads the key folder and wraps the data key under each key now in it
    /// (a key removed from the folder no longer opens the store). The stored
    /// data is not touched: this costs the same for ten entries or a million.
    /// A folder with no valid key is refused and nothing changes.
    pub async fn rotate_user_keys(&self) -> Result<Vec<KeyHash>, Error> {
        let Some(keystore) = self.keystore.clone() else {
            return Err(Error::KeyFolder {
                folder: Default::default(),
                reason: "no key folder is configured".into(),
            });
        };
        let _serialised = self.rotation.lock().await;
        let raw = Zeroizing::new(*self.key.raw());
        let hashes = tokio::task::spawn_blocking(move || keystore.rewrap(&raw))
            .await
            .map_err(|e| Error::Storage(format!("rotation task failed: {e}")))??;
        *self.user_keys.lock().unwrap_or_else(|p| p.into_inner()) = hashes.clone();
        Ok(hashes)
    }

    /// A snapshot of the whole store (one read transaction) with the
    /// keystore file that opens it. Not available on an ephemeral barrier.
    pub async fn snapshot(&self, now: crate::Timestamp) -> Result<Vec<u8>, Error> {
        let keystore = self
            .keystore
            .as_ref()
            .ok_or_else(|| Error::Snapshot("this store keeps its data key nowhere".into()))?;
        let format = self.data_format().await?;
        crate::Snapshot::take(self.store.as_ref(), keystore.file(), format, now).await
    }

    /// The on-disk format the store's records are in: the sealed record at
    /// [`crate::FORMAT_PATH`], or 1 when there is none (data dirs from before
    /// formats were numbered). A format newer than this keyward reads is
    /// refused.
    pub async fn data_format(&self) -> Result<u32, Error> {
        let format = match self.get(crate::FORMAT_PATH).await? {
            Some(bytes) => crate::format::parse_format_record(&bytes)?,
            None => 1,
        };
        crate::check_readable("the data store", format)?;
        Ok(format)
    }

    /// The format fence of the keystore file (see `crate::format`); an
    /// ephemeral barrier has no file and always answers the current format.
    pub fn format_fence(&self) -> Result<u32, Error> {
        match &self.keystore {
            Some(k) => k.format(),
            None => Ok(crate::DATA_FORMAT),
        }
    }

    /// Raises the keystore file's format fence to `format` (a migration does
    /// it before its first write). Nothing to do on an ephemeral barrier.
    pub async fn raise_format_fence(&self, format: u32) -> Result<(), Error> {
        let Some(keystore) = self.keystore.clone() else {
            return Ok(());
        };
        let _serialised = self.rotation.lock().await;
        tokio::task::spawn_blocking(move || keystore.raise_format(format))
            .await
            .map_err(|e| Error::Storage(format!("format fence task failed: {e}")))?
    }

    /// Replaces everything in the store by a snapshot's entries, in one
    /// atomic write, while the store stays open. Only a snapshot sealed with
    /// this barrier's own data key (taken from this data store or a copy of
    /// it) is accepted: its values open here unchanged, and the keystore
    /// file stays as it is. A snapshot from another data store is refused
    /// with nothing written; it restores into a stopped data dir instead.
    /// Returns the number of entries restored.
    pub async fn restore(&self, snapshot: &crate::Snapshot) -> Result<usize, Error> {
        let keystore = self
            .keystore
            .clone()
            .ok_or_else(|| Error::Snapshot("this store keeps its data key nowhere".into()))?;
        let bytes = snapshot.keystore_bytes().to_vec();
        let theirs = tokio::task::spawn_blocking(move || keystore.unlock_copy(&bytes))
            .await
            .map_err(|e| Error::Storage(format!("snapshot check failed: {e}")))?
            .map_err(|e| match e {
                Error::Storage(_) => e,
                other => Error::Snapshot(format!(
                    "it was taken from another data store, and the keys cannot open it: {other}"
                )),
            })?;
        let (their_key, _, _) = theirs.into_parts();
        if !self.key.same_as(&their_key) {
            return Err(Error::Snapshot(
                "it was taken from another data store (another data key); restore it into a \
                 stopped data dir with `keyward operator snapshot restore`"
                    .into(),
            ));
        }
        // Every value must open before anything is replaced.
        for (path, value) in snapshot.entries() {
            self.open(path, value)?;
        }
        let _serialised = self.rotation.lock().await;
        let mut batch = WriteBatch::new();
        let wanted: std::collections::HashSet<&str> =
            snapshot.entries().iter().map(|(p, _)| p.as_str()).collect();
        for path in self.store.list("").await? {
            if !wanted.contains(path.as_str()) {
                batch.delete(path);
            }
        }
        for (path, value) in snapshot.entries() {
            batch.put(path.clone(), value.clone());
        }
        let started = std::time::Instant::now();
        let outcome = self.store.write(batch).await;
        self.note(started, outcome)?;
        Ok(snapshot.len())
    }

    fn seal(&self, path: &str, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        let sealed = self
            .key
            .seal(&self.rng, path.as_bytes(), plaintext)
            .map_err(|_| Error::Storage("no randomness for a nonce".into()))?;
        let mut out = Vec::with_capacity(1 + sealed.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn open(&self, path: &str, stored: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        match stored.split_first() {
            Some((&FORMAT_V1, sealed)) => self
                .key
                .open(path.as_bytes(), sealed)
                .ok_or_else(|| Error::Corrupt { path: path.into() }),
            _ => Err(Error::Corrupt { path: path.into() }),
        }
    }

    /// The plaintext value at `path`.
    pub async fn get(&self, path: &str) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        match self.store.get(path).await? {
            Some(stored) => Ok(Some(self.open(path, &stored)?)),
            None => Ok(None),
        }
    }

    /// Seals and stores one value, durably.
    pub async fn put(&self, path: &str, value: &[u8]) -> Result<(), Error> {
        let sealed = self.seal(path, value)?;
        let started = std::time::Instant::now();
        let outcome = self.store.put(path, sealed).await;
        self.note(started, outcome)
    }

    /// Removes one value, durably.
    pub async fn delete(&self, path: &str) -> Result<(), Error> {
        let started = std::time::Instant::now();
        let outcome = self.store.delete(path).await;
        self.note(started, outcome)
    }

    /// How the store's writes went since the barrier opened.
    pub fn write_stats(&self) -> WriteStats {
        *self.stats.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Remembers how long the write took and whether the store took it.
    fn note(&self, started: std::time::Instant, outcome: Result<(), Error>) -> Result<(), Error> {
        let took = started.elapsed().as_secs_f64();
        {
            let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
            if outcome.is_ok() {
                stats.writes += 1;
            } else {
                stats.failures += 1;
            }
            stats.seconds_total += took;
            stats.seconds_max = stats.seconds_max.max(took);
        }
        let mut failure = self.write_failure.lock().unwrap_or_else(|p| p.into_inner());
        *failure = outcome.as_ref().err().map(ToString::to_string);
        outcome
    }

    /// Why the store refused the last write (a full disk, an I/O error),
    /// until a write succeeds again.
    pub fn write_failure(&self) -> Option<String> {
        self.write_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reads one path through the store to see that it answers. The value
    /// is not opened.
    pub async fn probe(&self, path: &str) -> Result<(), Error> {
        self.store.get(path).await.map(drop)
    }

    /// Paths under `prefix` (paths are not secret; they are stored in the clear).
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        self.store.list(prefix).await
    }

    /// Every (path, plaintext) pair under `prefix`.
    pub async fn scan(&self, prefix: &str) -> Result<Vec<(String, Zeroizing<Vec<u8>>)>, Error> {
        self.store
            .scan(prefix)
            .await?
            .into_iter()
            .map(|(path, stored)| {
                let value = self.open(&path, &stored)?;
                Ok((path, value))
            })
            .collect()
    }

    /// Seals every value of `batch` and applies it atomically and durably.
    pub async fn write(&self, batch: WriteBatch) -> Result<(), Error> {
        let mut sealed = WriteBatch::new();
        for op in batch.into_ops() {
            match op {
                WriteOp::Put { path, value } => {
                    let value = Zeroizing::new(value);
                    let v = self.seal(&path, &value)?;
                    sealed.put(path, v);
                }
                WriteOp::Delete { path } => {
                    sealed.delete(path);
                }
            }
        }
        let started = std::time::Instant::now();
        let outcome = self.store.write(sealed).await;
        self.note(started, outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;

    #[tokio::test]
    async fn values_are_sealed_and_bound_to_their_path() {
        let store = Arc::new(MemoryStore::new());
        let barrier = Barrier::ephemeral(store.clone()).unwrap();
        barrier.put("sys/a", b"plaintext-secret").await.unwrap();
        let raw = store.get("sys/a").await.unwrap().unwrap();
        assert!(!raw.windows(16).any(|w| w == b"plaintext-secret"));
        assert_eq!(
            &barrier.get("sys/a").await.unwrap().unwrap()[..],
            b"plaintext-secret"
        );

        // Move the sealed bytes to another path: they must not open there.
        store.put("sys/b", raw).await.unwrap();
        assert!(matches!(
            barrier.get("sys/b").await,
            Err(Error::Corrupt { .. })
        ));
    }

    #[tokio::test]
    async fn batch_and_scan() {
        let barrier = Barrier::ephemeral(Arc::new(MemoryStore::new())).unwrap();
        let mut batch = WriteBatch::new();
        batch.put("p/1", b"a".to_vec()).put("p/2", b"b".to_vec());
        barrier.write(batch).await.unwrap();
        let all = barrier.scan("p/").await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(&all[1].1[..], b"b");
        assert_eq!(barrier.list("p/").await.unwrap(), vec!["p/1", "p/2"]);
    }

    /// A store that refuses writes while `full` is set, like a full disk.
    struct FullDisk {
        inner: crate::MemoryStore,
        full: std::sync::atomic::AtomicBool,
    }

    impl Store for FullDisk {
        fn get<'a>(&'a self, path: &'a str) -> crate::StoreFuture<'a, Option<Vec<u8>>> {
            self.inner.get(path)
        }
        fn list<'a>(&'a self, prefix: &'a str) -> crate::StoreFuture<'a, Vec<String>> {
            self.inner.list(prefix)
        }
        fn scan<'a>(&'a self, prefix: &'a str) -> crate::StoreFuture<'a, Vec<(String, Vec<u8>)>> {
            self.inner.scan(prefix)
        }
        fn write(&self, batch: WriteBatch) -> crate::StoreFuture<'_, ()> {
            if self.full.load(std::sync::atomic::Ordering::SeqCst) {
                Box::pin(async { Err(Error::Storage("No space left on device".into())) })
            } else {
                self.inner.write(batch)
            }
        }
    }

    #[tokio::test]
    async fn a_refused_write_is_reported_until_a_write_succeeds() {
        let store = Arc::new(FullDisk {
            inner: crate::MemoryStore::new(),
            full: false.into(),
        });
        let barrier = Barrier::ephemeral(store.clone()).unwrap();
        barrier.put("a", b"1").await.unwrap();
        assert_eq!(barrier.write_failure(), None);
        store.full.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(barrier.put("b", b"2").await.is_err());
        let why = barrier.write_failure().expect("the failure is kept");
        assert!(why.contains("No space left"), "{why}");
        // Reads keep working while writes fail.
        assert_eq!(barrier.get("a").await.unwrap().unwrap().as_slice(), b"1");
        barrier.probe("a").await.unwrap();
        store.full.store(false, std::sync::atomic::Ordering::SeqCst);
        barrier.delete("a").await.unwrap();
        assert_eq!(barrier.write_failure(), None);
        let stats = barrier.write_stats();
        assert_eq!((stats.writes, stats.failures), (2, 1));
        assert!(stats.seconds_total >= stats.seconds_max && stats.seconds_max > 0.0);
    }
}
