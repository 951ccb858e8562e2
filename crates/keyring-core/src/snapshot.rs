//! Snapshots: a consistent point-in-time copy of a whole store, taken while
//! the server serves.
//!
//! A snapshot holds the stored values exactly as the store has them — still
//! sealed by the barrier — together with the keystore file, so it opens with
//! a key of the key folder and with nothing else. A SHA-256 over the whole
//! file detects corruption before anything is restored.
//!
//! Layout (integers big-endian):
//!
//! ```text
//! "KEYWARD-SNAPSHOT\n"  magic, 17 bytes
//! u32                    container format (2; 1 has no data format)
//! i64                    created, seconds since the epoch
//! u32                    data format of the entries (`crate::DATA_FORMAT`)
//! u32, bytes             the keystore file
//! u64                    number of entries
//! (u32, bytes, u32, bytes)*  path and sealed value of each entry
//! [u8; 32]               SHA-256 of everything above
//! ```

use std::path::Path;

use ring::digest::{Context, SHA256};

use crate::{Error, Store, Timestamp, check_readable};
#[cfg(feature = "redb")]
use crate::{Keystore, RedbStore, WriteBatch};

// Restoring needs no async runtime, so the CLI and a running server can both use it.

const MAGIC: &[u8] = b"KEYWARD-SNAPSHOT\n";
/// The container format written; 1 (no data format field) is still read.
const FORMAT: u32 = 2;
/// Entries are restored in batches of this many.
#[cfg(feature = "redb")]
const BATCH: usize = 5_000;

/// A parsed, verified snapshot.
pub struct Snapshot {
    /// When it was taken.
    pub created: Timestamp,
    /// The on-disk format its entries are in (1 for snapshots from before
    /// formats were numbered). A restore migrates an older one.
    pub data_format: u32,
    keystore: Vec<u8>,
    entries: Vec<(String, Vec<u8>)>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("created", &self.created)
            .field("data_format", &self.data_format)
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

fn bad(reason: impl Into<String>) -> Error {
    Error::Snapshot(reason.into())
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.bytes.len())
            .ok_or_else(|| bad("it is truncated"))?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn u64(&mut self) -> Result<u64, Error> {
        Ok(u64::from_be_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    fn chunk(&mut self) -> Result<&'a [u8], Error> {
        let len = self.u32()? as usize;
        self.take(len)
    }
}

impl Snapshot {
    /// Takes a snapshot of `store` (one read transaction: a consistent point
    /// in time) with the keystore file that opens it.
    pub async fn take(
        store: &dyn Store,
        keystore_file: &Path,
        data_format: u32,
        now: Timestamp,
    ) -> Result<Vec<u8>, Error> {
        let keystore = std::fs::read(keystore_file).map_err(|e| {
            bad(format!(
                "cannot read the keystore {}: {e}",
                keystore_file.display()
            ))
        })?;
        let entries = store.scan("").await?;
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT.to_be_bytes());
        out.extend_from_slice(&now.unix_secs().to_be_bytes());
        out.extend_from_slice(&data_format.to_be_bytes());
        out.extend_from_slice(
            &u32::try_from(keystore.len())
                .map_err(|_| bad("keystore too large"))?
                .to_be_bytes(),
        );
        out.extend_from_slice(&keystore);
        out.extend_from_slice(&(entries.len() as u64).to_be_bytes());
        for (path, value) in &entries {
            for part in [path.as_bytes(), value.as_slice()] {
                out.extend_from_slice(
                    &u32::try_from(part.len())
                        .map_err(|_| bad("entry too large"))?
                        .to_be_bytes(),
                );
                out.extend_from_slice(part);
            }
        }
        let mut ctx = Context::new(&SHA256);
        ctx.update(&out);
        out.extend_from_slice(ctx.finish().as_ref());
        Ok(out)
    }

    /// Parses and verifies a snapshot. Any corruption is refused before
    /// anything is read from it.
    pub fn parse(bytes: &[u8]) -> Result<Snapshot, Error> {
        if bytes.len() < MAGIC.len() + 32 || !bytes.starts_with(MAGIC) {
            return Err(bad("it is not a keyward snapshot"));
        }
        let (body, sum) = bytes.split_at(bytes.len() - 32);
        let mut ctx = Context::new(&SHA256);
        ctx.update(body);
        if ctx.finish().as_ref() != sum {
            return Err(bad("it is corrupted (checksum mismatch)"));
        }
        let mut r = Reader {
            bytes: body,
            pos: MAGIC.len(),
        };
        let container = r.u32()?;
        if container == 0 || container > FORMAT {
            return Err(bad(format!(
                "it has container format {container}, written by a newer keyward; this \
                 keyward ({}) reads container formats 1 to {FORMAT}: restore it with the \
                 keyward that took it, or a newer one",
                crate::KEYWARD_VERSION
            )));
        }
        let created = Timestamp::from_unix_secs(r.u64()? as i64);
        let data_format = if container >= 2 { r.u32()? } else { 1 };
        check_readable("the snapshot", data_format)?;
        let keystore = r.chunk()?.to_vec();
        let count = r.u64()?;
        let mut entries = Vec::new();
        for _ in 0..count {
            let path = String::from_utf8(r.chunk()?.to_vec())
                .map_err(|_| bad("an entry path is not UTF-8"))?;
            let value = r.chunk()?.to_vec();
            entries.push((path, value));
        }
        if r.pos != body.len() {
            return Err(bad("it has trailing bytes"));
        }
        Ok(Snapshot {
            created,
            data_format,
            keystore,
            entries,
        })
    }

    /// The keystore file the snapshot carries.
    pub(crate) fn keystore_bytes(&self) -> &[u8] {
        &self.keystore
    }

    /// Path and sealed value of every entry.
    pub(crate) fn entries(&self) -> &[(String, Vec<u8>)] {
        &self.entries
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Restores into `data_dir` (which must not be in use by a running
    /// server). Refused, with nothing written, unless a key of `keyfolder`
    /// opens the snapshot. Replaces the data dir's database and keystore.
    /// Needs the `redb` feature (the data dir's database is redb).
    #[cfg(feature = "redb")]
    pub fn restore_into(&self, data_dir: &Path, keyfolder: Option<&Path>) -> Result<(), Error> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| bad(format!("cannot create {}: {e}", data_dir.display())))?;
        let staged_keystore = data_dir.join(".keystore.json.restore");
        let staged_db = data_dir.join(".keyward.redb.restore");
        let _ = std::fs::remove_file(&staged_db);
        std::fs::write(&staged_keystore, &self.keystore)
            .map_err(|e| bad(format!("cannot write {}: {e}", staged_keystore.display())))?;
        let check = Keystore::new(&staged_keystore, keyfolder.map(Path::to_path_buf)).unlock();
        if let Err(e) = check {
            let _ = std::fs::remove_file(&staged_keystore);
            return Err(bad(format!("the keys cannot open it: {e}")));
        }
        let store = RedbStore::open(&staged_db)?;
        for chunk in self.entries.chunks(BATCH) {
            let mut batch = WriteBatch::new();
            for (path, value) in chunk {
                batch.put(path.clone(), value.clone());
            }
            store.write_blocking(batch)?;
        }
        drop(store);
        let place = |from: &Path, to: &Path| {
            std::fs::rename(from, to).map_err(|e| {
                bad(format!(
                    "cannot move {} to {}: {e}",
                    from.display(),
                    to.display()
                ))
            })
        };
        place(&staged_db, &data_dir.join("keyward.redb"))?;
        place(&staged_keystore, &data_dir.join("keystore.json"))?;
        std::fs::File::open(data_dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| bad(format!("cannot sync {}: {e}", data_dir.display())))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Barrier;
    use std::sync::Arc;

    fn setup(dir: &Path, key: u8) -> Keystore {
        let folder = dir.join("keys");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("k"), [key; 32]).unwrap();
        Keystore::new(dir.join("keystore.json"), Some(folder))
    }

    #[test]
    fn snapshot_restores_elsewhere_and_refuses_corruption_and_wrong_keys() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let src = tempfile::tempdir().unwrap();
        let ks = setup(src.path(), 1);
        let store = Arc::new(RedbStore::open(src.path().join("keyward.redb")).unwrap());
        let barrier = Barrier::new(store.clone(), ks.initialize().unwrap());
        for i in 0..12_000 {
            rt.block_on(barrier.put(&format!("v/{i:05}"), format!("value-{i}").as_bytes()))
                .unwrap();
            if i == 2 {
                // keep the test quick: most entries go in one batch
                let mut b = WriteBatch::new();
                for j in 3..12_000 {
                    b.put(format!("v/{j:05}"), format!("value-{j}").into_bytes());
                }
                rt.block_on(barrier.write(b)).unwrap();
                break;
            }
        }
        let bytes = rt
            .block_on(Snapshot::take(
                store.as_ref(),
                ks.file(),
                1,
                Timestamp::from_unix_secs(7),
            ))
            .unwrap();
        assert!(
            !bytes.windows(9).any(|w| w == b"value-100"),
            "values stay sealed"
        );

        let mut corrupted = bytes.clone();
        let mid = corrupted.len() / 2;
        corrupted[mid] ^= 1;
        assert!(
            Snapshot::parse(&corrupted)
                .unwrap_err()
                .to_string()
                .contains("checksum")
        );
        assert!(Snapshot::parse(&bytes[..40]).is_err());
        assert!(Snapshot::parse(b"nope").is_err());

        let snap = Snapshot::parse(&bytes).unwrap();
        assert_eq!(snap.len(), 12_000);
        assert_eq!(snap.created, Timestamp::from_unix_secs(7));

        let wrong = tempfile::tempdir().unwrap();
        let wrong_keys = setup(wrong.path(), 9);
        let err = snap
            .restore_into(&wrong.path().join("data"), Some(&wrong.path().join("keys")))
            .unwrap_err();
        assert!(err.to_string().contains("cannot open"), "{err}");
        assert!(
            !wrong.path().join("data/keyward.redb").exists(),
            "nothing written"
        );
        drop(wrong_keys);

        let dst = tempfile::tempdir().unwrap();
        setup(dst.path(), 1);
        let data = dst.path().join("data");
        snap.restore_into(&data, Some(&dst.path().join("keys")))
            .unwrap();
        let restored = Keystore::new(data.join("keystore.json"), Some(dst.path().join("keys")));
        let store = Arc::new(RedbStore::open(data.join("keyward.redb")).unwrap());
        let barrier = Barrier::new(store, restored.unlock().unwrap());
        let v = rt.block_on(barrier.get("v/11999")).unwrap().unwrap();
        assert_eq!(&v[..], b"value-11999");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn live_restore_replaces_everything_but_only_with_the_same_data_key() {
        let dir = tempfile::tempdir().unwrap();
        let ks = setup(dir.path(), 3);
        let store = Arc::new(RedbStore::open(dir.path().join("keyward.redb")).unwrap());
        let barrier = Barrier::new(store.clone(), ks.initialize().unwrap());
        barrier.put("a", b"before").await.unwrap();
        barrier.put("b", b"kept").await.unwrap();
        let bytes = barrier
            .snapshot(Timestamp::from_unix_secs(1))
            .await
            .unwrap();
        barrier.put("a", b"after").await.unwrap();
        barrier.put("c", b"new since").await.unwrap();

        let snap = Snapshot::parse(&bytes).unwrap();
        assert_eq!(barrier.restore(&snap).await.unwrap(), 2);
        assert_eq!(
            barrier.get("a").await.unwrap().unwrap().as_slice(),
            b"before"
        );
        assert_eq!(barrier.get("b").await.unwrap().unwrap().as_slice(), b"kept");
        assert!(
            barrier.get("c").await.unwrap().is_none(),
            "later writes are gone"
        );
        assert!(!dir.path().join(".keystore.json.check").exists());

        // Another data store's snapshot, even one our keys open, is refused.
        let other = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(other.path().join("keys")).unwrap();
        std::fs::write(other.path().join("keys/k"), [3u8; 32]).unwrap();
        let other_ks = Keystore::new(
            other.path().join("keystore.json"),
            Some(other.path().join("keys")),
        );
        let other_store = Arc::new(RedbStore::open(other.path().join("keyward.redb")).unwrap());
        let other_barrier = Barrier::new(other_store, other_ks.initialize().unwrap());
        other_barrier.put("a", b"foreign").await.unwrap();
        let foreign = Snapshot::parse(
            &other_barrier
                .snapshot(Timestamp::from_unix_secs(2))
                .await
                .unwrap(),
        )
        .unwrap();
        let err = barrier.restore(&foreign).await.unwrap_err();
        assert!(err.to_string().contains("another data store"), "{err}");
        assert_eq!(
            barrier.get("a").await.unwrap().unwrap().as_slice(),
            b"before"
        );

        let ephemeral = Barrier::ephemeral(Arc::new(crate::MemoryStore::new())).unwrap();
        assert!(
            ephemeral
                .snapshot(Timestamp::from_unix_secs(3))
                .await
                .is_err()
        );
        assert!(ephemeral.restore(&snap).await.is_err());
    }
}

#[cfg(test)]
mod format_tests {
    use super::*;

    /// A snapshot body with a checksum, as `take` lays it out.
    fn framed(container: u32, data_format: Option<u32>) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&container.to_be_bytes());
        out.extend_from_slice(&5i64.to_be_bytes());
        if let Some(f) = data_format {
            out.extend_from_slice(&f.to_be_bytes());
        }
        out.extend_from_slice(&2u32.to_be_bytes());
        out.extend_from_slice(b"{}");
        out.extend_from_slice(&0u64.to_be_bytes());
        let mut ctx = Context::new(&SHA256);
        ctx.update(&out);
        out.extend_from_slice(ctx.finish().as_ref());
        out
    }

    #[test]
    fn older_containers_read_as_format_1_and_newer_formats_are_refused() {
        let v1 = Snapshot::parse(&framed(1, None)).unwrap();
        assert_eq!((v1.data_format, v1.created.unix_secs()), (1, 5));
        let v2 = Snapshot::parse(&framed(2, Some(crate::DATA_FORMAT))).unwrap();
        assert_eq!(v2.data_format, crate::DATA_FORMAT);

        let newer = Snapshot::parse(&framed(2, Some(crate::DATA_FORMAT + 1))).unwrap_err();
        assert!(
            matches!(newer, Error::NewerFormat { found, .. } if found == crate::DATA_FORMAT + 1)
        );
        assert!(newer.to_string().contains("the snapshot"), "{newer}");

        let container = Snapshot::parse(&framed(3, Some(1)))
            .unwrap_err()
            .to_string();
        assert!(container.contains("container format 3"), "{container}");
        assert!(container.contains("newer keyward"), "{container}");
    }
}
