//! The foundation, black-box: the real binary in dev mode, over HTTPS.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use keyward_tests::{Options, Server, dir_contains, snapshot};

fn sha256_file(path: &Path) -> String {
    // An independent implementation: coreutils.
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

fn key_hashes(reply: &keyward_tests::Reply) -> Vec<String> {
    let mut hashes: Vec<String> = reply.json()["result"]["encryption-keys"]
        .as_array()
        .expect("encryption-keys")
        .iter()
        .map(|k| k["sha256"].as_str().unwrap().to_string())
        .collect();
    hashes.sort();
    hashes
}

fn rotate(server: &Server) -> keyward_tests::Reply {
    let token = server.root_token();
    server.client().request(
        "POST",
        "/_admin/server/encryption",
        &[("X-Vault-Token", &token)],
        None,
    )
}

fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut key)
        .unwrap();
    key
}

#[test]
fn health_over_https_verified_against_the_generated_ca() {
    let server = Server::start();
    let reply = server.get("/v1/sys/health");
    assert_eq!(reply.status, 200);
    let h = reply.json();
    assert_eq!(h["initialized"], true);
    assert_eq!(h["sealed"], false);
    assert_eq!(h["standby"], false);
    assert_eq!(h["performance_standby"], false);
    assert!(h["server_time_utc"].as_i64().unwrap() > 1_700_000_000);
    assert!(
        h["version"].is_string() && h["cluster_name"].is_string() && h["cluster_id"].is_string()
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));

    // A client that does not trust the generated CA cannot connect.
    let untrusting = keyward_tests::Client::new(server.base_url(), None);
    assert!(
        untrusting
            .try_request("GET", "/v1/sys/health", &[])
            .is_err()
    );

    let os = server.get("/_plugins/_security/health");
    assert_eq!(os.status, 200);
    assert_eq!(
        os.json(),
        keyward_tests::json!({"message": null, "mode": "strict", "status": "UP",
            "settings": {"plugins.security.cache.ttl_minutes": 60}})
    );
    let legacy = server.get("/_opendistro/_security/health");
    assert_eq!(legacy.status, 200);
    assert!(
        legacy
            .header("warning")
            .unwrap()
            .contains("deprecated endpoint path")
    );
}

#[test]
fn restart_keeps_data() {
    let mut server = Server::start_with(Options {
        root_token: None,
        admin_password: None,
        ..Options::default()
    });
    let token = server.root_token();
    let password = server.admin_password();
    assert!(token.starts_with("kw."), "{token}");
    let cluster_id = server.get("/v1/sys/health").json()["cluster_id"].clone();
    let before = key_hashes(&rotate(&server));

    server.restart().expect("restart");
    assert_eq!(
        server.root_token(),
        token,
        "the generated token is printed again"
    );
    assert_eq!(
        server.get("/v1/sys/health").json()["cluster_id"],
        cluster_id
    );
    let after = rotate(&server);
    assert_eq!(
        after.status, 200,
        "the stored root token still works: {}",
        after.body
    );
    assert_eq!(key_hashes(&after), before);
    let basic = server.client().request(
        "GET",
        "/_admin/server/encryption",
        &[("Authorization", &basic_auth("admin", &password))],
        None,
    );
    assert_eq!(basic.status, 200, "the stored admin password still works");
}

fn basic_auth(user: &str, password: &str) -> String {
    let out = Command::new("base64")
        .arg("-w0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin
                .take()
                .unwrap()
                .write_all(format!("{user}:{password}").as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    format!("Basic {}", String::from_utf8(out.stdout).unwrap())
}

#[test]
fn rotation_answers_arango_and_a_restart_with_only_the_new_key_reads_everything() {
    let mut server = Server::start();
    let folder = server.data_dir.join("keyfolder");
    let first = folder.join("dev.key");

    let reply = rotate(&server);
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["error"], false);
    assert_eq!(body["code"], 200);
    assert_eq!(key_hashes(&reply), vec![sha256_file(&first)]);

    let second = folder.join("second.key");
    std::fs::write(&second, random_key()).unwrap();
    let both = rotate(&server);
    let mut expected = vec![sha256_file(&first), sha256_file(&second)];
    expected.sort();
    assert_eq!(key_hashes(&both), expected);

    // Same answer under /_db/_system, as python-arango sends it; GET lists the same.
    let token = server.root_token();
    let get = server.client().request(
        "GET",
        "/_db/_system/_admin/server/encryption",
        &[("X-Vault-Token", &token)],
        None,
    );
    assert_eq!(key_hashes(&get), expected);

    // Drop the first key and rotate: only the second opens the store now.
    std::fs::remove_file(&first).unwrap();
    assert_eq!(key_hashes(&rotate(&server)), vec![sha256_file(&second)]);
    server.restart().expect("restart with only the new key");
    assert_eq!(
        rotate(&server).status,
        200,
        "data (the root token) read back"
    );

    // The removed key alone no longer opens it.
    server.stop();
    let old_key_dir = tempfile::tempdir().unwrap();
    std::fs::remove_file(&second).unwrap();
    std::fs::write(folder.join("old.key"), random_key()).unwrap();
    let err = Server::start_in(&server.data_dir, server.options.clone(), None)
        .err()
        .expect("refused");
    assert!(
        err.stderr.contains("none of the 1 key(s)"),
        "{}",
        err.stderr
    );
    drop(old_key_dir);
}

#[test]
fn a_wrong_key_is_refused_and_changes_no_byte_of_the_data_dir() {
    let mut server = Server::start();
    let status = server.stop();
    assert!(status.success(), "SIGTERM exits 0, got {status}");
    let folder = server.data_dir.join("keyfolder");
    std::fs::write(folder.join("dev.key"), random_key()).unwrap();
    let before = snapshot(&server.data_dir);

    let err = Server::start_in(&server.data_dir, server.options.clone(), None)
        .err()
        .expect("start is refused");
    assert!(!err.status.unwrap().success());
    assert!(
        err.stderr.contains(folder.to_str().unwrap()),
        "names the folder: {}",
        err.stderr
    );
    assert!(
        err.stderr.contains("opens this data store"),
        "says what is wrong: {}",
        err.stderr
    );
    assert!(snapshot(&server.data_dir) == before, "the data dir changed");

    // No key at all is refused the same way.
    std::fs::remove_file(folder.join("dev.key")).unwrap();
    let before = snapshot(&server.data_dir);
    let err = Server::start_in(&server.data_dir, server.options.clone(), None)
        .err()
        .expect("refused");
    assert!(err.stderr.contains("holds no key file"), "{}", err.stderr);
    assert!(snapshot(&server.data_dir) == before);
}

#[test]
fn rotation_with_no_valid_key_in_the_folder_is_refused_and_changes_nothing() {
    let mut server = Server::start();
    let folder = server.data_dir.join("keyfolder");
    let good = sha256_file(&folder.join("dev.key"));
    std::fs::write(folder.join("short.key"), [1u8; 31]).unwrap();
    let reply = rotate(&server);
    assert_eq!(reply.status, 400, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["error"], true);
    assert_eq!(body["errorNum"], 34);
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("exactly 32 bytes")
    );
    std::fs::remove_file(folder.join("short.key")).unwrap();
    let token = server.root_token();
    let get = server.client().request(
        "GET",
        "/_admin/server/encryption",
        &[("X-Vault-Token", &token)],
        None,
    );
    assert_eq!(key_hashes(&get), vec![good]);
    server.restart().expect("still opens");
}

#[test]
fn values_stored_through_the_server_are_not_in_plaintext_in_the_data_dir() {
    let options = Options {
        root_token: Some("kw.PLAINTEXT-CANARY-TOKEN-42".into()),
        admin_password: Some("Plaintext-Canary-Password-42".into()),
        ..Options::default()
    };
    let mut server = Server::start_with(options);
    assert_eq!(rotate(&server).status, 200);
    server.stop();
    for needle in ["PLAINTEXT-CANARY-TOKEN", "Plaintext-Canary-Password"] {
        assert_eq!(
            dir_contains(&server.data_dir, needle.as_bytes()),
            None,
            "{needle} found in the data dir"
        );
    }
    // The cluster's name is a stored value, so not in the store in clear;
    // the audit log (JSON lines in the data dir in dev mode, plain text by
    // design) names it in every event.
    let stored: Vec<String> = snapshot(&server.data_dir)
        .into_iter()
        .filter(|(_, bytes)| bytes.windows(16).any(|w| w == b"keyward-cluster-"))
        .map(|(name, _)| name)
        .filter(|name| name != "audit.log")
        .collect();
    assert!(stored.is_empty(), "keyward-cluster- found in {stored:?}");
}

#[test]
fn kill9_right_after_an_acknowledged_rotation_keeps_it_20_rounds() {
    let mut server = Server::start();
    let folder = server.data_dir.join("keyfolder");
    for round in 0..20 {
        let key = folder.join(format!("round-{round}.key"));
        std::fs::write(&key, random_key()).unwrap();
        let reply = rotate(&server);
        assert_eq!(reply.status, 200, "round {round}: {}", reply.body);
        server.kill9();
        // Only the key the acknowledged rotation added is left.
        for entry in std::fs::read_dir(&folder).unwrap() {
            let p = entry.unwrap().path();
            if p != key {
                std::fs::remove_file(p).unwrap();
            }
        }
        server
            .restart()
            .unwrap_or_else(|e| panic!("round {round}: {}", e.stderr));
        let hashes = key_hashes(&rotate(&server));
        assert_eq!(hashes, vec![sha256_file(&key)], "round {round}");
    }
}

/// Sends `request` on a plain-HTTP connection and reads the answer.
fn raw_http(server: &Server, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
        if answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
            break;
        }
    }
    String::from_utf8_lossy(&answer).to_string()
}

#[test]
fn bodies_over_32_mib_get_413_in_the_family_shape() {
    let server = Server::start_with(Options {
        tls: false,
        ..Options::default()
    });
    let token = server.root_token();
    // Announced too large: refused before the body is read.
    let answer = raw_http(
        &server,
        format!(
            "POST /_admin/server/encryption HTTP/1.1\r\nHost: x\r\nX-Vault-Token: {token}\r\nContent-Length: {}\r\n\r\n",
            32 * 1024 * 1024 + 1
        )
        .as_bytes(),
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"errorNum\":400"), "{answer}");

    // Chunked, no length announced: refused once the limit is crossed.
    let mut req = format!(
        "POST /_admin/server/encryption HTTP/1.1\r\nHost: x\r\nX-Vault-Token: {token}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    let chunk = vec![b'a'; 1024 * 1024];
    for _ in 0..33 {
        req.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        req.extend_from_slice(&chunk);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let answer = raw_http(&server, &req);
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "{}",
        &answer[..answer.len().min(300)]
    );
}

#[test]
fn authentication_failures_answer_in_each_family_shape() {
    let server = Server::start();
    let c = server.client();
    // ArangoDB: 401 errorNum 11.
    let r = c.request("POST", "/_admin/server/encryption", &[], None);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["errorNum"], 11);
    assert_eq!(
        r.json()["errorMessage"],
        "not authorized to execute this request"
    );
    let r = c.request(
        "POST",
        "/_admin/server/encryption",
        &[("Authorization", &basic_auth("admin", "wrong"))],
        None,
    );
    assert_eq!(r.status, 401);
    let r = c.request(
        "POST",
        "/_admin/server/encryption",
        &[("X-Vault-Token", "kw.not-a-token")],
        None,
    );
    assert_eq!(r.status, 401);
    // Vault: a missing or unknown token is 403 "permission denied", even on unknown paths.
    let r = c.request("GET", "/v1/transit/keys/x", &[], None);
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json(),
        keyward_tests::json!({"errors": ["permission denied"]})
    );
    let token = server.root_token();
    let r = c.request("GET", "/v1/nowhere/x", &[("X-Vault-Token", &token)], None);
    assert_eq!(r.status, 404);
    assert!(
        r.json()["errors"][0]
            .as_str()
            .unwrap()
            .contains("no handler for route")
    );
    // Wrong method: the family's 405; unknown database: 404 errorNum 1228.
    let r = c.request(
        "DELETE",
        "/_admin/server/encryption",
        &[("X-Vault-Token", &token)],
        None,
    );
    assert_eq!(r.status, 405);
    assert_eq!(r.json()["errorNum"], 405);
    let r = c.request(
        "POST",
        "/_db/nope/_admin/server/encryption",
        &[("X-Vault-Token", &token)],
        None,
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["errorNum"], 1228);
}

#[test]
fn sigterm_lets_in_flight_requests_finish_and_exits_0() {
    let mut server = Server::start_with(Options {
        tls: false,
        ..Options::default()
    });
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    // A first request makes sure the connection is accepted and served.
    stream
        .write_all(b"GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 8192];
    let n = stream.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // The second needs a bcrypt verification (a cache miss): it is in flight
    // when SIGTERM arrives.
    let auth = basic_auth("admin", &server.admin_password());
    stream
        .write_all(
            format!(
                "GET /_admin/server/encryption HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let status = server.stop();
    let mut answer = Vec::new();
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "the in-flight request finished: {answer}"
    );
    assert!(status.success(), "exit status {status}");
}
