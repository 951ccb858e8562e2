//! Snapshots of the whole store through the real binary: `keyward operator
//! snapshot save` while the server takes writes, restore into another data
//! dir (every write acknowledged before the save is there), the live
//! restore of `POST /v1/sys/storage/raft/snapshot`, and the refusals
//! (corruption, foreign keys, a data dir in use).

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use keyward_tests::{Client, Options, Server, binary};
use serde_json::{Value, json};

fn run(args: &[&str], token: Option<&str>) -> Output {
    let mut cmd = Command::new(binary());
    cmd.args(args);
    if let Some(t) = token {
        cmd.env("KEYWARD_TOKEN", t);
    }
    cmd.output().expect("run keyward")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn post(c: &Client, path: &str, body: Value) -> Value {
    let r = c.request(
        "POST",
        path,
        &[("content-type", "application/json")],
        Some(body.to_string().as_bytes()),
    );
    assert!(r.status < 300, "{path}: {} {}", r.status, r.body);
    if r.body.is_empty() {
        Value::Null
    } else {
        r.json()
    }
}

fn encrypt(c: &Client, key: &str, plaintext: &str) -> String {
    post(
        c,
        &format!("/v1/transit/encrypt/{key}"),
        json!({"plaintext": plaintext}),
    )["data"]["ciphertext"]
        .as_str()
        .expect("ciphertext")
        .to_string()
}

fn decrypt(c: &Client, key: &str, ciphertext: &str) -> Option<String> {
    let r = c.request(
        "POST",
        &format!("/v1/transit/decrypt/{key}"),
        &[("content-type", "application/json")],
        Some(json!({"ciphertext": ciphertext}).to_string().as_bytes()),
    );
    (r.status == 200).then(|| r.json()["data"]["plaintext"].as_str().unwrap().to_string())
}

fn save(server: &Server, file: &Path) -> Output {
    run(
        &[
            "operator",
            "snapshot",
            "save",
            file.to_str().unwrap(),
            "--url",
            &server.base_url(),
            "--data-dir",
            server.data_dir.to_str().unwrap(),
        ],
        Some(&server.root_token()),
    )
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn snapshot_under_write_load_restores_elsewhere_with_every_acknowledged_write() {
    let server = Server::start();
    let root = server.root_client();
    post(&root, "/v1/transit/keys/before", json!({}));
    let before_ct = encrypt(&root, "before", "YmVmb3Jl");

    // Writers create keys and ciphertexts while the snapshot is taken; what
    // each acknowledged before the save began must be in the snapshot.
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged: Arc<std::sync::Mutex<Vec<(String, String)>>> = Arc::default();
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let (c, stop, acked) = (root.clone(), stop.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let key = format!("load-{w}-{i}");
                    let ct = encrypt(&c, &key, "bG9hZA==");
                    acked.lock().unwrap().push((key, ct));
                    i += 1;
                }
            })
        })
        .collect();
    while acknowledged.lock().unwrap().len() < 20 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let before_save: Vec<(String, String)> = acknowledged.lock().unwrap().clone();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("kw.snapshot");
    let out = save(&server, &file);
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("saved a snapshot of"), "{}", text(&out));
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"KEYWARD-SNAPSHOT\n"));
    assert!(
        !bytes.windows(8).any(|w| w == b"bG9hZA=="),
        "values stay sealed in the snapshot"
    );

    // Into a fresh data dir, opened by a copy of the key folder.
    let other = tmp.path().join("restored");
    copy_dir(&server.data_dir.join("keyfolder"), &other.join("keyfolder"));
    let out = run(
        &[
            "operator",
            "snapshot",
            "restore",
            file.to_str().unwrap(),
            "--data-dir",
            other.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let restored =
        Server::start_in(&other, Options::default(), None).expect("restored server starts");
    let rc = restored.root_client();
    assert_eq!(
        decrypt(&rc, "before", &before_ct).as_deref(),
        Some("YmVmb3Jl")
    );
    for (key, ct) in &before_save {
        assert_eq!(
            decrypt(&rc, key, ct).as_deref(),
            Some("bG9hZA=="),
            "{key}, acknowledged before the save, is in the snapshot"
        );
    }

    // A restore never runs over a data dir a server holds.
    let out = run(
        &[
            "operator",
            "snapshot",
            "restore",
            file.to_str().unwrap(),
            "--data-dir",
            other.to_str().unwrap(),
            "--force",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("stop the server first"),
        "{}",
        text(&out)
    );

    // A corrupted snapshot is refused, by the command and by the API.
    let mut corrupted = bytes.clone();
    let mid = corrupted.len() / 2;
    corrupted[mid] ^= 0x40;
    let bad = tmp.path().join("bad.snapshot");
    std::fs::write(&bad, &corrupted).unwrap();
    let fresh = tmp.path().join("fresh");
    let out = run(
        &[
            "operator",
            "snapshot",
            "restore",
            bad.to_str().unwrap(),
            "--data-dir",
            fresh.to_str().unwrap(),
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("checksum"), "{}", text(&out));
    assert!(!fresh.join("keyward.redb").exists(), "nothing written");
    let r = root.request(
        "POST",
        "/v1/sys/storage/raft/snapshot",
        &[],
        Some(&corrupted),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("checksum"), "{}", r.body);

    // Keys that cannot open it: refused, nothing written.
    let wrong = tmp.path().join("wrong");
    std::fs::create_dir_all(wrong.join("keyfolder")).unwrap();
    std::fs::write(wrong.join("keyfolder/other.key"), [7u8; 32]).unwrap();
    let out = run(
        &[
            "operator",
            "snapshot",
            "restore",
            file.to_str().unwrap(),
            "--data-dir",
            wrong.to_str().unwrap(),
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("cannot open"), "{}", text(&out));
    assert!(!wrong.join("keyward.redb").exists());

    // Another data store's snapshot does not restore live into this one.
    let r = rc.request("GET", "/v1/sys/storage/raft/snapshot", &[], None);
    assert_eq!(r.status, 200);
    let restored_snapshot = tmp.path().join("restored.snapshot");
    assert!(save(&restored, &restored_snapshot).status.success());
    let foreign_server = Server::start();
    let r = foreign_server.root_client().request(
        "POST",
        "/v1/sys/storage/raft/snapshot",
        &[],
        Some(&std::fs::read(&restored_snapshot).unwrap()),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("another data store"), "{}", r.body);
}

#[test]
fn live_restore_rolls_the_running_server_back() {
    let server = Server::start();
    let root = server.root_client();
    post(&root, "/v1/transit/keys/kept", json!({}));
    let kept_ct = encrypt(&root, "kept", "a2VwdA==");
    let policy = r#"path "transit/keys/*" { capabilities = ["read"] }"#;
    let r = root.request(
        "PUT",
        "/v1/sys/policies/acl/readers",
        &[],
        Some(json!({"policy": policy}).to_string().as_bytes()),
    );
    assert_eq!(r.status, 204);
    let old_token = post(
        &root,
        "/v1/auth/token/create",
        json!({"policies": ["readers"]}),
    )["auth"]["client_token"]
        .as_str()
        .unwrap()
        .to_string();

    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("live.snapshot");
    assert!(save(&server, &file).status.success());

    // Changes after the snapshot.
    post(&root, "/v1/transit/keys/kept/rotate", json!({}));
    post(&root, "/v1/transit/keys/later", json!({}));
    let new_token = post(
        &root,
        "/v1/auth/token/create",
        json!({"policies": ["readers"]}),
    )["auth"]["client_token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = root.request("DELETE", "/v1/sys/policies/acl/readers", &[], None);
    assert_eq!(r.status, 204);

    // A token without sudo on the path may not restore.
    let reader = server.client().with_token(&old_token);
    let r = reader.request(
        "POST",
        "/v1/sys/storage/raft/snapshot",
        &[],
        Some(&std::fs::read(&file).unwrap()),
    );
    assert_eq!(r.status, 403, "{}", r.body);

    let r = root.request(
        "POST",
        "/v1/sys/storage/raft/snapshot",
        &[],
        Some(&std::fs::read(&file).unwrap()),
    );
    assert_eq!(r.status, 204, "{}", r.body);

    // Everything in memory follows the store: keys, policies, tokens.
    let key = root
        .request("GET", "/v1/transit/keys/kept", &[], None)
        .json();
    assert_eq!(key["data"]["latest_version"], 1, "the rotation is undone");
    assert_eq!(
        root.request("GET", "/v1/transit/keys/later", &[], None)
            .status,
        404
    );
    assert_eq!(
        decrypt(&root, "kept", &kept_ct).as_deref(),
        Some("a2VwdA==")
    );
    assert_eq!(
        root.request("GET", "/v1/sys/policies/acl/readers", &[], None)
            .status,
        200
    );
    let reader = server.client().with_token(&old_token);
    assert_eq!(
        reader
            .request("GET", "/v1/transit/keys/kept", &[], None)
            .status,
        200
    );
    let late = server.client().with_token(&new_token);
    assert_eq!(
        late.request("GET", "/v1/transit/keys/kept", &[], None)
            .status,
        403
    );

    // And it is what the store holds: a restart sees the same.
    let mut server = server;
    server.restart().expect("restart");
    let root = server.root_client();
    assert_eq!(
        root.request("GET", "/v1/transit/keys/later", &[], None)
            .status,
        404
    );
    assert_eq!(
        decrypt(&root, "kept", &kept_ct).as_deref(),
        Some("a2VwdA==")
    );
}
