//! The embedded default store: one redb file, every commit fsynced.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use redb::{Database, Durability, ReadableDatabase, TableDefinition};

use super::{Store, StoreFuture, WriteBatch, WriteOp, check_path};
use crate::Error;

const TABLE: TableDefinition<'static, &str, &[u8]> = TableDefinition::new("kv");

/// A [`Store`] in one redb file. Writes commit with `Durability::Immediate`
/// and two-phase commit, so an acknowledged write survives `kill -9` and a
/// torn commit is detected and rolled back at the next open.
#[derive(Clone)]
pub struct RedbStore {
    db: Arc<Database>,
    path: PathBuf,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore")
            .field("path", &self.path)
            .finish()
    }
}

impl RedbStore {
    /// Opens the database file at `path`, creating it if it does not exist.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let db = Database::create(&path)?;
        // Make sure the table exists so that reads never see "no such table".
        let txn = db.begin_write()?;
        txn.open_table(TABLE)?;
        txn.commit()?;
        Ok(RedbStore {
            db: Arc::new(db),
            path,
        })
    }

    /// Where the database file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn blocking<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, Error> + Send + 'static,
    {
        let db = self.db.clone();
        Box::pin(async move {
            // redb blocks on fsync; keep that off the async workers.
            match tokio::runtime::Handle::try_current() {
                Ok(_) => tokio::task::spawn_blocking(move || f(&db))
                    .await
                    .map_err(|e| Error::Storage(format!("storage task failed: {e}")))?,
                Err(_) => f(&db),
            }
        })
    }
}

fn read_range(
    db: &Database,
    prefix: &str,
    with_values: bool,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let txn = db.begin_read()?;
    let table = txn.open_table(TABLE)?;
    let mut out = Vec::new();
    for item in table.range(prefix..)? {
        let (k, v) = item?;
        let key = k.value();
        if !key.starts_with(prefix) {
            break;
        }
        let value = if with_values {
            v.value().to_vec()
        } else {
            Vec::new()
        };
        out.push((key.to_string(), value));
    }
    Ok(out)
}

impl Store for RedbStore {
    fn get<'a>(&'a self, path: &'a str) -> StoreFuture<'a, Option<Vec<u8>>> {
        let path = path.to_string();
        self.blocking(move |db| {
            let txn = db.begin_read()?;
            let table = txn.open_table(TABLE)?;
            Ok(table.get(path.as_str())?.map(|v| v.value().to_vec()))
        })
    }

    fn list<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, Vec<String>> {
        let prefix = prefix.to_string();
        self.blocking(move |db| {
            Ok(read_range(db, &prefix, false)?
                .into_iter()
                .map(|(k, _)| k)
                .collect())
        })
    }

    fn scan<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, Vec<(String, Vec<u8>)>> {
        let prefix = prefix.to_string();
        self.blocking(move |db| read_range(db, &prefix, true))
    }

    fn write(&self, batch: WriteBatch) -> StoreFuture<'_, ()> {
        self.blocking(move |db| write_batch(db, batch))
    }
}

impl RedbStore {
    /// Applies a batch from a thread that may block (no async runtime needed).
    pub(crate) fn write_blocking(&self, batch: WriteBatch) -> Result<(), Error> {
        write_batch(&self.db, batch)
    }
}

fn write_batch(db: &Database, batch: WriteBatch) -> Result<(), Error> {
    for op in batch.ops() {
        match op {
            WriteOp::Put { path, .. } | WriteOp::Delete { path } => check_path(path)?,
        }
    }
    let mut txn = db.begin_write()?;
    txn.set_durability(Durability::Immediate)?;
    txn.set_two_phase_commit(true);
    {
        let mut table = txn.open_table(TABLE)?;
        for op in batch.into_ops() {
            match op {
                WriteOp::Put { path, value } => {
                    table.insert(path.as_str(), value.as_slice())?;
                }
                WriteOp::Delete { path } => {
                    table.remove(path.as_str())?;
                }
            }
        }
    }
    txn.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn conforms() {
        let dir = tempfile::tempdir().unwrap();
        let store = RedbStore::open(dir.path().join("db.redb")).unwrap();
        super::super::conformance::run(&store).await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.redb");
        {
            let store = RedbStore::open(&path).unwrap();
            store.put("x", b"kept".to_vec()).await.unwrap();
        }
        let store = RedbStore::open(&path).unwrap();
        assert_eq!(store.get("x").await.unwrap().as_deref(), Some(&b"kept"[..]));
    }
}
