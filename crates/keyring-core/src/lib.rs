//! Durable, encrypted storage and versioned key rings: the bottom layer of keyward.
//!
//! Three things live here, and nothing else:
//!
//! - [`Store`]: a small key-value trait (get, put, delete, list by prefix, atomic
//!   batch) with its embedded default on `redb` ([`RedbStore`]) and an in-memory
//!   one for tests and embedders ([`MemoryStore`]). A write is durable when the
//!   call returns.
//! - [`Barrier`]: the encrypted view of a store. Every value is sealed with
//!   AES-256-GCM under a random internal data key, with the storage path as
//!   associated data. The data key is kept wrapped once by each user key of a
//!   key folder ([`KeyFolder`], 32-byte files as in ArangoDB's
//!   `--rocksdb.encryption-keyfolder`); rotating the user keys re-wraps only the
//!   data key, so it costs the same whatever the amount of data stored.
//! - [`KeyRing`]: versions of key material with creation times and the
//!   minimum-version rules (decryption, encryption, availability) that Vault's
//!   transit keys follow.
//! - [`SecretStore`]: named secrets sealed under a rotatable AES key (the
//!   Atlassian model), re-encrypted in one atomic write on rotation.
//!
//! This crate never opens a socket, never reads the wall clock (callers pass a
//! [`Timestamp`] or a [`Clock`]) and never reads the environment.
//!
//! # Features
//!
//! - `redb` (default): [`RedbStore`], the embedded store of one file, and
//!   [`Snapshot::restore_into`]. Without it, [`MemoryStore`] or a
//!   [`Store`] of your own carries the [`Barrier`].
//!
//! # Example: an encrypted store in a data dir
//!
//! The layout the keyward server uses: the database, the keystore beside it,
//! and a key folder of 32-byte keys that unlock it.
//!
//! ```
//! # #[cfg(feature = "redb")]
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use keyring_core::{Barrier, Keystore, RedbStore};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let keys = dir.path().join("keyfolder");
//! std::fs::create_dir(&keys).unwrap();
//! std::fs::write(keys.join("my.key"), [7u8; 32]).unwrap();
//!
//! let keystore = Keystore::new(dir.path().join("keystore.json"), Some(keys.clone()));
//! let unlocked = if keystore.exists() { keystore.unlock()? } else { keystore.initialize()? };
//! let store = RedbStore::open(dir.path().join("keyward.redb"))?;
//! let barrier = Barrier::new(Arc::new(store), unlocked);
//!
//! barrier.put("app/greeting", b"hello").await?;
//! assert_eq!(barrier.get("app/greeting").await?.as_deref().map(|v| &v[..]), Some(&b"hello"[..]));
//! // On disk the value is sealed: the plaintext is nowhere in the file.
//! drop(barrier);
//! let file = std::fs::read(dir.path().join("keyward.redb")).unwrap();
//! assert!(!file.windows(5).any(|w| w == b"hello"));
//! # Ok::<(), keyring_core::Error>(())
//! # }).unwrap();
//! ```
//!
//! # Example: a key ring
//!
//! ```
//! use keyring_core::{KeyRing, Timestamp};
//!
//! let t = Timestamp::from_unix_secs(1_700_000_000);
//! let mut ring = KeyRing::new("material v1", t);
//! ring.rotate("material v2", t.plus_secs(60)).unwrap();
//! assert_eq!(ring.latest().get(), 2);
//! ring.set_min_versions(Some(2), None).unwrap();
//! assert!(ring.for_decryption(1).is_err(), "version 1 is below min_decryption_version");
//! assert_eq!(ring.for_decryption(2).unwrap().material, "material v2");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod aead;
mod barrier;
mod clock;
mod error;
mod format;
mod keyring;
mod secrets;
mod snapshot;
mod store;

pub use barrier::{Barrier, KeyFolder, KeyHash, Keystore, Unlocked, UserKey, WriteStats};
pub use clock::{Clock, Timestamp};
pub use error::{Error, KeyRingError};
pub use format::{DATA_FORMAT, FORMAT_PATH, KEYWARD_VERSION, check_readable, format_record};
pub use keyring::{KeyRing, KeyVersion, VersionEntry};
pub use secrets::{AesKeyId, Rotation, SecretName, SecretStore, SecretsError};
pub use snapshot::Snapshot;
#[cfg(feature = "redb")]
pub use store::RedbStore;
pub use store::{MemoryStore, Store, StoreFuture, WriteBatch, WriteOp};
