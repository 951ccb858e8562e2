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
#![forbid(unsafe_code)]

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
pub use store::{MemoryStore, RedbStore, Store, StoreFuture, WriteBatch, WriteOp};
