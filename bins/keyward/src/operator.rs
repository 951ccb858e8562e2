//! `keyward operator snapshot save FILE` (from a running server, over its
//! API: one read transaction while it serves) and `keyward operator
//! snapshot restore FILE --data-dir DIR` (into a stopped or fresh data dir).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use std::sync::Arc;

use http_api::upgrade::Migration;
use keyring_core::{Barrier, Keystore, RedbStore, Snapshot};

use crate::cli::{SnapshotCommand, SnapshotRestoreArgs, SnapshotSaveArgs};

/// Runs `keyward operator snapshot ...`.
pub(crate) fn snapshot(cmd: &SnapshotCommand) -> anyhow::Result<()> {
    match cmd {
        SnapshotCommand::Save(args) => save(args),
        SnapshotCommand::Restore(args) => restore(args),
    }
}

fn save(args: &SnapshotSaveArgs) -> anyhow::Result<()> {
    let cacert = args
        .cacert
        .clone()
        .or_else(|| args.data_dir.as_ref().map(|d| d.join("tls").join("ca.pem")));
    let agent = crate::client::agent(cacert.as_deref(), None)?;
    let url = format!(
        "{}/v1/sys/storage/raft/snapshot",
        args.url.trim_end_matches('/')
    );
    let req = ureq::http::Request::builder()
        .method("GET")
        .uri(&url)
        .header("X-Vault-Token", &args.token)
        .body(Vec::new())?;
    let mut resp = agent.run(req).with_context(|| format!("GET {url}"))?;
    let status = resp.status().as_u16();
    let mut bytes = Vec::new();
    resp.body_mut()
        .with_config()
        .limit(u64::MAX)
        .reader()
        .read_to_end(&mut bytes)
        .context("reading the snapshot")?;
    if status != 200 {
        bail!(
            "GET {url} answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    // Checked before it is kept: a snapshot that would not restore is no backup.
    let snapshot = Snapshot::parse(&bytes).context("the server sent a damaged snapshot")?;
    write_durably(&args.file, &bytes)?;
    println!(
        "saved a snapshot of {} entries ({} bytes, taken at {} s since the epoch) to {}",
        snapshot.len(),
        bytes.len(),
        snapshot.created.unix_secs(),
        args.file.display()
    );
    Ok(())
}

/// Writes to a temporary file beside `path`, syncs it, renames it over
/// `path` and syncs the folder: the file is whole or absent.
fn write_durably(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = dir.join(format!(
        ".{}.partial",
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "snapshot".into())
    ));
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    std::fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync {}", dir.display()))?;
    Ok(())
}

fn restore(args: &SnapshotRestoreArgs) -> anyhow::Result<()> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let snapshot = Snapshot::parse(&bytes)
        .with_context(|| format!("{} cannot be restored", args.file.display()))?;
    let db = args.data_dir.join("keyward.redb");
    if db.exists() {
        // A running server holds the database locked: never replace its files.
        RedbStore::open(&db).map_err(|e| {
            anyhow::anyhow!(
                "{} is in use or unreadable ({e}); stop the server first, or restore into \
                 it while it runs with POST /v1/sys/storage/raft/snapshot",
                db.display()
            )
        })?;
        if !args.force {
            bail!(
                "{} already holds a data store; give --force to replace it with the snapshot",
                args.data_dir.display()
            );
        }
    }
    let keyfolder = args.encryption_keyfolder.clone().or_else(|| {
        let dev = args.data_dir.join("keyfolder");
        dev.is_dir().then_some(dev)
    });
    snapshot
        .restore_into(&args.data_dir, keyfolder.as_deref())
        .with_context(|| format!("{} was not restored", args.file.display()))?;
    println!(
        "restored {} entries (snapshot taken at {} s since the epoch, format {}) into {}",
        snapshot.len(),
        snapshot.created.unix_secs(),
        snapshot.data_format,
        args.data_dir.display()
    );
    let migration = migrate(&args.data_dir, keyfolder.as_deref())
        .with_context(|| format!("{} was restored but not migrated", args.data_dir.display()))?;
    for step in &migration.steps {
        println!("migrated: {step}");
    }
    if migration.from != migration.to {
        println!(
            "the data dir was migrated from format {} to format {}",
            migration.from, migration.to
        );
    }
    Ok(())
}

/// Brings a restored data dir to the current format, as the server would
/// at its next start, so the restore leaves a data dir in one format.
fn migrate(data_dir: &Path, keyfolder: Option<&Path>) -> anyhow::Result<Migration> {
    let unlocked = Keystore::new(
        data_dir.join("keystore.json"),
        keyfolder.map(Path::to_path_buf),
    )
    .unlock()?;
    let store = RedbStore::open(data_dir.join("keyward.redb"))?;
    let barrier = Barrier::new(Arc::new(store), unlocked);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    Ok(runtime.block_on(http_api::upgrade::migrate(&barrier))?)
}
