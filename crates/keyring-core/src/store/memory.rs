//! A store in memory: for tests and for embedders that bring their own persistence.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{Store, StoreFuture, WriteBatch, WriteOp, check_path};

/// A [`Store`] kept in a `BTreeMap`. Not durable: everything is lost when it is dropped.
#[derive(Default)]
pub struct MemoryStore {
    map: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.map.lock().map(|m| m.len()).unwrap_or(0);
        write!(f, "MemoryStore({len} entries)")
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        // A panic while holding the lock cannot leave the map half-written:
        // `write` applies a batch to a copy first.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Store for MemoryStore {
    fn get<'a>(&'a self, path: &'a str) -> StoreFuture<'a, Option<Vec<u8>>> {
        let v = self.map().get(path).cloned();
        Box::pin(async move { Ok(v) })
    }

    fn list<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, Vec<String>> {
        let keys = self
            .map()
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect();
        Box::pin(async move { Ok(keys) })
    }

    fn scan<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, Vec<(String, Vec<u8>)>> {
        let pairs = self
            .map()
            .range(prefix.to_string()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Box::pin(async move { Ok(pairs) })
    }

    fn write(&self, batch: WriteBatch) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            for op in batch.ops() {
                match op {
                    WriteOp::Put { path, .. } | WriteOp::Delete { path } => check_path(path)?,
                }
            }
            let mut map = self.map();
            for op in batch.into_ops() {
                match op {
                    WriteOp::Put { path, value } => {
                        map.insert(path, value);
                    }
                    WriteOp::Delete { path } => {
                        map.remove(&path);
                    }
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn conforms() {
        super::super::conformance::run(&super::MemoryStore::new()).await;
    }
}
