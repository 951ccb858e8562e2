//! Day-two endpoints through the real binary: readiness and Vault's health
//! parameters.

use keyward_tests::Server;

#[test]
fn availability_and_health_parameters() {
    let server = Server::start();
    let anon = server.client();
    for path in [
        "/_admin/server/availability",
        "/_db/_system/_admin/server/availability",
    ] {
        let r = anon.request("GET", path, &[], None);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let body = r.json();
        assert_eq!(body["mode"], "default");
        assert_eq!(body["error"], false);
    }
    let r = anon.request("GET", "/v1/sys/health?activecode=299", &[], None);
    assert_eq!(r.status, 299);
    assert_eq!(r.json()["sealed"], false);
    let r = anon.request("GET", "/v1/sys/health?activecode=204", &[], None);
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    let r = anon.request("GET", "/v1/sys/health?standbyok=maybe", &[], None);
    assert_eq!((r.status, r.body.as_str()), (400, r#"{"errors":[]}"#));
}

#[test]
fn one_request_id_in_the_envelope_the_header_and_the_json_log() {
    let server = Server::start_with(keyward_tests::Options {
        args: vec!["--log-format".into(), "json".into()],
        ..Default::default()
    });
    let r = server
        .root_client()
        .request("GET", "/v1/auth/token/lookup-self", &[], None);
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.header("x-request-id").expect("X-Request-Id").to_string();
    assert_eq!(r.json()["request_id"], id.as_str());
    // The log line is written after the answer: give it a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let line = loop {
        let log = server.stderr();
        if let Some(l) = log.lines().find(|l| l.contains(&id)) {
            break l.to_string();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no log line with {id}:\n{log}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let entry: serde_json::Value = serde_json::from_str(&line).expect("a JSON log line");
    let fields = &entry["fields"];
    assert_eq!(fields["request_id"], id.as_str(), "{line}");
    assert_eq!(fields["status"], 200, "{line}");
    assert_eq!(fields["path"], "/v1/auth/token/lookup-self", "{line}");
    assert!(!line.contains(&server.root_token()), "no token in the log");
}

#[test]
fn metrics_need_a_token_unless_opened_by_configuration() {
    let server = Server::start();
    let r = server.client().request("GET", "/v1/sys/metrics", &[], None);
    assert_eq!(r.status, 403, "{}", r.body);
    let open = Server::start_with(keyward_tests::Options {
        args: vec!["--unauthenticated-metrics-access".into()],
        ..Default::default()
    });
    let r = open
        .client()
        .request("GET", "/v1/sys/metrics?format=prometheus", &[], None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("# TYPE keyward_uptime_seconds gauge"),
        "{}",
        r.body
    );
    // Opening the metrics opens nothing else.
    let r = open.client().request("GET", "/v1/sys/mounts", &[], None);
    assert_eq!(r.status, 403);
}

#[test]
fn config_check_validates_without_starting() {
    let server = Server::start();
    let tls = server.data_dir.join("tls");
    let tmp = tempfile::tempdir().unwrap();
    let check = |toml: &str| {
        let file = tmp.path().join("keyward.toml");
        std::fs::write(&file, toml).unwrap();
        let out = std::process::Command::new(keyward_tests::binary())
            .args(["config", "check", file.to_str().unwrap()])
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let good = format!(
        "data_dir = {:?}\nlisten = \"127.0.0.1:1\"\ntls_cert = {:?}\ntls_key = {:?}\ntls_client_ca = {:?}\nencryption_keyfolder = {:?}\n",
        tmp.path().join("data"),
        tls.join("server.pem"),
        tls.join("server-key.pem"),
        tls.join("ca.pem"),
        server.data_dir.join("keyfolder"),
    );
    let (ok, text) = check(&good);
    assert!(ok, "{text}");
    assert!(text.contains("private key matches"), "{text}");
    assert!(text.contains("1 key(s)"), "{text}");
    assert!(text.contains("new (created at first start)"), "{text}");
    assert!(!tmp.path().join("data").exists(), "a check writes nothing");

    let (ok, text) = check(&format!("{good}colour = \"blue\"\n"));
    assert!(!ok);
    assert!(text.contains("unknown field `colour`"), "{text}");

    let mismatched = good.replace("server-key.pem", "admin-key.pem");
    let (ok, text) = check(&mismatched);
    assert!(!ok);
    assert!(text.contains("TLS files"), "{text}");

    let (ok, text) = check(&good.replace("\"127.0.0.1:1\"", "\"nowhere\""));
    assert!(!ok, "{text}");
}

/// Waits until the server's log holds `needle`.
fn wait_for_log(server: &Server, needle: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let log = server.stderr();
        if log.contains(needle) {
            return log;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {needle:?} in the log:\n{log}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn the_log_level_api_changes_the_servers_own_topics_at_run_time() {
    let server = Server::start_with(keyward_tests::Options {
        tls: true,
        ..Default::default()
    });
    let client = server.client();
    let admin = keyward_tests::basic("admin", &server.admin_password());
    let put = |body: &str| {
        let r = client.request(
            "PUT",
            "/_admin/log/level",
            &[
                ("authorization", admin.as_str()),
                ("content-type", "application/json"),
            ],
            Some(body.as_bytes()),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    };
    let reload_tls = || {
        let r = client.request(
            "POST",
            "/_admin/server/tls",
            &[("authorization", admin.as_str())],
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
    };

    // `requests` (one line per request) starts at INFO.
    client.request("GET", "/_admin/marker-one", &[], None);
    wait_for_log(&server, "/_admin/marker-one");
    assert_eq!(put(r#"{"requests":"ERROR"}"#)["requests"], "ERROR");
    client.request("GET", "/_admin/marker-hidden", &[], None);
    put(r#"{"requests":"INFO"}"#);
    client.request("GET", "/_admin/marker-two", &[], None);
    let log = wait_for_log(&server, "/_admin/marker-two");
    assert!(
        !log.contains("/_admin/marker-hidden"),
        "a request while `requests` was at ERROR was logged:\n{log}"
    );

    // `ssl` starts at WARNING, as in ArangoDB: a reload's INFO line shows
    // only once the topic is raised.
    reload_tls();
    put(r#"{"ssl":"INFO"}"#);
    client.request("GET", "/_admin/marker-three", &[], None);
    let log = wait_for_log(&server, "/_admin/marker-three");
    assert!(!log.contains("TLS files reloaded"), "{log}");
    reload_tls();
    wait_for_log(&server, "TLS files reloaded through /_admin/server/tls");
}
