//! TLS against the real binary: ArangoDB's `/_admin/server/tls` summary and
//! reload, the OpenSearch plugin's `ssl/certs`, `certificates`,
//! `reloadcerts` and `sslinfo`, SNI, client-certificate modes, the admin
//! certificate, the transport listener's nodes DN check, SIGHUP, and
//! reloads under load.
//!
//! The certificates are made here (a CA kept in memory, `keyward_tests::pki`)
//! and the values compared with are computed independently (`sha256sum`,
//! cut-out PEM blocks, the DNs written into the certificates).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use keyward_tests::pki::{Issued, TestCa, now};
use keyward_tests::tls::TlsConn;
use keyward_tests::{Client, Options, Reply, Server, basic, free_port, json};

const ADMIN_PASSWORD: &str = "Test-Admin-Password-1";

/// DER order; RFC 2253 prints it reversed.
const NODE: &[(&str, &str)] = &[("O", "keyward tests"), ("OU", "nodes"), ("CN", "localhost")];
const NODE_DN: &str = "CN=localhost,OU=nodes,O=keyward tests";
const SANS: &[&str] = &["localhost", "127.0.0.1"];
/// The dev mode `admin_dn`.
const ADMIN: &[(&str, &str)] = &[("O", "keyward"), ("OU", "keyward"), ("CN", "admin")];

fn sha256_file(path: &Path) -> String {
    // Independent of keyward: coreutils.
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

fn sha256_bytes(dir: &Path, bytes: &[u8]) -> String {
    let p = dir.join("hash-input");
    std::fs::write(&p, bytes).unwrap();
    sha256_file(&p)
}

/// Every block labelled `label`, BEGIN line through the END line's dashes.
fn blocks(text: &str, label: &str) -> Vec<String> {
    let (begin, end) = (
        format!("-----BEGIN {label}-----"),
        format!("-----END {label}-----"),
    );
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let stop = rest[start..].find(&end).unwrap() + start + end.len();
        out.push(rest[start..stop].to_string());
        rest = &rest[stop..];
    }
    out
}

fn subject_of(der: &[u8]) -> String {
    tls_inventory::dn::subject_dn(der).unwrap()
}

/// A PKI on disk and a server using it.
struct Setup {
    server: Server,
    ca: TestCa,
    dir: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    ca_path: PathBuf,
    admin: (PathBuf, PathBuf),
    _tmp: tempfile::TempDir,
}

impl Setup {
    /// A dev server with the test PKI's certificate (`--tls-cert`), the
    /// test CA as client CA, and `extra` flags. `prepare` runs before the
    /// start with the PKI directory (to write more files).
    fn start(extra: &[String], prepare: impl FnOnce(&TestCa, &Path) -> Vec<String>) -> Setup {
        Setup::start_as(extra, prepare, false)
    }

    /// As [`Setup::start`]; with `admin_identity` the harness's own client
    /// presents the admin certificate (for a server that requires one).
    fn start_as(
        extra: &[String],
        prepare: impl FnOnce(&TestCa, &Path) -> Vec<String>,
        admin_identity: bool,
    ) -> Setup {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let ca = TestCa::new("keyward test CA");
        let ca_path = dir.join("ca.pem");
        ca.write(&ca_path);
        let (cert, key) = ca.issue(NODE, SANS).write(&dir, "server");
        let admin = ca.issue(ADMIN, &[]).write(&dir, "admin");
        let mut args: Vec<String> = vec![
            "--tls-cert".into(),
            cert.display().to_string(),
            "--tls-key".into(),
            key.display().to_string(),
            "--tls-client-ca".into(),
            ca_path.display().to_string(),
        ];
        args.extend(prepare(&ca, &dir));
        args.extend(extra.iter().cloned());
        let server = Server::start_with(Options {
            args,
            ca_file: Some(ca_path.clone()),
            identity: admin_identity.then(|| admin.clone()),
            ..Options::default()
        });
        Setup {
            server,
            ca,
            dir,
            cert,
            key,
            ca_path,
            admin,
            _tmp: tmp,
        }
    }

    fn admin_client(&self) -> Client {
        Client::with_identity(
            self.server.base_url(),
            self.ca_path.clone(),
            &self.admin.0,
            &self.admin.1,
        )
    }

    fn connect(&self, name: &str) -> TlsConn {
        TlsConn::connect(self.server.addr, name, &self.ca_path, None).expect("TLS handshake")
    }

    fn served_leaf(&self) -> Vec<u8> {
        self.connect("localhost").peer_leaf()
    }

    /// Replaces the server's certificate and key files.
    fn replace(&self, issued: &Issued) {
        std::fs::write(&self.cert, &issued.cert_pem).unwrap();
        std::fs::write(&self.key, &issued.key_pem).unwrap();
    }
}

fn leaf_der(issued: &Issued) -> Vec<u8> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    CertificateDer::from_pem_slice(issued.cert_pem.as_bytes())
        .unwrap()
        .to_vec()
}

fn arango_tls(client: &Client, method: &str) -> Reply {
    client.request(method, "/_db/_system/_admin/server/tls", &[], None)
}

/// The summary of a PEM file, computed independently of keyward.
fn assert_summary(summary: &serde_json::Value, file_bytes: &[u8], dir: &Path) {
    let text = String::from_utf8_lossy(file_bytes);
    let sha = sha256_bytes(dir, file_bytes);
    assert_eq!(summary["sha256"], json!(sha), "{summary}");
    assert_eq!(summary["SHA256"], json!(sha));
    assert_eq!(summary["certificates"], json!(blocks(&text, "CERTIFICATE")));
    let key = ["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"]
        .iter()
        .find_map(|l| blocks(&text, l).into_iter().next());
    match key {
        Some(k) => {
            let h = sha256_bytes(dir, k.as_bytes());
            assert_eq!(summary["privateKeySha256"], json!(h));
            assert_eq!(summary["privateKeySHA256"], json!(h));
        }
        None => assert!(summary.get("privateKeySha256").is_none()),
    }
}

#[test]
fn arango_summary_reload_new_connections_and_an_open_keep_alive_connection() {
    let s = Setup::start(&[], |_, _| Vec::new());
    let root = s.server.root_client();

    let reply = arango_tls(&root, "GET");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["error"], json!(false));
    assert_eq!(body["code"], json!(200));
    let keyfile = [
        std::fs::read(&s.cert).unwrap(),
        std::fs::read(&s.key).unwrap(),
    ]
    .concat();
    assert_summary(&body["result"]["keyfile"], &keyfile, &s.dir);
    assert_summary(
        &body["result"]["clientCA"],
        &std::fs::read(&s.ca_path).unwrap(),
        &s.dir,
    );
    assert!(body["result"].get("SNI").is_none());
    // The same under the plain path, for any authenticated user.
    let plain = s.server.client().request(
        "GET",
        "/_admin/server/tls",
        &[("authorization", &basic("admin", ADMIN_PASSWORD))],
        None,
    );
    assert_eq!(plain.json()["result"], body["result"]);

    // A connection opened before the reload, kept alive across it.
    let mut old = s.connect("localhost");
    let first_leaf = old.peer_leaf();
    assert_eq!(subject_of(&first_leaf), NODE_DN);
    assert_eq!(
        old.request("GET", "/v1/sys/health", &[]).unwrap().status,
        200
    );

    let new = s.ca.issue(NODE, SANS);
    s.replace(&new);
    let reply = arango_tls(&root, "POST");
    assert_eq!(reply.status, 200, "{}", reply.body);
    let keyfile = [new.cert_pem.as_bytes(), new.key_pem.as_bytes()].concat();
    assert_summary(&reply.json()["result"]["keyfile"], &keyfile, &s.dir);
    assert_eq!(
        arango_tls(&root, "GET").json()["result"],
        reply.json()["result"]
    );

    assert_eq!(
        s.served_leaf(),
        leaf_der(&new),
        "a new connection gets the new certificate"
    );
    let again = old.request("GET", "/v1/sys/health", &[]).unwrap();
    assert_eq!(again.status, 200, "the open connection keeps working");
    assert_eq!(old.peer_leaf(), first_leaf);
}

#[test]
fn a_broken_replacement_is_refused_and_the_old_certificate_still_served() {
    let s = Setup::start(&[], |_, _| Vec::new());
    let root = s.server.root_client();
    let before = arango_tls(&root, "GET").json();
    let served = s.served_leaf();

    // A certificate whose key is not the one in the key file.
    let other = s.ca.issue(NODE, SANS);
    std::fs::write(&s.cert, &other.cert_pem).unwrap();
    let reply = arango_tls(&root, "POST");
    assert_eq!(reply.status, 400, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["error"], json!(true));
    assert_eq!(body["errorNum"], json!(34));
    let message = body["errorMessage"].as_str().unwrap();
    assert!(
        message.starts_with("Could not reload TLS context from files. "),
        "{message}"
    );
    assert!(message.contains("server.pem"), "says which file: {message}");
    assert!(!message.contains("PRIVATE"), "{message}");

    // Garbage.
    std::fs::write(&s.cert, "not a certificate").unwrap();
    let reply = arango_tls(&root, "POST");
    assert_eq!(reply.status, 400);
    assert!(
        reply.json()["errorMessage"]
            .as_str()
            .unwrap()
            .contains("no CERTIFICATE"),
        "{}",
        reply.body
    );

    assert_eq!(arango_tls(&root, "GET").json(), before, "nothing changed");
    assert_eq!(
        s.served_leaf(),
        served,
        "the old certificate is still served"
    );

    // SIGHUP with the same broken files: logged, nothing changes.
    s.server.hangup();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !s.server.stderr().contains("SIGHUP: TLS reload failed") {
        assert!(Instant::now() < deadline, "{}", s.server.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(s.served_leaf(), served);
}

#[test]
fn sighup_reloads_the_certificate() {
    let s = Setup::start(&[], |_, _| Vec::new());
    let new = s.ca.issue(NODE, SANS);
    s.replace(&new);
    s.server.hangup();
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.served_leaf() != leaf_der(&new) {
        assert!(Instant::now() < deadline, "{}", s.server.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sni_serves_the_certificate_of_the_name_asked_for() {
    let s = Setup::start(&[], |ca, dir| {
        let db = ca.issue(
            &[("O", "keyward tests"), ("CN", "db.example.test")],
            &["db.example.test"],
        );
        db.write_keyfile(&dir.join("db.pem"));
        vec![
            "--tls-sni".into(),
            format!("db.example.test={}", dir.join("db.pem").display()),
        ]
    });
    let db = s.connect("db.example.test");
    assert_eq!(
        subject_of(&db.peer_leaf()),
        "CN=db.example.test,O=keyward tests"
    );
    assert_eq!(subject_of(&s.served_leaf()), NODE_DN);

    let body = arango_tls(&s.server.root_client(), "GET").json();
    let file = std::fs::read(s.dir.join("db.pem")).unwrap();
    assert_summary(&body["result"]["SNI"]["db.example.test"], &file, &s.dir);

    // The SNI file reloads too; a broken one refuses the whole reload.
    std::fs::write(s.dir.join("db.pem"), "broken").unwrap();
    let reply = arango_tls(&s.server.root_client(), "POST");
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains("db.pem"), "{}", reply.body);
    assert_eq!(
        subject_of(&s.connect("db.example.test").peer_leaf()),
        "CN=db.example.test,O=keyward tests"
    );
}

#[test]
fn a_required_client_ca_refuses_a_client_without_a_certificate_at_the_handshake() {
    let s = Setup::start_as(
        &["--tls-client-auth".into(), "required".into()],
        |_, _| Vec::new(),
        true,
    );
    let health = |conn: Result<TlsConn, String>| {
        conn.and_then(|mut c| c.request("GET", "/v1/sys/health", &[]))
    };
    let none = health(TlsConn::connect(
        s.server.addr,
        "localhost",
        &s.ca_path,
        None,
    ));
    assert!(none.is_err(), "no certificate: {none:?}");

    let (cert, key) = s.ca.issue(&[("CN", "client")], &[]).write(&s.dir, "client");
    let ok = health(TlsConn::connect(
        s.server.addr,
        "localhost",
        &s.ca_path,
        Some((&cert, &key)),
    ));
    assert_eq!(ok.unwrap().status, 200);

    let stranger = TestCa::new("another CA");
    let (cert, key) = stranger
        .issue(&[("CN", "client")], &[])
        .write(&s.dir, "stranger");
    let refused = health(TlsConn::connect(
        s.server.addr,
        "localhost",
        &s.ca_path,
        Some((&cert, &key)),
    ));
    assert!(
        refused.is_err(),
        "a certificate from another CA: {refused:?}"
    );
}

#[test]
fn the_admin_certificate_changes_a_reserved_role_the_admin_user_cannot() {
    let server = Server::start();
    let body = json!({"cluster_permissions": ["cluster_monitor"]});
    let put = |client: &Client, auth: Option<&str>| {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(a) = auth {
            headers.push(("authorization", a));
        }
        client.request(
            "PUT",
            "/_plugins/_security/api/roles/kibana_read_only",
            &headers,
            Some(body.to_string().as_bytes()),
        )
    };
    let as_user = put(&server.client(), Some(&basic("admin", ADMIN_PASSWORD)));
    assert_eq!(as_user.status, 403, "{}", as_user.body);
    assert_eq!(
        as_user.json(),
        json!({"status": "FORBIDDEN", "message": "Resource 'kibana_read_only' is reserved."})
    );
    let as_cert = put(&server.admin_cert_client(), None);
    assert_eq!(as_cert.status, 200, "{}", as_cert.body);
    assert_eq!(as_cert.json()["status"], json!("OK"));
    let role = server.admin_cert_client().request(
        "GET",
        "/_plugins/_security/api/roles/kibana_read_only",
        &[],
        None,
    );
    assert_eq!(
        role.json()["kibana_read_only"]["cluster_permissions"],
        json!(["cluster_monitor"])
    );
}

#[test]
fn arango_permissions_and_errors() {
    let server = Server::start();
    let cert = server.admin_cert_client();
    let client = server.client();
    let put = |path: &str, body: serde_json::Value| {
        let r = cert.request(
            "PUT",
            path,
            &[("content-type", "application/json")],
            Some(body.to_string().as_bytes()),
        );
        assert!(r.status < 300, "{path}: {}", r.body);
    };
    put(
        "/_plugins/_security/api/roles/tls_reload",
        json!({"cluster_permissions": ["cluster:admin/keyward/tls/reload"]}),
    );
    put(
        "/_plugins/_security/api/internalusers/tls-reader",
        json!({"password": ADMIN_PASSWORD}),
    );
    put(
        "/_plugins/_security/api/internalusers/tls-reloader",
        json!({"password": ADMIN_PASSWORD, "opendistro_security_roles": ["tls_reload"]}),
    );
    let reader = basic("tls-reader", ADMIN_PASSWORD);
    let reloader = basic("tls-reloader", ADMIN_PASSWORD);
    let call = |method: &str, path: &str, auth: Option<&str>| {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
        client.request(method, path, &headers, None)
    };
    let path = "/_db/_system/_admin/server/tls";

    let r = call("GET", path, None);
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!({"error": true, "code": 401, "errorNum": 11, "errorMessage": "not authorized to execute this request"})
    );
    assert_eq!(
        call("GET", path, Some(&reader)).status,
        200,
        "any user reads"
    );
    let r = call("POST", path, Some(&reader));
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json(),
        json!({"error": true, "code": 403, "errorNum": 11, "errorMessage": "only superusers may reload TLS data"})
    );
    // The admin user (all_access) holds every keyward action.
    assert_eq!(
        call("POST", path, Some(&basic("admin", ADMIN_PASSWORD))).status,
        200
    );
    assert_eq!(call("POST", path, Some(&reloader)).status, 200);
    let r = call("PUT", path, Some(&reader));
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.json()["errorMessage"], json!("forbidden"));
    assert_eq!(
        call("DELETE", path, None).status,
        401,
        "401 before the method"
    );
    let r = call("GET", "/_db/nope/_admin/server/tls", Some(&reader));
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["errorNum"], json!(1228));
}

#[test]
fn plain_http_has_an_empty_summary() {
    let server = Server::start_with(Options {
        tls: false,
        ..Options::default()
    });
    let root = server.root_client();
    assert_eq!(
        arango_tls(&root, "GET").json(),
        json!({"error": false, "code": 200, "result": {}})
    );
    assert_eq!(arango_tls(&root, "POST").json()["result"], json!({}));
    let info = root
        .request(
            "GET",
            "/_opendistro/_security/sslinfo?show_dn=true",
            &[],
            None,
        )
        .json();
    assert_eq!(
        info,
        json!({"principal": null, "peer_certificates": "0", "peer_certificates_list": null,
               "local_certificates_list": null, "ssl_protocol": null, "ssl_cipher": null,
               "ssl_provider_http": null, "ssl_provider_transport_server": null,
               "ssl_provider_transport_client": null})
    );
    let certs = root
        .request("GET", "/_plugins/_security/api/ssl/certs", &[], None)
        .json();
    assert_eq!(
        certs,
        json!({"http_certificates_list": null, "transport_certificates_list": null})
    );
    let reload = root.request(
        "PUT",
        "/_plugins/_security/api/ssl/http/reloadcerts",
        &[],
        None,
    );
    assert_eq!(reload.status, 400);
    assert_eq!(
        reload.json(),
        json!({"status": "BAD_REQUEST", "message": "SSL for HTTP is disabled"})
    );
}

/// Starts a server with a transport listener whose certificate files are
/// separate from the HTTP ones; `nodes_dn` lists the test node DN.
fn with_transport(toml: &str) -> (Setup, u16, PathBuf, PathBuf) {
    let port = free_port();
    let toml = toml.to_string();
    let mut files = (PathBuf::new(), PathBuf::new());
    let s = Setup::start(&[], |ca, dir| {
        let (cert, key) = ca.issue(NODE, SANS).write(dir, "transport");
        files = (cert.clone(), key.clone());
        let config = dir.join("keyward.toml");
        std::fs::write(&config, &toml).unwrap();
        vec![
            "--config".into(),
            config.display().to_string(),
            "--cluster-listen".into(),
            format!("127.0.0.1:{port}"),
            "--cluster-tls-cert".into(),
            cert.display().to_string(),
            "--cluster-tls-key".into(),
            key.display().to_string(),
        ]
    });
    (s, port, files.0, files.1)
}

#[test]
fn ssl_certs_reloadcerts_and_certificates() {
    let (s, port, tcert, tkey) =
        with_transport(&format!("[security]\nnodes_dn = [\"{NODE_DN}\"]\n"));
    let admin = s.admin_client();
    let certs = admin.request("GET", "/_plugins/_security/api/ssl/certs", &[], None);
    assert_eq!(certs.status, 200, "{}", certs.body);
    assert!(
        certs
            .header("warning")
            .unwrap()
            .contains("[/ssl/certs] is a deprecated endpoint. Please use [/certificates] instead.")
    );
    let list = certs.json();
    let http = &list["http_certificates_list"][0];
    assert_eq!(http["subject_dn"], json!(NODE_DN));
    assert_eq!(
        http["issuer_dn"],
        json!("CN=keyward test CA,O=keyward tests")
    );
    assert_eq!(http["san"], json!("[[2, localhost], [7, 127.0.0.1]]"));
    assert_eq!(
        list["transport_certificates_list"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // REST admin only: the admin user (all_access) is refused.
    let user = s.server.client().request(
        "GET",
        "/_plugins/_security/api/ssl/certs",
        &[("authorization", &basic("admin", ADMIN_PASSWORD))],
        None,
    );
    assert_eq!(user.status, 403);
    assert_eq!(
        user.json(),
        json!({"status": "FORBIDDEN", "message": "Access denied"})
    );

    let reload = |layer: &str| {
        admin.request(
            "PUT",
            &format!("/_plugins/_security/api/ssl/{layer}/reloadcerts"),
            &[],
            None,
        )
    };
    // Same files: a no-op, still the plugin's answer.
    let r = reload("http");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, r#"{"message":"updated http certs"}"#);

    // Another subject: refused with the plugin's message, nothing changes.
    let served = s.served_leaf();
    let other = s.ca.issue(&[("O", "keyward tests"), ("CN", "other")], SANS);
    s.replace(&other);
    let r = reload("http");
    assert_eq!(r.status, 400, "{}", r.body);
    let reason = format!(
        "New certificates do not have valid Subject DNs. Current Subject DNs [{NODE_DN}] new Subject DNs [CN=other,O=keyward tests]"
    );
    let body = r.json();
    assert_eq!(
        body["error"]["root_cause"][0]["reason"],
        json!(format!("java.security.cert.CertificateException: {reason}"))
    );
    assert_eq!(body["error"]["type"], json!("exception"));
    assert_eq!(
        body["error"]["caused_by"]["type"],
        json!("certificate_exception")
    );
    assert_eq!(body["error"]["caused_by"]["reason"], json!(reason));
    assert_eq!(body["status"], json!(400));
    assert_eq!(s.served_leaf(), served);

    // An expired certificate with the right names: Java's exception.
    let expired = s.ca.issue_between(NODE, SANS, now() - 7200, now() - 3600);
    s.replace(&expired);
    let r = reload("http");
    assert_eq!(r.status, 400, "{}", r.body);
    let reason = r.json()["error"]["reason"].as_str().unwrap().to_string();
    // Java's Date.toString(): `NotAfter: Thu Apr 11 13:22:53 UTC 2033`.
    assert!(
        reason.starts_with("java.security.cert.CertificateExpiredException: NotAfter: ")
            && reason.contains(" UTC "),
        "{reason}"
    );

    // The same names, a new certificate: taken.
    let new = s.ca.issue(NODE, SANS);
    s.replace(&new);
    assert_eq!(reload("http").status, 200);
    assert_eq!(s.served_leaf(), leaf_der(&new));

    // Transport: new certificate with the same names.
    let transport_conn = |identity: (&Path, &Path)| {
        TlsConn::connect(
            format!("127.0.0.1:{port}").parse().unwrap(),
            "localhost",
            &s.ca_path,
            Some(identity),
        )
        .unwrap()
    };
    let before = transport_conn((&s.admin.0, &s.admin.1)).peer_leaf();
    let new_transport = s.ca.issue(NODE, SANS);
    std::fs::write(&tcert, &new_transport.cert_pem).unwrap();
    std::fs::write(&tkey, &new_transport.key_pem).unwrap();
    let r = reload("transport");
    assert_eq!(r.body, r#"{"message":"updated transport certs"}"#);
    let after = transport_conn((&s.admin.0, &s.admin.1)).peer_leaf();
    assert_ne!(before, after);
    assert_eq!(after, leaf_der(&new_transport));

    let r = reload("other");
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json()["message"],
        json!(
            "invalid uri path, please use /_plugins/_security/api/ssl/http/reload or /_plugins/_security/api/ssl/transport/reload"
        )
    );

    // /certificates: CAs first, then the leaf; not_before is not_before.
    let all = admin
        .request("GET", "/_plugins/_security/api/certificates", &[], None)
        .json();
    assert_eq!(
        all["_nodes"],
        json!({"total": 1, "successful": 1, "failed": 0})
    );
    let node = all["nodes"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .clone();
    let http = node["certificates"]["http"].as_array().unwrap();
    assert_eq!(http.len(), 2, "{http:?}");
    assert_eq!(http[0]["has_private_key"], json!(false));
    assert_eq!(
        http[0]["subject_dn"],
        json!("CN=keyward test CA,O=keyward tests")
    );
    assert_eq!(http[1]["has_private_key"], json!(true));
    assert_eq!(http[1]["format"], json!("pem"));
    assert_eq!(http[1]["alias"], json!(null));
    let info = tls_inventory::CertificateInfo::from_der(&leaf_der(&new)).unwrap();
    assert_eq!(http[1]["not_before"], json!(info.not_before));
    assert_eq!(http[1]["not_after"], json!(info.not_after));
    assert_ne!(http[1]["not_before"], http[1]["not_after"]);
    assert_eq!(
        node["certificates"]["transport"],
        node["certificates"]["transport_client"]
    );
    let only_http = admin
        .request(
            "GET",
            "/_plugins/_security/api/certificates/_local?cert_type=http",
            &[],
            None,
        )
        .json();
    let node = only_http["nodes"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    assert_eq!(
        node["certificates"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        vec!["http"]
    );
    let none = admin
        .request(
            "GET",
            "/_plugins/_security/api/certificates/nobody",
            &[],
            None,
        )
        .json();
    assert_eq!(none["_nodes"]["total"], json!(0));
}

#[test]
fn reloadcerts_needs_ssl_cert_reload_enabled() {
    let (s, _, _, _) = with_transport("[security]\nssl_cert_reload_enabled = false\n");
    let r = s.admin_client().request(
        "PUT",
        "/_plugins/_security/api/ssl/http/reloadcerts",
        &[],
        None,
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"status": "BAD_REQUEST", "message": "no handler found for uri [/_plugins/_security/api/ssl/http/reloadcerts] and method [PUT]. In order to use SSL reload functionality set plugins.security.ssl_cert_reload_enabled to true"})
    );
}

#[test]
fn the_transport_listener_admits_only_listed_node_dns() {
    let (s, port, _, _) = with_transport(&format!("[security]\nnodes_dn = [\"{NODE_DN}\"]\n"));
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    let health = |identity: Option<(&Path, &Path)>| {
        TlsConn::connect(addr, "localhost", &s.ca_path, identity)
            .and_then(|mut c| c.request("GET", "/_keyward/cluster/health", &[]))
    };
    let (node_cert, node_key) = s.ca.issue(NODE, &[]).write(&s.dir, "peer");
    let node = health(Some((&node_cert, &node_key))).unwrap();
    assert_eq!(node.status, 200, "{}", node.body);
    assert_eq!(node.json(), json!({"status": "UP", "peer": NODE_DN}));

    let admin = health(Some((&s.admin.0, &s.admin.1))).unwrap();
    assert_eq!(admin.status, 403, "the admin DN is not a node");
    assert!(
        admin
            .body
            .contains("CN=admin,OU=keyward,O=keyward is not a node")
    );
    assert!(s.server.stderr().contains("transport peer refused"));

    assert!(health(None).is_err(), "no certificate: no handshake");

    // The dynamic nodes DN (nodes_dn_dynamic_config_enabled in dev mode).
    let r = s.admin_client().request(
        "PUT",
        "/_plugins/_security/api/nodesdn/admins",
        &[("content-type", "application/json")],
        Some(
            json!({"nodes_dn": ["CN=admin,OU=keyward,O=*"]})
                .to_string()
                .as_bytes(),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(health(Some((&s.admin.0, &s.admin.1))).unwrap().status, 200);
}

#[test]
fn sslinfo_reports_the_client_certificate() {
    let server = Server::start();
    let info = server.admin_cert_client().request(
        "GET",
        "/_opendistro/_security/sslinfo?show_dn",
        &[],
        None,
    );
    assert_eq!(info.status, 200, "{}", info.body);
    let v = info.json();
    assert_eq!(v["principal"], json!("CN=admin,OU=keyward,O=keyward"));
    assert_eq!(v["peer_certificates"], json!("1"));
    assert_eq!(
        v["peer_certificates_list"],
        json!(["CN=admin, OU=keyward, O=keyward"])
    );
    assert_eq!(
        v["local_certificates_list"],
        json!([
            "CN=localhost, OU=keyward dev, O=keyward",
            "CN=keyward dev CA, OU=keyward dev, O=keyward"
        ])
    );
    assert!(["TLSv1.3", "TLSv1.2"].contains(&v["ssl_protocol"].as_str().unwrap()));
    assert!(v["ssl_cipher"].as_str().unwrap().starts_with("TLS_"));
    assert_eq!(v["ssl_provider_http"], json!("rustls"));
    assert_eq!(v["ssl_provider_transport_server"], json!(null));
    let basic_user = server.client().request(
        "GET",
        "/_opendistro/_security/sslinfo",
        &[("authorization", &basic("admin", ADMIN_PASSWORD))],
        None,
    );
    let v = basic_user.json();
    assert_eq!(v["principal"], json!(null));
    assert_eq!(v["peer_certificates"], json!("0"));
    assert!(v.get("local_certificates_list").is_none());
    let bad = server.admin_cert_client().request(
        "GET",
        "/_opendistro/_security/sslinfo?show_dn=maybe",
        &[],
        None,
    );
    assert_eq!(bad.status, 400);
    assert_eq!(
        server.get("/_opendistro/_security/sslinfo").status,
        401,
        "authenticated callers only"
    );
}

#[test]
fn a_thousand_requests_on_fifty_connections_during_ten_reloads_none_fails() {
    const CONNECTIONS: usize = 50;
    const PER_CONNECTION: usize = 20;
    const RELOADS: usize = 10;
    let s = Setup::start(&[], |_, _| Vec::new());
    // Two certificates with the same names, swapped in turn.
    let certs = [s.ca.issue(NODE, SANS), s.ca.issue(NODE, SANS)];
    let start = Arc::new(Barrier::new(CONNECTIONS + 1));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            // One agent each: its own keep-alive connection.
            let client = s.server.client();
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                let mut failures = Vec::new();
                for _ in 0..PER_CONNECTION {
                    match client.try_request("GET", "/v1/sys/health", &[]) {
                        Ok(r) if r.status == 200 => {}
                        Ok(r) => failures.push(format!("status {}: {}", r.status, r.body)),
                        Err(e) => failures.push(e),
                    }
                    std::thread::sleep(Duration::from_millis(15));
                }
                failures
            })
        })
        .collect();
    start.wait();
    let root = s.server.root_client();
    for i in 0..RELOADS {
        s.replace(&certs[i % 2]);
        let r = arango_tls(&root, "POST");
        assert_eq!(r.status, 200, "reload {i}: {}", r.body);
        std::thread::sleep(Duration::from_millis(20));
    }
    let reloads_done = started.elapsed();
    let failures: Vec<String> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    let elapsed = started.elapsed();
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        failures
    );
    eprintln!(
        "{} requests on {CONNECTIONS} connections, {RELOADS} reloads in {reloads_done:?}; all done in {elapsed:?}",
        CONNECTIONS * PER_CONNECTION
    );
    assert!(
        reloads_done < elapsed,
        "the reloads happened while requests were running"
    );
    assert_eq!(s.served_leaf(), leaf_der(&certs[(RELOADS - 1) % 2]));
}
