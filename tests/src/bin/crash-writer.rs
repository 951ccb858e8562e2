//! A process that writes to a keyward store and reports each durable write.
//!
//! `crash-writer DATA_DIR START COUNT` opens (or creates) the store in
//! DATA_DIR, then for n in START..START+COUNT puts `v/<n>` = `value-<n>` and
//! prints `ack <n>` once the put has returned. The crash test kills it with
//! SIGKILL at a random moment and checks that every acknowledged value is
//! there after reopening.
#![forbid(unsafe_code)]

use std::io::Write;
use std::sync::Arc;

use keyring_core::{Barrier, Keystore, RedbStore};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(&args[1]);
    let start: u64 = args[2].parse().expect("START");
    let count: u64 = args[3].parse().expect("COUNT");
    let keystore = Keystore::new(dir.join("keystore.json"), Some(dir.join("keys")));
    let unlocked = if keystore.exists() {
        keystore.unlock().expect("unlock")
    } else {
        keystore.initialize().expect("initialize")
    };
    let store = RedbStore::open(dir.join("keyward.redb")).expect("open store");
    let barrier = Barrier::new(Arc::new(store), unlocked);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut out = std::io::stdout().lock();
    for n in start..start + count {
        rt.block_on(barrier.put(&format!("v/{n:08}"), format!("value-{n}").as_bytes()))
            .expect("put");
        writeln!(out, "ack {n}").expect("stdout");
        out.flush().expect("flush");
    }
}
