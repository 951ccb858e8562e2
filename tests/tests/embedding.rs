//! keyward as a library, checked against the real binary:
//!
//! - ciphertexts cross between an in-process `transit-crypto` engine and
//!   the server, both ways: through backup/restore over HTTP, and through
//!   the same data dir opened by the application while the server is
//!   stopped;
//! - `http_api::Api` driven in-process, without sockets, answers the same
//!   requests exactly as the binary does (status, content type, body).

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_api::{Api, ApiConfig, ConnInfo, Services};
use http_body_util::{BodyExt, Full};
use keyring_core::{Barrier, Clock, Keystore, MemoryStore, RedbStore, Timestamp};
use keyward_tests::{Options, Server, Value, basic, json};
use secrecy::SecretString;
use transit_crypto::{CipherInput, KeyName, KeyOptions, KeyType, Transit};

struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock");
        Timestamp::new(d.as_secs() as i64, d.subsec_nanos())
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn b64(s: &str) -> String {
    STANDARD.encode(s)
}

fn name(s: &str) -> KeyName {
    KeyName::parse(s).expect("key name")
}

/// Decrypts through the server; returns the plaintext.
fn server_decrypt(server: &Server, key: &str, ciphertext: &str) -> String {
    let r = server.root_client().request(
        "POST",
        &format!("/v1/transit/decrypt/{key}"),
        &[],
        Some(json!({ "ciphertext": ciphertext }).to_string().as_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let plain = r.json()["data"]["plaintext"]
        .as_str()
        .expect("plaintext")
        .to_string();
    String::from_utf8(STANDARD.decode(plain).expect("base64")).expect("utf-8")
}

fn server_encrypt(server: &Server, key: &str, text: &str) -> String {
    let r = server.root_client().request(
        "POST",
        &format!("/v1/transit/encrypt/{key}"),
        &[],
        Some(json!({ "plaintext": b64(text) }).to_string().as_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["data"]["ciphertext"]
        .as_str()
        .expect("ciphertext")
        .to_string()
}

fn server_restore(server: &Server, key: &str, backup: &str) {
    let r = server.root_client().request(
        "POST",
        &format!("/v1/transit/restore/{key}"),
        &[],
        Some(
            json!({ "backup": backup, "force": true })
                .to_string()
                .as_bytes(),
        ),
    );
    assert_eq!(r.status, 204, "{}", r.body);
}

fn plain(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

#[test]
fn ciphertexts_cross_between_the_library_and_the_server() {
    let rt = runtime();
    let mut server = Server::start();
    let root = server.root_client();
    let create = json!({ "exportable": true, "allow_plaintext_backup": true }).to_string();
    let r = root.request(
        "POST",
        "/v1/transit/keys/shared",
        &[],
        Some(create.as_bytes()),
    );
    assert!(r.status == 200 || r.status == 204, "{}", r.body);
    let from_server = server_encrypt(&server, "shared", "made by the server");

    // Server → library, through a backup.
    let r = root.request("GET", "/v1/transit/backup/shared", &[], None);
    assert_eq!(r.status, 200, "{}", r.body);
    let backup = r.json()["data"]["backup"]
        .as_str()
        .expect("backup")
        .to_string();
    let (from_app, from_app_v2, app_born, app_born_backup, shared_backup) = rt.block_on(async {
        let barrier = Arc::new(Barrier::ephemeral(Arc::new(MemoryStore::new())).unwrap());
        let transit = Transit::open(barrier, "app/", Arc::new(SystemClock))
            .await
            .unwrap();
        let key = transit.restore(None, &backup, false).await.unwrap();
        let none = CipherInput::default();
        assert_eq!(
            plain(&key.decrypt(&from_server, &none).unwrap()),
            "made by the server"
        );
        let from_app = key.encrypt(b"made by the app", &none).unwrap();
        let key = transit.rotate(&name("shared")).await.unwrap();
        let from_app_v2 = key.encrypt(b"made by the app, v2", &none).unwrap();
        assert_eq!(from_app_v2.version, 2);
        let shared_backup = transit.backup(&name("shared")).await.unwrap();

        // A key born in the library.
        let options = KeyOptions {
            exportable: true,
            allow_plaintext_backup: true,
            ..KeyOptions::new(KeyType::ChaCha20Poly1305)
        };
        let (born, _) = transit.create(&name("app-born"), &options).await.unwrap();
        let app_born = born.encrypt(b"born in the app", &none).unwrap();
        let app_born_backup = transit.backup(&name("app-born")).await.unwrap();
        (
            from_app.ciphertext,
            from_app_v2.ciphertext,
            app_born.ciphertext,
            app_born_backup,
            shared_backup,
        )
    });

    // Library → server, through a restore.
    server_restore(&server, "shared", &shared_backup);
    server_restore(&server, "app-born", &app_born_backup);
    assert_eq!(
        server_decrypt(&server, "shared", &from_server),
        "made by the server"
    );
    assert_eq!(
        server_decrypt(&server, "shared", &from_app),
        "made by the app"
    );
    assert_eq!(
        server_decrypt(&server, "shared", &from_app_v2),
        "made by the app, v2"
    );
    assert_eq!(
        server_decrypt(&server, "app-born", &app_born),
        "born in the app"
    );

    // The same data dir: the server stops, the application opens its store
    // (the keystore unlocked by the key folder), finds the `transit/`
    // mount's prefix in the mount table, decrypts and writes; the server,
    // started again, sees it all.
    let status = server.stop();
    assert!(status.success(), "{status}");
    let data_dir = server.data_dir.clone();
    let offline = rt.block_on(async {
        let keystore = Keystore::new(
            data_dir.join("keystore.json"),
            Some(data_dir.join("keyfolder")),
        );
        let store = RedbStore::open(data_dir.join("keyward.redb")).unwrap();
        let barrier = Arc::new(Barrier::new(Arc::new(store), keystore.unlock().unwrap()));
        let record = barrier
            .get("sys/mounts/transit/")
            .await
            .unwrap()
            .expect("the transit/ mount record");
        let record: Value = serde_json::from_slice(&record).unwrap();
        let uuid = record["uuid"].as_str().expect("mount uuid");
        let transit = Transit::open(barrier, format!("transit/{uuid}/"), Arc::new(SystemClock))
            .await
            .unwrap();
        let key = transit.get(&name("shared")).await.unwrap().expect("shared");
        let none = CipherInput::default();
        assert_eq!(key.latest_version(), 2);
        assert_eq!(
            plain(&key.decrypt(&from_server, &none).unwrap()),
            "made by the server"
        );
        assert_eq!(
            plain(&key.decrypt(&from_app_v2, &none).unwrap()),
            "made by the app, v2"
        );
        let key = transit.rotate(&name("shared")).await.unwrap();
        key.encrypt(b"written while the server was down", &none)
            .unwrap()
            .ciphertext
    });
    assert!(offline.starts_with("vault:v3:"), "{offline}");
    server
        .restart()
        .expect("server starts on the same data dir");
    let r = server
        .root_client()
        .request("GET", "/v1/transit/keys/shared", &[], None);
    assert_eq!(r.json()["data"]["latest_version"], 3);
    assert_eq!(
        server_decrypt(&server, "shared", &offline),
        "written while the server was down"
    );
    assert_eq!(
        server_decrypt(&server, "shared", &from_app),
        "made by the app"
    );
}

/// One request, as both sides get it.
struct Case {
    method: &'static str,
    path: &'static str,
    auth: Auth,
    body: &'static str,
}

#[derive(Clone, Copy)]
enum Auth {
    None,
    Root,
    BadToken,
    Admin,
    AdminWrongPassword,
}

const ROOT: &str = "kw.embedding-root";
const ADMIN_PASSWORD: &str = "Embedding-Admin-Passw0rd";

fn headers(auth: Auth) -> Vec<(String, String)> {
    let mut h = vec![("content-type".to_string(), "application/json".to_string())];
    match auth {
        Auth::None => {}
        Auth::Root => h.push(("x-vault-token".into(), ROOT.into())),
        Auth::BadToken => h.push(("x-vault-token".into(), "kw.not-a-token".into())),
        Auth::Admin => h.push(("authorization".into(), basic("admin", ADMIN_PASSWORD))),
        Auth::AdminWrongPassword => h.push(("authorization".into(), basic("admin", "wrong"))),
    }
    h
}

fn cases() -> Vec<Case> {
    use Auth::*;
    let c = |method, path, auth, body| Case {
        method,
        path,
        auth,
        body,
    };
    vec![
        c("GET", "/v1/sys/health", None, ""),
        c("POST", "/v1/transit/keys/k1", Root, "{}"),
        c("POST", "/v1/transit/keys/k1/rotate", Root, ""),
        c("GET", "/v1/transit/keys/k1", Root, ""),
        c("GET", "/v1/transit/keys?list=true", Root, ""),
        c(
            "POST",
            "/v1/transit/encrypt/k1",
            Root,
            r#"{"plaintext":"aGVsbG8="}"#,
        ),
        c(
            "POST",
            "/v1/transit/encrypt/k1",
            Root,
            r#"{"plaintext":"not base64!"}"#,
        ),
        c(
            "POST",
            "/v1/transit/decrypt/k1",
            Root,
            r#"{"ciphertext":"vault:v9:AAAA"}"#,
        ),
        c(
            "POST",
            "/v1/transit/decrypt/k1",
            Root,
            r#"{"ciphertext":"no prefix"}"#,
        ),
        c("POST", "/v1/transit/keys/k2", Root, r#"{"type":"aes999"}"#),
        c("POST", "/v1/transit/keys/k2", Root, "{not json"),
        c("GET", "/v1/transit/keys/missing", Root, ""),
        c("GET", "/v1/transit/keys/k1", None, ""),
        c("GET", "/v1/transit/keys/k1", BadToken, ""),
        c(
            "POST",
            "/v1/transit/hash/sha2-256",
            Root,
            r#"{"input":"aGVsbG8="}"#,
        ),
        c("GET", "/v1/nothing/here", Root, ""),
        c("GET", "/v1/auth/token/lookup-self", Root, ""),
        c(
            "GET",
            "/_plugins/_security/api/internalusers/admin",
            Admin,
            "",
        ),
        c("GET", "/_plugins/_security/api/roles/all_access", Admin, ""),
        c("GET", "/_plugins/_security/api/internalusers", None, ""),
        c(
            "GET",
            "/_plugins/_security/api/internalusers",
            AdminWrongPassword,
            "",
        ),
        c("GET", "/_plugins/_security/authinfo", Admin, ""),
        c(
            "PUT",
            "/_plugins/_security/api/internalusers/someone",
            Admin,
            r#"{"password":"x","unknown":1}"#,
        ),
        c("GET", "/_plugins/_security/api/nothing", Admin, ""),
        c("GET", "/_admin/server/availability", None, ""),
        c("GET", "/_admin/log/level", Admin, ""),
        c("GET", "/_admin/log/level", None, ""),
    ]
}

/// Replaces what legitimately differs between two servers (times, ids,
/// random ciphertexts) so the rest can be compared exactly.
fn normalize(v: &mut Value) {
    const VOLATILE: &[&str] = &[
        "request_id",
        "server_time_utc",
        "cluster_id",
        "cluster_name",
        "creation_time",
        "issue_time",
        "expire_time",
        "ttl",
        "creation_ttl",
        "accessor",
        "id",
        "entity_id",
        "last_renewal_time",
        "sum",
    ];
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if VOLATILE.contains(&k.as_str()) && !val.is_object() {
                    *val = Value::String("<volatile>".into());
                } else if k == "keys" && val.is_object() {
                    // Version → creation time.
                    for t in val.as_object_mut().expect("object").values_mut() {
                        *t = Value::String("<time>".into());
                    }
                } else {
                    normalize(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalize),
        Value::String(s) if s.starts_with("127.0.0.1:") => {
            // `remote_address`: the client's port is its own on each side.
            *s = "127.0.0.1:<port>".to_string();
        }
        Value::String(s) if s.starts_with("vault:v") => {
            // Same version, fresh nonce.
            let prefix: String = s.splitn(3, ':').take(2).collect::<Vec<_>>().join(":");
            *s = format!("{prefix}:<sealed>");
        }
        _ => {}
    }
}

fn comparable(status: u16, content_type: Option<&str>, body: &str) -> (u16, String, Value) {
    let mut value = serde_json::from_str(body).unwrap_or(Value::String(body.to_string()));
    normalize(&mut value);
    (status, content_type.unwrap_or("").to_string(), value)
}

async fn in_process(api: &Api, case: &Case) -> (u16, String, Value) {
    let mut req = http::Request::builder().method(case.method).uri(case.path);
    for (k, v) in headers(case.auth) {
        req = req.header(k, v);
    }
    let req = req
        .header("content-length", case.body.len())
        .body(Full::new(Bytes::from(case.body)))
        .expect("request");
    let conn = ConnInfo {
        remote_addr: Some("127.0.0.1:40000".parse().expect("addr")),
        ..ConnInfo::default()
    };
    let resp = api.handle(req, conn).await;
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    comparable(status, ct.as_deref(), &String::from_utf8_lossy(&body))
}

/// The API as dev mode builds it: the demo security configuration and
/// settings, the root token, the admin password, transit at `transit/`.
async fn dev_like_api() -> Api {
    let settings = serde_json::from_value(json!({
        "ssl_cert_reload_enabled": true,
        "nodes_dn_dynamic_config_enabled": true,
        "nodes_dn": ["CN=localhost,OU=keyward dev,O=keyward"],
        "authcz": { "admin_dn": ["CN=admin,OU=keyward,O=keyward"] },
        "restapi": {
            "roles_enabled": ["all_access", "security_rest_api_access"],
            "admin": { "enabled": false }
        }
    }))
    .expect("dev security settings");
    let barrier = Arc::new(Barrier::ephemeral(Arc::new(MemoryStore::new())).unwrap());
    let api = Api::open(
        Services {
            barrier,
            clock: Arc::new(SystemClock),
            tls: None,
            transport_tls: None,
            audit_sink: None,
            log_levels: None,
        },
        ApiConfig {
            security: settings,
            security_bootstrap: Some(rbac_model::demo::config().expect("demo config")),
            ..ApiConfig::default()
        },
    )
    .await
    .expect("api");
    api.set_root_token(&SecretString::from(ROOT)).await.unwrap();
    api.set_internal_user(
        "admin",
        SecretString::from(ADMIN_PASSWORD),
        vec!["admin".to_string()],
        true,
    )
    .await
    .unwrap();
    api.ensure_transit_mount("transit", "transit engine mounted by dev mode")
        .await
        .unwrap();
    api
}

#[test]
fn in_process_api_answers_as_the_binary_does() {
    let server = Server::start_with(Options {
        tls: false,
        root_token: Some(ROOT.to_string()),
        admin_password: Some(ADMIN_PASSWORD.to_string()),
        ..Options::default()
    });
    let rt = runtime();
    let api = rt.block_on(dev_like_api());
    let client = server.client();
    let mut differences = Vec::new();
    for case in cases() {
        let h = headers(case.auth);
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let body = (!case.body.is_empty()).then_some(case.body.as_bytes());
        let reply = client.request(case.method, case.path, &h, body);
        let from_binary = comparable(reply.status, reply.header("content-type"), &reply.body);
        let from_api = rt.block_on(in_process(&api, &case));
        if from_api != from_binary {
            differences.push(format!(
                "{} {}:\n  in-process: {from_api:?}\n  binary:     {from_binary:?}",
                case.method, case.path
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} answers differ:\n{}",
        differences.len(),
        cases().len(),
        differences.join("\n")
    );
}
