//! Upgrades of the on-disk format, through the real binary: a data dir
//! made by a format-1 keyward (`tests/fixtures/format1`, see its README) is
//! migrated at start and every datum in it stays readable through the
//! APIs; a data dir or a snapshot from a newer format is refused with a
//! message naming both formats, by `server` and by `operator snapshot
//! restore`; an older-format snapshot is migrated when restored.

use std::path::{Path, PathBuf};
use std::process::Command;

use keyward_tests::{Client, Options, Reply, Server, basic};
use serde_json::{Value, json};

const CURRENT: u32 = keyring_core::DATA_FORMAT;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/format1")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(fixture().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json parses")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The fixture's data dir, copied where a server may change it.
fn fixture_copy(tmp: &Path) -> PathBuf {
    let data = tmp.join("data");
    copy_dir(&fixture().join("data"), &data);
    data
}

fn keystore_format(data_dir: &Path) -> u64 {
    let text = std::fs::read_to_string(data_dir.join("keystore.json")).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["format"]
        .as_u64()
        .unwrap()
}

fn options(exp: &Value) -> Options {
    Options {
        root_token: Some(exp["vault"]["root_token"].as_str().unwrap().to_string()),
        admin_password: Some(exp["admin_password"].as_str().unwrap().to_string()),
        ..Default::default()
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn post(client: &Client, path: &str, body: &Value) -> Reply {
    client.request(
        "POST",
        path,
        &[("content-type", "application/json")],
        Some(body.to_string().as_bytes()),
    )
}

#[track_caller]
fn json_ok(r: Reply) -> Value {
    assert!(r.status < 300, "{}: {}", r.status, r.body);
    r.json()
}

/// Every transit key, with each ciphertext, signature and HMAC the format-1
/// keyward made.
fn check_transit(root: &Client, exp: &Value) {
    let plaintext = exp["plaintext"].as_str().unwrap();
    for (name, key) in exp["transit"].as_object().unwrap() {
        let mount = key["mount"].as_str().unwrap();
        let read = json_ok(root.request("GET", &format!("/v1/{mount}/keys/{name}"), &[], None));
        assert_eq!(read["data"]["type"], key["type"], "{name}");
        assert_eq!(
            read["data"]["latest_version"], key["latest_version"],
            "{name}"
        );
        if key.get("deletion_allowed").is_some() {
            assert_eq!(read["data"]["deletion_allowed"], json!(true), "{name}");
        }
        for (version, ciphertext) in key["ciphertexts"].as_object().unwrap() {
            let mut body = json!({"ciphertext": ciphertext});
            if let Some(ctx) = key["context"].as_str() {
                body["context"] = json!(ctx);
            }
            let r = json_ok(post(root, &format!("/v1/{mount}/decrypt/{name}"), &body));
            assert_eq!(r["data"]["plaintext"], plaintext, "{name} v{version}");
        }
        for (version, signature) in key["signatures"].as_object().unwrap() {
            let body = json!({"input": plaintext, "signature": signature});
            let r = json_ok(post(root, &format!("/v1/{mount}/verify/{name}"), &body));
            assert_eq!(r["data"]["valid"], json!(true), "{name} v{version}");
            let public = &key["public_keys"][version];
            assert_eq!(
                &read["data"]["keys"][version]["public_key"], public,
                "{name}"
            );
        }
        for (version, hmac) in key["hmacs"].as_object().unwrap() {
            let body = json!({"input": plaintext, "hmac": hmac});
            let r = json_ok(post(root, &format!("/v1/{mount}/verify/{name}"), &body));
            assert_eq!(r["data"]["valid"], json!(true), "{name} hmac v{version}");
        }
    }
}

fn check_security(server: &Server, exp: &Value) {
    let sec = &exp["security"];
    let client = server.client();
    let admin = basic("admin", &server.admin_password());
    let get = |path: &str| {
        json_ok(client.request(
            "GET",
            &format!("/_plugins/_security/api/{path}"),
            &[("authorization", admin.as_str())],
            None,
        ))
    };
    let user = sec["user"].as_str().unwrap();
    let users = get(&format!("internalusers/{user}"));
    assert_eq!(users[user]["backend_roles"], json!([sec["backend_role"]]));
    let (attr, value) = (sec["attribute"][0].as_str().unwrap(), &sec["attribute"][1]);
    assert_eq!(&users[user]["attributes"][attr], value);
    let role = sec["role"].as_str().unwrap();
    assert!(
        get(&format!("roles/{role}"))[role]["cluster_permissions"]
            .as_array()
            .unwrap()
            .contains(&sec["action_group"])
    );
    let group = sec["action_group"].as_str().unwrap();
    assert!(get(&format!("actiongroups/{group}")).get(group).is_some());
    let tenant = sec["tenant"].as_str().unwrap();
    assert!(get(&format!("tenants/{tenant}")).get(tenant).is_some());
    assert_eq!(
        get(&format!("rolesmapping/{role}"))[role]["users"],
        json!([user])
    );
    // The user still logs in with the password hashed by the old keyward.
    let alice = basic(user, sec["password"].as_str().unwrap());
    let info = json_ok(client.request(
        "GET",
        "/_plugins/_security/authinfo",
        &[("authorization", alice.as_str())],
        None,
    ));
    assert!(
        info["roles"].as_array().unwrap().contains(&json!(role)),
        "{info}"
    );
}

fn check_vault(server: &Server, exp: &Value) {
    let v = &exp["vault"];
    let root = server.root_client();
    let policy = json_ok(root.request("GET", "/v1/sys/policies/acl/fx-policy", &[], None));
    assert_eq!(policy["data"]["policy"], v["policy_text"]);
    for t in v["tokens"].as_array().unwrap() {
        let client = server.client().with_token(t["token"].as_str().unwrap());
        let me = json_ok(client.request("GET", "/v1/auth/token/lookup-self", &[], None));
        assert_eq!(me["data"]["accessor"], t["accessor"]);
        assert_eq!(me["data"]["policies"], t["policies"]);
    }
    // The limited token's ACL policy still applies.
    let limited = server
        .client()
        .with_token(v["tokens"][0]["token"].as_str().unwrap());
    let body = json!({"plaintext": exp["plaintext"]});
    assert_eq!(
        post(&limited, "/v1/transit/encrypt/fx-aes256", &body).status,
        200
    );
    assert_eq!(
        post(&limited, "/v1/transit/encrypt/fx-aes128", &body).status,
        403
    );
}

fn check_secrets_audit_encryption(server: &Server, exp: &Value) {
    let client = server.client();
    let admin = basic("admin", &server.admin_password());
    let get = |path: &str| {
        json_ok(client.request("GET", path, &[("authorization", admin.as_str())], None))
    };
    for (name, value) in exp["secrets"]["values"].as_object().unwrap() {
        let r = get(&format!("/rest/secrets/1.0/secrets/{name}"));
        assert_eq!(&r["value"], value, "{name}");
    }
    assert_eq!(
        get("/rest/secrets/1.0/keys/inactive"),
        exp["secrets"]["inactive"]
    );
    let audit = get("/_plugins/_security/api/audit");
    assert_eq!(
        audit["config"]["audit"]["disabled_rest_categories"],
        exp["audit"]["audit"]["disabled_rest_categories"]
    );
    assert_eq!(
        audit["config"]["audit"]["ignore_users"],
        json!(["fx-ignored"])
    );
    let enc = get("/_admin/server/encryption");
    let mut keys: Vec<Value> = enc["result"]["encryption-keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["sha256"].clone())
        .collect();
    keys.sort_by_key(|k| k.to_string());
    assert_eq!(json!(keys), exp["encryption_keys"]);
}

/// A snapshot of the running server, saved by `keyward operator snapshot
/// save` (the test client reads bodies as text).
fn snapshot_of(server: &Server) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.snapshot");
    let out = Command::new(keyward_tests::binary())
        .args([
            "operator",
            "snapshot",
            "save",
            file.to_str().unwrap(),
            "--url",
        ])
        .arg(server.base_url())
        .arg("--data-dir")
        .arg(&server.data_dir)
        .env("KEYWARD_TOKEN", server.root_token())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&file).unwrap()
}

#[test]
fn a_format_1_data_dir_is_migrated_at_start_and_everything_in_it_stays_readable() {
    let exp = expected();
    let tmp = tempfile::tempdir().unwrap();
    let data = fixture_copy(tmp.path());
    assert_eq!(keystore_format(&data), 1, "the fixture is format 1");
    let root_id = sha256_hex(exp["vault"]["root_token"].as_str().unwrap().as_bytes());
    assert!(
        keyward_tests::dir_contains(&data, root_id.as_bytes()).is_some(),
        "format 1 names the root token's record by its SHA-256, in the clear"
    );

    let mut server = Server::start_in(&data, options(&exp), None).expect("starts on format 1");
    let log = server.stderr();
    assert!(log.contains("migrating the data store"), "{log}");
    assert!(log.contains("data store migrated"), "{log}");
    assert_eq!(keystore_format(&data), u64::from(CURRENT));

    check_transit(&server.root_client(), &exp);
    check_security(&server, &exp);
    check_vault(&server, &exp);
    check_secrets_audit_encryption(&server, &exp);

    // The store is now current, and nothing names a token in the clear.
    let bytes = snapshot_of(&server);
    let snap = keyring_core::Snapshot::parse(&bytes).unwrap();
    assert_eq!(snap.data_format, CURRENT);
    assert!(!bytes.windows(64).any(|w| w == root_id.as_bytes()));

    // A second start has nothing to migrate, and the data is still there.
    server.stop();
    server.restart().expect("restarts");
    assert!(
        !server.stderr().contains("migrating"),
        "{}",
        server.stderr()
    );
    check_vault(&server, &exp);

    // Revoking a parent still revokes the child made under the old layout.
    let child_root = exp["vault"]["tokens"][1]["token"].as_str().unwrap();
    let r = server.client().with_token(child_root).request(
        "POST",
        "/v1/auth/token/revoke-self",
        &[],
        None,
    );
    assert_eq!(r.status, 204, "{}", r.body);
    let grandchild = exp["vault"]["tokens"][2]["token"].as_str().unwrap();
    let r = server.client().with_token(grandchild).request(
        "GET",
        "/v1/auth/token/lookup-self",
        &[],
        None,
    );
    assert_eq!(r.status, 403);
}

fn keyward(args: &[&str]) -> (bool, String) {
    let out = Command::new(keyward_tests::binary())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn an_older_format_snapshot_is_migrated_when_restored_offline_and_live() {
    let exp = expected();
    let tmp = tempfile::tempdir().unwrap();
    let snapshot = fixture().join("format1.snapshot");
    let parsed = keyring_core::Snapshot::parse(&std::fs::read(&snapshot).unwrap()).unwrap();
    assert_eq!(parsed.data_format, 1, "the fixture's snapshot is format 1");

    // Offline, into a new data dir whose key folder holds the fixture's keys.
    let data = tmp.path().join("restored");
    copy_dir(&fixture().join("data/keyfolder"), &data.join("keyfolder"));
    let (ok, text) = keyward(&[
        "operator",
        "snapshot",
        "restore",
        snapshot.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("migrated from format 1 to format {CURRENT}")),
        "{text}"
    );
    assert_eq!(keystore_format(&data), u64::from(CURRENT));
    let server = Server::start_in(&data, options(&exp), None).expect("starts");
    assert!(
        !server.stderr().contains("migrating"),
        "migrated by the restore already"
    );
    check_vault(&server, &exp);
    check_secrets_audit_encryption(&server, &exp);
    drop(server);

    // Live, into the migrated fixture (the same data store): the restored
    // format-1 records are migrated before the server answers again.
    let live = tempfile::tempdir().unwrap();
    let live_data = fixture_copy(live.path());
    let server = Server::start_in(&live_data, options(&exp), None).expect("starts");
    let r = server.root_client().request(
        "POST",
        "/v1/sys/storage/raft/snapshot",
        &[],
        Some(&std::fs::read(&snapshot).unwrap()),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    check_vault(&server, &exp);
    check_transit(&server.root_client(), &exp);
    let snap = keyring_core::Snapshot::parse(&snapshot_of(&server)).unwrap();
    assert_eq!(snap.data_format, CURRENT);
}

/// A snapshot whose header says `format`, checksum recomputed.
fn restamped(bytes: &[u8], format: u32) -> Vec<u8> {
    let magic = b"KEYWARD-SNAPSHOT\n".len();
    let mut out = bytes[..bytes.len() - 32].to_vec();
    assert_eq!(out[magic..magic + 4], 2u32.to_be_bytes(), "container 2");
    out[magic + 12..magic + 16].copy_from_slice(&format.to_be_bytes());
    let sum = ring::digest::digest(&ring::digest::SHA256, &out);
    out.extend_from_slice(sum.as_ref());
    out
}

#[test]
fn a_newer_format_is_refused_by_server_and_by_snapshot_restore_and_nothing_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = Server::start_in(&data, Options::default(), None).expect("starts");
    let bytes = snapshot_of(&server);
    assert_eq!(
        keyring_core::Snapshot::parse(&bytes).unwrap().data_format,
        CURRENT
    );
    let newer_snapshot = restamped(&bytes, CURRENT + 1);

    // Live restore of a newer snapshot: 400, nothing replaced.
    let r = server.root_client().request(
        "POST",
        "/v1/sys/storage/raft/snapshot",
        &[],
        Some(&newer_snapshot),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains(&format!("format {}", CURRENT + 1)),
        "{}",
        r.body
    );
    server.stop();

    // The data dir stamped by a "future" keyward.
    let keystore = data.join("keystore.json");
    let text = std::fs::read_to_string(&keystore).unwrap();
    let future = text.replace(
        &format!("\"format\": {CURRENT}"),
        &format!("\"format\": {}", CURRENT + 1),
    );
    assert_ne!(text, future);
    std::fs::write(&keystore, &future).unwrap();
    let before = keyward_tests::snapshot(&data);
    let err = server.restart().expect_err("a newer data dir is refused");
    assert!(err.status.is_some_and(|s| !s.success()), "{err:?}");
    for needle in [
        format!("on-disk format {}", CURRENT + 1),
        format!("reads up to format {CURRENT}"),
        data.display().to_string(),
        "newer keyward".to_string(),
    ] {
        assert!(
            err.stderr.contains(&needle),
            "{needle:?} in:\n{}",
            err.stderr
        );
    }
    assert_eq!(
        keyward_tests::snapshot(&data),
        before,
        "no byte of the data dir changed"
    );

    // `operator snapshot restore` of a newer snapshot, into a new data dir.
    let file = tmp.path().join("newer.snapshot");
    std::fs::write(&file, &newer_snapshot).unwrap();
    let target = tmp.path().join("target");
    let (ok, text) = keyward(&[
        "operator",
        "snapshot",
        "restore",
        file.to_str().unwrap(),
        "--data-dir",
        target.to_str().unwrap(),
        "--encryption-keyfolder",
        data.join("keyfolder").to_str().unwrap(),
    ]);
    assert!(!ok, "{text}");
    assert!(
        text.contains(&format!("on-disk format {}", CURRENT + 1)),
        "{text}"
    );
    assert!(
        text.contains(&format!("reads up to format {CURRENT}")),
        "{text}"
    );
    assert!(!target.join("keyward.redb").exists(), "nothing restored");

    // `config check` refuses the stamped data dir too.
    let config = tmp.path().join("keyward.toml");
    std::fs::write(
        &config,
        format!("data_dir = {data:?}\ntls_disable = true\n"),
    )
    .unwrap();
    let (ok, text) = keyward(&["config", "check", config.to_str().unwrap()]);
    assert!(!ok, "{text}");
    assert!(
        text.contains(&format!("on-disk format {}", CURRENT + 1)),
        "{text}"
    );
}
