//! The embedded default store: one redb file, every commit fsynced.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use redb::{Database, Durability, ReadableDatabase, TableDefinition};

use super::{Store, StoreFuture, WriteBatch, WriteOp, check_path};
use crate::Error;

const TABLE: TableDefinition<'static, &str, &[u8]> = TableDefinition::new("kv");

/// A [`Store`] in one redb file. Writes commit with `Durability::Immediate`
/// and two-phase commit, so an acknowledged write survives `kill -9` and a
/// torn commit is detected and rolled back at the next open.
///
/// After an I/O failure (a full disk, say) redb refuses every later
/// operation until the database is closed and opened again; the store does
/// that itself at the next operation, so the server reads and writes again
/// once the cause is gone, without a restart.
#[derive(Clone)]
pub struct RedbStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    /// `None` after an I/O failure, until a reopen succeeds.
    db: RwLock<Option<Arc<Database>>>,
    /// Serializes reopening (an operation does not wait on it to read `db`).
    reopen: Mutex<()>,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

/// How long a reopen waits for the operations still using the failed
/// database (each is one short transaction).
const DRAIN_WAIT: Duration = Duration::from_secs(5);

impl RedbStore {
    /// Opens the database file at `path`, creating it if it does not exist.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let db = open_database(&path).map_err(storage)?;
        Ok(RedbStore {
            inner: Arc::new(Inner {
                path,
                db: RwLock::new(Some(Arc::new(db))),
                reopen: Mutex::new(()),
            }),
        })
    }

    /// Where the database file is.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn blocking<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, redb::Error> + Send + 'static,
    {
        let inner = self.inner.clone();
        Box::pin(async move {
            // redb blocks on fsync; keep that off the async workers.
            match tokio::runtime::Handle::try_current() {
                Ok(_) => tokio::task::spawn_blocking(move || inner.run(f))
                    .await
                    .map_err(|e| Error::Storage(format!("storage task failed: {e}")))?,
                Err(_) => inner.run(f),
            }
        })
    }
}

impl Inner {
    fn current(&self) -> Option<Arc<Database>> {
        self.db.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Runs one operation, reopening the database first if an earlier
    /// operation left it failed.
    fn run<T>(&self, f: impl FnOnce(&Database) -> Result<T, redb::Error>) -> Result<T, Error> {
        let db = match self.current() {
            Some(db) => db,
            None => self.reopen()?,
        };
        let outcome = f(&db);
        drop(db);
        outcome.map_err(|e| {
            if matches!(e, redb::Error::Io(_) | redb::Error::PreviousIo) {
                self.mark_failed();
            }
            storage(e)
        })
    }

    /// Takes the failed database out of service; the next operation reopens.
    fn mark_failed(&self) {
        let failed = self.db.write().unwrap_or_else(|p| p.into_inner()).take();
        if failed.is_some() {
            tracing::warn!(
                target: "keyward::storage",
                path = %self.path.display(),
                "I/O failure: the database is reopened at the next operation"
            );
        }
    }

    fn reopen(&self) -> Result<Arc<Database>, Error> {
        let _one_at_a_time = self.reopen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(db) = self.current() {
            return Ok(db); // another thread reopened it meanwhile
        }
        // redb locks the file while a `Database` lives: the failed one must
        // be gone before the file opens again. `mark_failed` took it out of
        // `db`; operations still holding it finish within one transaction.
        let deadline = Instant::now() + DRAIN_WAIT;
        loop {
            match open_database(&self.path) {
                Ok(db) => {
                    let db = Arc::new(db);
                    *self.db.write().unwrap_or_else(|p| p.into_inner()) = Some(db.clone());
                    tracing::info!(target: "keyward::storage", path = %self.path.display(), "database reopened");
                    return Ok(db);
                }
                Err(redb::Error::DatabaseAlreadyOpen) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(e) => return Err(storage(e)),
            }
        }
    }
}

/// Opens (or creates) the file and makes sure the table exists, so that
/// reads never see "no such table".
fn open_database(path: &Path) -> Result<Database, redb::Error> {
    let db = Database::create(path)?;
    let txn = db.begin_write()?;
    txn.open_table(TABLE)?;
    txn.commit()?;
    Ok(db)
}

fn storage(e: redb::Error) -> Error {
    Error::Storage(e.to_string())
}

fn read_range(
    db: &Database,
    prefix: &str,
    with_values: bool,
) -> Result<Vec<(String, Vec<u8>)>, redb::Error> {
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
        for op in batch.ops() {
            match op {
                WriteOp::Put { path, .. } | WriteOp::Delete { path } => {
                    if let Err(e) = check_path(path) {
                        return Box::pin(async move { Err(e) });
                    }
                }
            }
        }
        self.blocking(move |db| write_batch(db, batch))
    }
}

impl RedbStore {
    /// Applies a batch from a thread that may block (no async runtime needed).
    pub(crate) fn write_blocking(&self, batch: WriteBatch) -> Result<(), Error> {
        for op in batch.ops() {
            match op {
                WriteOp::Put { path, .. } | WriteOp::Delete { path } => check_path(path)?,
            }
        }
        self.inner.run(move |db| write_batch(db, batch))
    }
}

fn write_batch(db: &Database, batch: WriteBatch) -> Result<(), redb::Error> {
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
