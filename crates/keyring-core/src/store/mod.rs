//! The storage trait and its two implementations.
//!
//! A [`Store`] holds opaque bytes under string paths. It knows nothing about
//! encryption: the [`crate::Barrier`] sits on top and seals every value before
//! it reaches a store.

mod memory;
#[cfg(feature = "redb")]
mod redb_store;

use std::future::Future;
use std::pin::Pin;

pub use memory::MemoryStore;
#[cfg(feature = "redb")]
pub use redb_store::RedbStore;

use crate::Error;

/// The future returned by every [`Store`] method.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// One change in a [`WriteBatch`].
#[derive(Clone, PartialEq, Eq)]
pub enum WriteOp {
    /// Set `path` to `value`.
    Put {
        /// Storage path.
        path: String,
        /// New value.
        value: Vec<u8>,
    },
    /// Remove `path` (no error if absent).
    Delete {
        /// Storage path.
        path: String,
    },
}

impl std::fmt::Debug for WriteOp {
    // Values may be key material: print only their length.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteOp::Put { path, value } => write!(f, "Put({path:?}, {} bytes)", value.len()),
            WriteOp::Delete { path } => write!(f, "Delete({path:?})"),
        }
    }
}

/// Changes applied all together or not at all.
#[derive(Debug, Default, Clone)]
pub struct WriteBatch {
    ops: Vec<WriteOp>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a put.
    pub fn put(&mut self, path: impl Into<String>, value: Vec<u8>) -> &mut Self {
        self.ops.push(WriteOp::Put {
            path: path.into(),
            value,
        });
        self
    }

    /// Adds a delete.
    pub fn delete(&mut self, path: impl Into<String>) -> &mut Self {
        self.ops.push(WriteOp::Delete { path: path.into() });
        self
    }

    /// The changes, in order.
    pub fn ops(&self) -> &[WriteOp] {
        &self.ops
    }

    /// Takes the changes out.
    pub fn into_ops(self) -> Vec<WriteOp> {
        self.ops
    }

    /// Number of changes.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// Durable key-value storage. Every method that changes something returns
/// only after the change is durable (it survives a crash of the process).
pub trait Store: Send + Sync + 'static {
    /// The value at `path`, if any.
    fn get<'a>(&'a self, path: &'a str) -> StoreFuture<'a, Option<Vec<u8>>>;

    /// Every path that starts with `prefix`, in byte order.
    fn list<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, Vec<String>>;

    /// Every (path, value) pair whose path starts with `prefix`, in byte order.
    fn scan<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, Vec<(String, Vec<u8>)>>;

    /// Applies every change of `batch` atomically and durably.
    fn write(&self, batch: WriteBatch) -> StoreFuture<'_, ()>;

    /// Sets one value (a batch of one).
    fn put<'a>(&'a self, path: &'a str, value: Vec<u8>) -> StoreFuture<'a, ()> {
        let mut batch = WriteBatch::new();
        batch.put(path, value);
        self.write(batch)
    }

    /// Removes one value (a batch of one); absent is not an error.
    fn delete<'a>(&'a self, path: &'a str) -> StoreFuture<'a, ()> {
        let mut batch = WriteBatch::new();
        batch.delete(path);
        self.write(batch)
    }
}

/// Checks a path before it reaches a store.
pub(crate) fn check_path(path: &str) -> Result<(), Error> {
    if path.is_empty() || path.len() > 64 * 1024 {
        return Err(Error::InvalidPath(path.chars().take(64).collect()));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod conformance {
    //! The behaviour every store must have, run against each implementation.
    use super::*;

    pub(crate) async fn run(store: &dyn Store) {
        assert_eq!(store.get("a/1").await.unwrap(), None);
        store.put("a/1", b"one".to_vec()).await.unwrap();
        store.put("a/2", b"two".to_vec()).await.unwrap();
        store.put("b/1", b"other".to_vec()).await.unwrap();
        assert_eq!(
            store.get("a/1").await.unwrap().as_deref(),
            Some(&b"one"[..])
        );
        assert_eq!(store.list("a/").await.unwrap(), vec!["a/1", "a/2"]);
        assert_eq!(
            store.scan("a/").await.unwrap(),
            vec![
                ("a/1".to_string(), b"one".to_vec()),
                ("a/2".to_string(), b"two".to_vec())
            ]
        );
        assert_eq!(store.list("").await.unwrap().len(), 3);

        let mut batch = WriteBatch::new();
        batch
            .put("a/3", b"three".to_vec())
            .delete("a/1")
            .put("a/2", b"TWO".to_vec());
        store.write(batch).await.unwrap();
        assert_eq!(store.list("a/").await.unwrap(), vec!["a/2", "a/3"]);
        assert_eq!(
            store.get("a/2").await.unwrap().as_deref(),
            Some(&b"TWO"[..])
        );

        store.delete("a/2").await.unwrap();
        store.delete("never-there").await.unwrap();
        assert_eq!(store.get("a/2").await.unwrap(), None);

        assert!(
            store.put("", vec![]).await.is_err(),
            "empty path is refused"
        );
    }
}
