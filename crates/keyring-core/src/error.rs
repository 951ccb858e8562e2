//! The crate's error type. Messages name what went wrong and where, never a
//! secret: no key bytes, no plaintext values.

use std::path::PathBuf;

/// Everything that can go wrong in storage, the barrier or a key ring.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The underlying database failed (I/O, corruption, a full disk).
    #[error("storage failed: {0}")]
    Storage(String),

    /// The key folder could not be read or holds something that is not a key.
    #[error("key folder {folder}: {reason}")]
    KeyFolder {
        /// The folder that was read.
        folder: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// None of the keys in the key folder opens this data store.
    #[error(
        "none of the {found} key(s) in key folder {folder} opens this data store; \
         it can be opened by a key whose SHA-256 is one of [{expected}]"
    )]
    WrongKey {
        /// The folder that was read.
        folder: PathBuf,
        /// How many valid keys were found in it.
        found: usize,
        /// Comma-separated SHA-256 hashes of the keys that would open the store.
        expected: String,
    },

    /// The keystore file (the wrapped internal key) is missing or damaged.
    #[error("keystore {path}: {reason}")]
    Keystore {
        /// The keystore file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A stored value failed authentication: tampered with, or moved to another path.
    #[error("stored value at {path:?} failed authentication (corrupted or tampered with)")]
    Corrupt {
        /// The storage path of the value.
        path: String,
    },

    /// A data dir or a snapshot in an on-disk format newer than this
    /// keyward reads: written by a newer keyward.
    #[error(
        "{what} is in on-disk format {found}, written by a newer keyward; this keyward ({}) \
         reads up to format {}. Run a keyward that reads format {found} (the version that \
         wrote it, or a newer one); to go back to this version, restore a snapshot taken \
         before the upgrade into a new data dir",
        crate::format::KEYWARD_VERSION,
        crate::format::DATA_FORMAT
    )]
    NewerFormat {
        /// What was refused (the data dir, a snapshot), for the message.
        what: String,
        /// The format it is in.
        found: u32,
    },

    /// A snapshot could not be taken, read or restored.
    #[error("snapshot refused: {0}")]
    Snapshot(String),

    /// A storage path is not acceptable (empty, or too long).
    #[error("invalid storage path {0:?}")]
    InvalidPath(String),

    /// A key ring rule was broken.
    #[error(transparent)]
    KeyRing(#[from] KeyRingError),
}

/// A rule of the versioned key ring was broken. The transit engine maps each
/// case to Vault's exact wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyRingError {
    /// The requested version is above the latest one.
    #[error("version {requested} is higher than the latest version {latest}")]
    TooNew {
        /// What was asked for.
        requested: u32,
        /// The latest version of the ring.
        latest: u32,
    },
    /// The requested version is below the minimum allowed for this use.
    #[error("version {requested} is below the minimum {minimum}")]
    TooOld {
        /// What was asked for.
        requested: u32,
        /// The minimum for this use.
        minimum: u32,
    },
    /// The version was trimmed away (or never existed).
    #[error("no such key version {0}")]
    NoSuchVersion(u32),
    /// A minimum version setting is inconsistent with the others.
    #[error("invalid minimum version: {0}")]
    InvalidMinimum(&'static str),
    /// Too many versions.
    #[error("the key ring has reached its maximum number of versions")]
    Exhausted,
}

#[cfg(feature = "redb")]
impl From<redb::Error> for Error {
    fn from(e: redb::Error) -> Self {
        Error::Storage(e.to_string())
    }
}

#[cfg(feature = "redb")]
macro_rules! redb_error {
    ($($t:ty),*) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::Storage(e.to_string())
            }
        }
    )*};
}
#[cfg(feature = "redb")]
redb_error!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);
