//! Crash consistency of the store: a process killed with SIGKILL right after
//! acknowledged writes loses none of them.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use keyring_core::{Barrier, Keystore, RedbStore};

#[test]
fn kill9_after_acknowledged_writes_loses_nothing_20_rounds() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("keys")).unwrap();
    std::fs::write(dir.path().join("keys").join("k"), [7u8; 32]).unwrap();
    let mut acked: Vec<u64> = Vec::new();
    let mut next = 0u64;
    for round in 0..20u64 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_crash-writer"))
            .arg(dir.path())
            .arg(next.to_string())
            .arg("100000")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        // Kill after a varying number of acknowledgements, mid-stream.
        let stop_after = 3 + (round * 7) % 23;
        let mut seen = 0;
        while seen < stop_after {
            let line = lines.next().expect("writer alive").unwrap();
            let n: u64 = line.strip_prefix("ack ").unwrap().parse().unwrap();
            acked.push(n);
            seen += 1;
        }
        child.kill().unwrap();
        // Anything acknowledged before the kill landed counts too.
        for line in lines.map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("ack ") {
                acked.push(n.parse().unwrap());
            }
        }
        child.wait().unwrap();
        next = acked.last().unwrap() + 1;

        let keystore = Keystore::new(
            dir.path().join("keystore.json"),
            Some(dir.path().join("keys")),
        );
        let store = RedbStore::open(dir.path().join("keyward.redb")).unwrap();
        let barrier = Barrier::new(Arc::new(store), keystore.unlock().unwrap());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for n in &acked {
            let v = rt.block_on(barrier.get(&format!("v/{n:08}"))).unwrap();
            assert_eq!(
                v.as_deref().map(|v| v.as_slice()),
                Some(format!("value-{n}").as_bytes()),
                "round {round}: acknowledged write {n} lost"
            );
        }
    }
    assert!(acked.len() >= 20 * 3);
}
