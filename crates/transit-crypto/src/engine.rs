//! [`Transit`]: one mount of the engine. It owns the mount's keys in the
//! encrypted store (under its own prefix) and in memory.
//!
//! - Reads (encrypt, decrypt, hmac, ...) take an `Arc<Policy>` snapshot from
//!   the cache: no storage read, no lock held while the caller works.
//! - Writes to one key are serialized by a per-name lock (striped, as
//!   Vault's lock manager does). A write builds a new policy, persists it
//!   durably through the barrier, and only then swaps it into the cache, so
//!   the next request sees it and a crash never loses an acknowledged write.
//! - Every key is loaded when the mount opens. With a cache size N > 0 only
//!   the N most recently used stay in memory; the others are read back from
//!   storage on their next use (under the key's lock, so a read never
//!   resurrects a key that a concurrent delete removed).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use keyring_core::{Barrier, Clock, Timestamp, WriteBatch};
use serde::{Deserialize, Serialize};

use crate::byok::{ImportMaterial, ImportOptions, WrappingKey, parse_hash_function};
use crate::cache::PolicyCache;
use crate::material::VersionMaterial;
use crate::{DeleteRefusal, Error, KeyName, KeyOptions, KeyType, Policy, backup};

/// The key material of an import request.
#[derive(Debug, Clone, Copy)]
pub enum ImportSource<'a> {
    /// `ciphertext` (base64) wrapped for the mount's wrapping key, with
    /// `hash_function`.
    Ciphertext {
        /// The ciphertext.
        ciphertext: &'a str,
        /// `SHA1`, `SHA256` (default), ...
        hash_function: &'a str,
    },
    /// `public_key`: a PEM `PUBLIC KEY`.
    PublicKey(&'a str),
}

/// Runs CPU-heavy key generation (RSA) off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Storage(format!("key generation task failed: {e}")))?
}

/// Number of lock stripes for writers.
const LOCK_STRIPES: usize = 256;

/// Mount-wide settings (`cache-config`, `config/keys`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct MountSettings {
    /// Cache size; 0 = every key.
    cache_size: u64,
    /// When true, encrypt never creates a missing key.
    disable_upsert: bool,
}

/// The outcome of one auto-rotation pass.
#[derive(Debug, Default)]
pub struct RotationReport {
    /// Keys rotated, with their new latest version.
    pub rotated: Vec<(KeyName, u32)>,
    /// Keys that were due but failed to rotate.
    pub failed: Vec<(KeyName, Error)>,
}

/// One transit mount.
pub struct Transit {
    barrier: Arc<Barrier>,
    prefix: String,
    clock: Arc<dyn Clock>,
    cache: Mutex<PolicyCache>,
    /// True while the cache holds every key of the mount (unlimited size),
    /// so a miss means "no such key" without a storage read.
    complete: AtomicBool,
    locks: Vec<tokio::sync::Mutex<()>>,
    settings: Mutex<MountSettings>,
    /// The BYOK wrapping key, made on first use and stored through the
    /// barrier.
    wrapping: tokio::sync::OnceCell<Arc<WrappingKey>>,
    /// Lookups the cache answered, and those that went to storage.
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
}

impl std::fmt::Debug for Transit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transit")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn corrupt(name: &str, reason: impl Into<String>) -> Error {
    Error::Corrupt {
        name: name.to_string(),
        reason: reason.into(),
    }
}

impl Transit {
    /// Opens the mount stored under `prefix` (e.g. `transit/<uuid>/`) and
    /// loads its keys.
    pub async fn open(
        barrier: Arc<Barrier>,
        prefix: impl Into<String>,
        clock: Arc<dyn Clock>,
    ) -> Result<Transit, Error> {
        let prefix = prefix.into();
        let settings: MountSettings = match barrier.get(&format!("{prefix}config/mount")).await? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| corrupt("config/mount", e.to_string()))?,
            None => MountSettings::default(),
        };
        let capacity = usize::try_from(settings.cache_size).unwrap_or(usize::MAX);
        let transit = Transit {
            barrier,
            prefix,
            clock,
            cache: Mutex::new(PolicyCache::new(capacity)),
            complete: AtomicBool::new(false),
            locks: (0..LOCK_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            settings: Mutex::new(settings),
            wrapping: tokio::sync::OnceCell::new(),
            cache_hits: AtomicU64::new(0),
            cache_misses: AtomicU64::new(0),
        };
        transit.load_all().await?;
        if let Some(bytes) = transit.barrier.get(&transit.wrapping_path()).await? {
            let key = WrappingKey::from_stored(&bytes).map_err(|e| corrupt("wrapping-key", e))?;
            let _ = transit.wrapping.set(Arc::new(key));
        }
        Ok(transit)
    }

    /// Loads every stored key into the cache (up to its size).
    async fn load_all(&self) -> Result<(), Error> {
        let stored = self.barrier.scan(&self.policy_prefix()).await?;
        let mut cache = self.cache_lock();
        for (path, bytes) in stored {
            let name = &path[self.policy_prefix().len()..];
            let policy = Policy::from_stored(&bytes).map_err(|e| corrupt(name, e))?;
            cache.insert(name, Arc::new(policy));
        }
        self.complete
            .store(cache.capacity() == 0, Ordering::Release);
        Ok(())
    }

    fn cache_lock(&self) -> MutexGuard<'_, PolicyCache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn settings(&self) -> MountSettings {
        *self.settings.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn policy_prefix(&self) -> String {
        format!("{}policy/", self.prefix)
    }

    fn policy_path(&self, name: &str) -> String {
        format!("{}policy/{name}", self.prefix)
    }

    fn wrapping_path(&self) -> String {
        format!("{}wrapping-key", self.prefix)
    }

    /// The mount's BYOK wrapping key (RSA-4096), generated and stored the
    /// first time it is asked for.
    pub async fn wrapping_key(&self) -> Result<Arc<WrappingKey>, Error> {
        self.wrapping
            .get_or_try_init(|| async {
                let key = blocking(WrappingKey::generate).await?;
                let stored = key.to_stored()?;
                self.barrier.put(&self.wrapping_path(), &stored).await?;
                Ok(Arc::new(key))
            })
            .await
            .cloned()
    }

    fn lock_for(&self, name: &str) -> &tokio::sync::Mutex<()> {
        // FNV-1a: cheap and stable; the stripe only serializes writers.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        &self.locks[(h % LOCK_STRIPES as u64) as usize]
    }

    /// The current time, from the clock the mount was opened with.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The key named `name`, if it exists. No storage read when the key is
    /// cached (always, with the default cache size).
    pub async fn get(&self, name: &KeyName) -> Result<Option<Arc<Policy>>, Error> {
        if let Some(p) = self.cache_lock().get(name.as_str()) {
            self.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(Some(p));
        }
        if self.complete.load(Ordering::Acquire) {
            return Ok(None);
        }
        let _guard = self.lock_for(name.as_str()).lock().await;
        self.load_locked(name).await
    }

    /// Cache, then storage; the caller holds the key's lock.
    async fn load_locked(&self, name: &KeyName) -> Result<Option<Arc<Policy>>, Error> {
        if let Some(p) = self.cache_lock().get(name.as_str()) {
            return Ok(Some(p));
        }
        if self.complete.load(Ordering::Acquire) {
            return Ok(None);
        }
        self.cache_misses.fetch_add(1, Ordering::Relaxed);
        let Some(bytes) = self.barrier.get(&self.policy_path(name.as_str())).await? else {
            return Ok(None);
        };
        let policy = Arc::new(Policy::from_stored(&bytes).map_err(|e| corrupt(name.as_str(), e))?);
        self.cache_lock().insert(name.as_str(), policy.clone());
        Ok(Some(policy))
    }

    /// Writes `policy` durably, then makes it the one readers get.
    async fn persist(&self, policy: Policy) -> Result<Arc<Policy>, Error> {
        let name = policy.name().as_str().to_string();
        let bytes = policy.to_stored()?;
        self.barrier.put(&self.policy_path(&name), &bytes).await?;
        let policy = Arc::new(policy);
        self.cache_lock().insert(&name, policy.clone());
        Ok(policy)
    }

    /// Creates the key unless it exists. An existing key is returned as it
    /// is, whatever `options` say (Vault's behaviour); the flag tells
    /// whether it was created now.
    pub async fn create(
        &self,
        name: &KeyName,
        options: &KeyOptions,
    ) -> Result<(Arc<Policy>, bool), Error> {
        let _guard = self.lock_for(name.as_str()).lock().await;
        if let Some(existing) = self.load_locked(name).await? {
            return Ok((existing, false));
        }
        let now = self.now();
        let policy = if options.key_type.is_rsa() {
            let (name, options) = (name.clone(), options.clone());
            blocking(move || Policy::generate(name, &options, now)).await?
        } else {
            Policy::generate(name.clone(), options, now)?
        };
        Ok((self.persist(policy).await?, true))
    }

    /// Applies `change` to the key under its lock and persists the result
    /// when `change` says it changed. `missing` is the error for a key that
    /// does not exist (each endpoint words it differently).
    pub async fn update<T>(
        &self,
        name: &KeyName,
        missing: Error,
        change: impl FnOnce(&Policy, Timestamp) -> Result<(Policy, bool, T), Error>,
    ) -> Result<(Arc<Policy>, T), Error> {
        let _guard = self.lock_for(name.as_str()).lock().await;
        let current = self.load_locked(name).await?.ok_or(missing)?;
        let (next, changed, extra) = change(&current, self.now())?;
        let policy = if changed {
            self.persist(next).await?
        } else {
            current
        };
        Ok((policy, extra))
    }

    /// Rotates the key: a new latest version.
    pub async fn rotate(&self, name: &KeyName) -> Result<Arc<Policy>, Error> {
        self.rotate_if(name, None).await.map(|(p, _)| p)
    }

    /// Rotates under the key's lock, when `due_at` is none or the key is
    /// due then. RSA material is made on a blocking thread.
    async fn rotate_if(
        &self,
        name: &KeyName,
        due_at: Option<Timestamp>,
    ) -> Result<(Arc<Policy>, bool), Error> {
        let _guard = self.lock_for(name.as_str()).lock().await;
        let current = self
            .load_locked(name)
            .await?
            .ok_or(Error::RotateKeyNotFound)?;
        if due_at.is_some_and(|t| !current.rotation_due(t)) {
            return Ok((current, false));
        }
        current.check_rotatable()?;
        let material: VersionMaterial = if current.key_type().is_rsa() {
            let p = current.clone();
            blocking(move || p.new_material()).await?
        } else {
            current.new_material()?
        };
        let next = current.rotated_with(material, due_at.unwrap_or_else(|| self.now()))?;
        Ok((self.persist(next).await?, true))
    }

    /// Deletes the key (only when `deletion_allowed`).
    pub async fn delete(&self, name: &KeyName) -> Result<(), Error> {
        let _guard = self.lock_for(name.as_str()).lock().await;
        let refused = |reason| Error::DeleteRefused {
            name: name.to_string(),
            reason,
        };
        let current = self
            .load_locked(name)
            .await?
            .ok_or_else(|| refused(DeleteRefusal::NotFound))?;
        if !current.deletion_allowed() {
            return Err(refused(DeleteRefusal::NotAllowed));
        }
        self.barrier
            .delete(&self.policy_path(name.as_str()))
            .await?;
        self.cache_lock().remove(name.as_str());
        Ok(())
    }

    /// The names of every key, sorted. Once the wrapping key exists the
    /// list holds `import/` too, as Vault's (it stores that key as the
    /// policy `import/wrapping-key`).
    pub async fn list(&self) -> Result<Vec<String>, Error> {
        let prefix = self.policy_prefix();
        let mut names: Vec<String> = self
            .barrier
            .list(&prefix)
            .await?
            .into_iter()
            .map(|p| p[prefix.len()..].to_string())
            .collect();
        if self.wrapping.initialized() {
            names.push("import/".to_string());
            names.sort();
        }
        Ok(names)
    }

    /// The material of an import: unwrapped with the wrapping key (made
    /// now if it does not exist yet), or a public key.
    async fn import_material(
        &self,
        key_type: KeyType,
        source: ImportSource<'_>,
    ) -> Result<ImportMaterial, Error> {
        match source {
            ImportSource::Ciphertext {
                ciphertext,
                hash_function,
            } => {
                let hash = parse_hash_function(hash_function)?;
                let wrapping = self.wrapping_key().await?;
                let ciphertext = ciphertext.to_string();
                // RSA-4096 decryption takes milliseconds: off the workers.
                let material = blocking(move || wrapping.unwrap(&ciphertext, hash)).await?;
                Ok(ImportMaterial::Private(material))
            }
            ImportSource::PublicKey(pem) => {
                if !key_type.is_asymmetric() {
                    return Err(Error::PublicKeyImportUnsupported);
                }
                Ok(ImportMaterial::Public(pem.to_string()))
            }
        }
    }

    /// `POST keys/:name/import`: a new key of imported material.
    pub async fn import(
        &self,
        name: &KeyName,
        options: &ImportOptions,
        source: ImportSource<'_>,
    ) -> Result<Arc<Policy>, Error> {
        let _guard = self.lock_for(name.as_str()).lock().await;
        if self.load_locked(name).await?.is_some() {
            return Err(Error::ImportExisting);
        }
        let material = self.import_material(options.key_type, source).await?;
        let policy = Policy::import_new(name.clone(), options, &material, self.now())?;
        self.persist(policy).await
    }

    /// `POST keys/:name/import_version`: a new version of an imported key,
    /// or the private half of a public-only version.
    pub async fn import_version(
        &self,
        name: &KeyName,
        source: ImportSource<'_>,
        version: Option<i64>,
    ) -> Result<Arc<Policy>, Error> {
        let _guard = self.lock_for(name.as_str()).lock().await;
        let current = self
            .load_locked(name)
            .await?
            .ok_or_else(|| Error::ImportVersionNoKey(name.to_string()))?;
        if !current.imported() {
            return Err(Error::ImportVersionNotImported);
        }
        if current.convergent() {
            return Err(Error::ImportVersionConvergent);
        }
        let material = self.import_material(current.key_type(), source).await?;
        let next = current.with_imported_version(&material, version, self.now())?;
        self.persist(next).await
    }

    /// A backup blob of the key, recording the backup in the key first.
    pub async fn backup(&self, name: &KeyName) -> Result<String, Error> {
        let (policy, ()) = self
            .update(
                name,
                Error::BackupKeyNotFound(name.to_string()),
                |p, now| {
                    if !p.exportable() {
                        return Err(Error::ExportingDisallowed);
                    }
                    if !p.allow_plaintext_backup() {
                        return Err(Error::PlaintextBackupDisallowed);
                    }
                    Ok((p.with_backup_info(now), true, ()))
                },
            )
            .await?;
        backup::encode(&policy)
    }

    /// Restores a backup blob, under `name` when given. An existing key is
    /// replaced only with `force`.
    pub async fn restore(
        &self,
        name: Option<&str>,
        blob: &str,
        force: bool,
    ) -> Result<Arc<Policy>, Error> {
        let policy = backup::decode(blob, name, self.now())?;
        let key = policy.name().clone();
        let _guard = self.lock_for(key.as_str()).lock().await;
        if !force && self.load_locked(&key).await?.is_some() {
            return Err(Error::KeyExists(key.to_string()));
        }
        self.persist(policy).await
    }

    /// The cache size (0 = every key).
    pub fn cache_size(&self) -> u64 {
        self.settings().cache_size
    }

    /// Sets the cache size: 0, or at least 10. Applies at once.
    pub async fn set_cache_size(&self, size: i64) -> Result<u64, Error> {
        if size != 0 && size < 10 {
            return Err(Error::CacheSize);
        }
        let size = size as u64;
        let mut settings = self.settings();
        settings.cache_size = size;
        self.store_settings(settings).await?;
        let capacity = usize::try_from(size).unwrap_or(usize::MAX);
        {
            let mut cache = self.cache_lock();
            cache.resize(capacity);
            if capacity != 0 {
                self.complete.store(false, Ordering::Release);
            }
        }
        if capacity == 0 {
            // Unlimited again: hold every key so misses need no storage read.
            self.load_all().await?;
        }
        Ok(size)
    }

    /// True when encrypt must not create missing keys.
    pub fn disable_upsert(&self) -> bool {
        self.settings().disable_upsert
    }

    /// Sets `disable_upsert`.
    pub async fn set_disable_upsert(&self, disable: bool) -> Result<(), Error> {
        let mut settings = self.settings();
        settings.disable_upsert = disable;
        self.store_settings(settings).await
    }

    async fn store_settings(&self, settings: MountSettings) -> Result<(), Error> {
        let bytes =
            serde_json::to_vec(&settings).map_err(|e| corrupt("config/mount", e.to_string()))?;
        self.barrier
            .put(&format!("{}config/mount", self.prefix), &bytes)
            .await?;
        *self.settings.lock().unwrap_or_else(|p| p.into_inner()) = settings;
        Ok(())
    }

    /// Rotates every key whose latest version is older than its
    /// `auto_rotate_period` at `now`. Correct across restarts: the decision
    /// uses the stored creation time of the latest version, nothing kept in
    /// memory.
    pub async fn rotate_due(&self, now: Timestamp) -> Result<RotationReport, Error> {
        let mut report = RotationReport::default();
        for name in self.list().await? {
            let Some(name) = KeyName::parse(&name) else {
                continue;
            };
            let Some(policy) = self.get(&name).await? else {
                continue;
            };
            if !policy.rotation_due(now) {
                continue;
            }
            // Check again under the lock: a manual rotation may have won.
            match self.rotate_if(&name, Some(now)).await {
                Ok((p, true)) => report.rotated.push((name, p.latest_version())),
                Ok((_, false)) => {}
                Err(e) => report.failed.push((name, e)),
            }
        }
        Ok(report)
    }

    /// Removes every key and setting of the mount (the mount is being
    /// deleted). One atomic write.
    pub async fn destroy(&self) -> Result<(), Error> {
        let mut batch = WriteBatch::new();
        for path in self.barrier.list(&self.prefix).await? {
            batch.delete(path);
        }
        if !batch.is_empty() {
            self.barrier.write(batch).await?;
        }
        self.cache_lock().clear();
        self.complete.store(true, Ordering::Release);
        Ok(())
    }

    /// True once the wrapping key exists.
    pub fn has_wrapping_key(&self) -> bool {
        self.wrapping.initialized()
    }

    /// Number of keys in memory now.
    pub fn cached_keys(&self) -> usize {
        self.cache_lock().len()
    }

    /// Key lookups answered from memory, and those that read storage
    /// (only with a bounded `cache-config` size), since the mount opened.
    pub fn cache_counts(&self) -> (u64, u64) {
        (
            self.cache_hits.load(Ordering::Relaxed),
            self.cache_misses.load(Ordering::Relaxed),
        )
    }

    /// The type of a key held in memory, without counting a lookup.
    pub fn cached_key_type(&self, name: &str) -> Option<crate::KeyType> {
        self.cache_lock().get(name).map(|p| p.key_type())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CipherInput, ConfigChange, KeyType};
    use keyring_core::MemoryStore;
    use std::sync::atomic::AtomicI64;

    struct TestClock(AtomicI64);
    impl Clock for TestClock {
        fn now(&self) -> Timestamp {
            Timestamp::from_unix_secs(self.0.load(Ordering::SeqCst))
        }
    }

    fn setup() -> (Arc<Barrier>, Arc<TestClock>) {
        let barrier = Arc::new(Barrier::ephemeral(Arc::new(MemoryStore::new())).unwrap());
        (barrier, Arc::new(TestClock(AtomicI64::new(1_000_000))))
    }

    fn name(s: &str) -> KeyName {
        KeyName::parse(s).unwrap()
    }

    #[tokio::test]
    async fn keys_survive_reopening() {
        let (barrier, clock) = setup();
        let t = Transit::open(barrier.clone(), "transit/a/", clock.clone())
            .await
            .unwrap();
        let (p, created) = t
            .create(&name("k"), &KeyOptions::new(KeyType::Aes256Gcm96))
            .await
            .unwrap();
        assert!(created);
        let ct = p.encrypt(b"x", &CipherInput::default()).unwrap();
        t.rotate(&name("k")).await.unwrap();
        let (again, created) = t
            .create(&name("k"), &KeyOptions::new(KeyType::Hmac))
            .await
            .unwrap();
        assert!(!created, "an existing key is returned as it is");
        assert_eq!(again.key_type(), KeyType::Aes256Gcm96);

        let reopened = Transit::open(barrier.clone(), "transit/a/", clock.clone())
            .await
            .unwrap();
        let p = reopened.get(&name("k")).await.unwrap().unwrap();
        assert_eq!(p.latest_version(), 2);
        assert_eq!(
            &p.decrypt(&ct.ciphertext, &CipherInput::default()).unwrap()[..],
            b"x"
        );
        assert_eq!(reopened.list().await.unwrap(), vec!["k"]);

        // Another mount does not see it.
        let other = Transit::open(barrier, "transit/b/", clock).await.unwrap();
        assert!(other.get(&name("k")).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn delete_rules() {
        let (barrier, clock) = setup();
        let t = Transit::open(barrier, "t/", clock).await.unwrap();
        assert_eq!(
            t.delete(&name("k")).await.unwrap_err().to_string(),
            "error deleting policy k: could not delete key; not found"
        );
        t.create(&name("k"), &KeyOptions::new(KeyType::Aes128Gcm96))
            .await
            .unwrap();
        assert_eq!(
            t.delete(&name("k")).await.unwrap_err().to_string(),
            "error deleting policy k: deletion is not allowed for this key"
        );
        t.update(&name("k"), Error::EncryptionKeyNotFound, |p, _| {
            let c = p.configured(&ConfigChange {
                deletion_allowed: Some(true),
                ..Default::default()
            })?;
            Ok((c.policy, c.changed, ()))
        })
        .await
        .unwrap();
        t.delete(&name("k")).await.unwrap();
        assert!(t.get(&name("k")).await.unwrap().is_none());
        assert!(t.list().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn lru_cache_reads_evicted_keys_back() {
        let (barrier, clock) = setup();
        let t = Transit::open(barrier.clone(), "t/", clock.clone())
            .await
            .unwrap();
        assert_eq!(t.set_cache_size(5).await.unwrap_err(), Error::CacheSize);
        assert_eq!(t.set_cache_size(10).await.unwrap(), 10);
        for i in 0..25 {
            t.create(
                &name(&format!("k{i}")),
                &KeyOptions::new(KeyType::Aes256Gcm96),
            )
            .await
            .unwrap();
        }
        assert_eq!(t.cached_keys(), 10);
        assert!(t.get(&name("k0")).await.unwrap().is_some(), "read back");
        assert!(t.get(&name("nope")).await.unwrap().is_none());
        let reopened = Transit::open(barrier, "t/", clock).await.unwrap();
        assert_eq!(reopened.cache_size(), 10);
        assert_eq!(reopened.cached_keys(), 10);
        reopened.set_cache_size(0).await.unwrap();
        assert_eq!(reopened.cached_keys(), 25);
    }

    #[tokio::test]
    async fn backup_restore_and_force() {
        let (barrier, clock) = setup();
        let t = Transit::open(barrier, "t/", clock).await.unwrap();
        let mut o = KeyOptions::new(KeyType::Aes256Gcm96);
        t.create(&name("plain"), &o).await.unwrap();
        assert_eq!(
            t.backup(&name("plain")).await.unwrap_err(),
            Error::ExportingDisallowed
        );
        assert_eq!(
            t.backup(&name("none")).await.unwrap_err().to_string(),
            "key \"none\" not found"
        );
        o.exportable = true;
        o.allow_plaintext_backup = true;
        let (p, _) = t.create(&name("k"), &o).await.unwrap();
        let ct = p.encrypt(b"data", &CipherInput::default()).unwrap();
        let blob = t.backup(&name("k")).await.unwrap();
        assert!(
            t.get(&name("k"))
                .await
                .unwrap()
                .unwrap()
                .backup_info()
                .is_some()
        );
        assert_eq!(
            t.restore(None, &blob, false).await.unwrap_err().to_string(),
            "key \"k\" already exists"
        );
        let copy = t.restore(Some("copy"), &blob, false).await.unwrap();
        assert_eq!(
            &copy
                .decrypt(&ct.ciphertext, &CipherInput::default())
                .unwrap()[..],
            b"data"
        );
        t.rotate(&name("k")).await.unwrap();
        let forced = t.restore(None, &blob, true).await.unwrap();
        assert_eq!(forced.latest_version(), 1);
        assert!(forced.restore_info().is_some());
    }

    #[tokio::test]
    async fn auto_rotation_follows_the_latest_version() {
        let (barrier, clock) = setup();
        let t = Transit::open(barrier.clone(), "t/", clock.clone())
            .await
            .unwrap();
        let mut o = KeyOptions::new(KeyType::Aes256Gcm96);
        o.auto_rotate_period = crate::RotatePeriod::from_secs(3600).unwrap();
        t.create(&name("auto"), &o).await.unwrap();
        t.create(&name("manual"), &KeyOptions::new(KeyType::Aes256Gcm96))
            .await
            .unwrap();
        let start = clock.now();
        assert!(
            t.rotate_due(start.plus_secs(3599))
                .await
                .unwrap()
                .rotated
                .is_empty()
        );
        clock
            .0
            .store(start.plus_secs(3601).unix_secs(), Ordering::SeqCst);
        let report = t.rotate_due(clock.now()).await.unwrap();
        assert_eq!(report.rotated, vec![(name("auto"), 2)]);
        // Nothing more until another period passes, also after a restart.
        let reopened = Transit::open(barrier, "t/", clock.clone()).await.unwrap();
        assert!(
            reopened
                .rotate_due(clock.now().plus_secs(3599))
                .await
                .unwrap()
                .rotated
                .is_empty()
        );
        let report = reopened
            .rotate_due(clock.now().plus_secs(3601))
            .await
            .unwrap();
        assert_eq!(report.rotated, vec![(name("auto"), 3)]);
    }

    #[tokio::test]
    async fn concurrent_rotations_are_serialized() {
        let (barrier, clock) = setup();
        let t = Arc::new(
            Transit::open(barrier.clone(), "t/", clock.clone())
                .await
                .unwrap(),
        );
        t.create(&name("k"), &KeyOptions::new(KeyType::Aes256Gcm96))
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let t = t.clone();
            tasks.push(tokio::spawn(
                async move { t.rotate(&name("k")).await.unwrap() },
            ));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(
            t.get(&name("k")).await.unwrap().unwrap().latest_version(),
            21
        );
        let reopened = Transit::open(barrier, "t/", clock).await.unwrap();
        assert_eq!(
            reopened
                .get(&name("k"))
                .await
                .unwrap()
                .unwrap()
                .latest_version(),
            21
        );
    }

    #[tokio::test]
    async fn destroy_removes_everything() {
        let (barrier, clock) = setup();
        let t = Transit::open(barrier.clone(), "t/", clock.clone())
            .await
            .unwrap();
        t.create(&name("k"), &KeyOptions::new(KeyType::Aes256Gcm96))
            .await
            .unwrap();
        t.set_disable_upsert(true).await.unwrap();
        t.destroy().await.unwrap();
        assert!(barrier.list("t/").await.unwrap().is_empty());
        let reopened = Transit::open(barrier, "t/", clock).await.unwrap();
        assert!(reopened.list().await.unwrap().is_empty());
        assert!(!reopened.disable_upsert());
    }
}
