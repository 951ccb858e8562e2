//! Snapshot files given to `POST sys/storage/raft/snapshot` or `keyward operator snapshot restore`.
#![no_main]

use keyring_core::Snapshot;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(snapshot) = Snapshot::parse(data) {
        let _ = snapshot.len();
    }
});
