//! Audit logging against the real binary: the audit API through both
//! prefixes, the JSON lines a failed login, a denied and a granted request
//! produce, what suppresses them (`ignore_users`, a disabled category, an
//! audit topic set to WARNING), and that no secret value ever reaches the
//! audit log.

use std::time::{Duration, Instant};

use keyward_tests::{Client, Options, Reply, Server, Value, basic, json};

const LIMITED: &str = "limited";
const LIMITED_PASSWORD: &str = "Vq7#kLm2!pZx9Tr-Qw8";

fn admin(server: &Server) -> String {
    basic("admin", &server.admin_password())
}

fn send(client: &Client, auth: &str, method: &str, path: &str, body: Option<&Value>) -> Reply {
    let text = body.map(Value::to_string);
    client.request(
        method,
        path,
        &[
            ("authorization", auth),
            ("content-type", "application/json"),
        ],
        text.as_deref().map(str::as_bytes),
    )
}

fn audit_text(server: &Server) -> String {
    std::fs::read_to_string(server.data_dir.join("audit.log")).unwrap_or_default()
}

fn audit_lines(server: &Server) -> Vec<Value> {
    audit_text(server)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Waits until a line matching `pred` is in the audit log; returns it and
/// every line before it.
fn wait_for(server: &Server, what: &str, pred: impl Fn(&Value) -> bool) -> (Value, Vec<Value>) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let lines = audit_lines(server);
        if let Some(i) = lines.iter().position(&pred) {
            return (lines[i].clone(), lines[..i].to_vec());
        }
        assert!(
            Instant::now() < deadline,
            "no audit line for {what}; the log:\n{}",
            audit_text(server)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn is(category: &str, user: &str) -> impl Fn(&Value) -> bool {
    let (category, user) = (category.to_string(), user.to_string());
    move |v| {
        v["audit_category"] == json!(category) && v["audit_request_effective_user"] == json!(user)
    }
}

/// A failed login by a throw-away user name: a line that marks a point in
/// the log (the writer is first in, first out).
fn marker(server: &Server, n: usize) -> Vec<Value> {
    let user = format!("marker-{n}");
    let r = server.client().request(
        "GET",
        "/_plugins/_security/api/roles",
        &[("authorization", &basic(&user, "x"))],
        None,
    );
    assert_eq!(r.status, 401);
    wait_for(server, &user, is("FAILED_LOGIN", &user)).1
}

fn changes_of(server: &Server, doc: &str) -> usize {
    audit_lines(server)
        .iter()
        .filter(|v| v["audit_trace_doc_id"] == json!(doc))
        .count()
}

/// Waits for the `n`-th change of `doc` in the log: every event of the
/// requests before it is written then.
fn wait_for_change(server: &Server, doc: &str, n: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let lines = audit_lines(server);
        let mut seen = 0;
        for (i, v) in lines.iter().enumerate() {
            if v["audit_trace_doc_id"] == json!(doc) {
                seen += 1;
                if seen == n {
                    return i + 1;
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "no change {n} of {doc}:\n{}",
            audit_text(server)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Replaces the audit configuration and waits until the change is in the
/// log (the change is audited under the configuration before it); returns
/// how many lines the log has up to it.
fn put_audit_config(server: &Server, config: Value) -> usize {
    let n = changes_of(server, "audit");
    let r = send(
        &server.client(),
        &admin(server),
        "PUT",
        "/_plugins/_security/api/audit/config",
        Some(&config),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    wait_for_change(server, "audit", n + 1)
}

/// The shipped configuration with every REST category on and no ignored user.
fn everything() -> Value {
    json!({
        "enabled": true,
        "audit": {"disabled_rest_categories": [], "ignore_users": ["NONE"], "log_request_body": true},
        "compliance": {"internal_config": true, "write_ignore_users": []}
    })
}

fn create_limited_user(server: &Server) {
    let r = send(
        &server.client(),
        &admin(server),
        "PUT",
        &format!("/_plugins/_security/api/internalusers/{LIMITED}"),
        Some(&json!({"password": LIMITED_PASSWORD})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

#[test]
fn the_audit_api_answers_as_the_plugin_through_both_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("keyward.toml");
    std::fs::write(
        &config,
        "[audit]\nreadonly = [\"/audit/exclude_sensitive_headers\"]\n",
    )
    .unwrap();
    let server = Server::start_with(Options {
        args: vec!["--config".into(), config.display().to_string()],
        ..Options::default()
    });
    let client = server.client();
    let auth = admin(&server);
    for prefix in ["/_plugins/_security", "/_opendistro/_security"] {
        let get = send(&client, &auth, "GET", &format!("{prefix}/api/audit"), None);
        assert_eq!(get.status, 200, "{}", get.body);
        let doc = get.json();
        assert_eq!(
            doc["_readonly"],
            json!(["/audit/exclude_sensitive_headers"])
        );
        assert_eq!(doc["config"]["enabled"], json!(true));
        let categories = doc["config"]["audit"]["disabled_rest_categories"]
            .as_array()
            .unwrap();
        assert_eq!(categories.len(), 2);
        assert!(
            categories.contains(&json!("AUTHENTICATED"))
                && categories.contains(&json!("GRANTED_PRIVILEGES"))
        );
        assert_eq!(doc["config"]["compliance"]["internal_config"], json!(true));
        assert_eq!(
            get.header("warning").is_some(),
            prefix.starts_with("/_opendistro"),
            "the legacy prefix carries the deprecation warning"
        );

        // The GET body sent back as a PUT: invalid_keys.
        let r = send(
            &client,
            &auth,
            "PUT",
            &format!("{prefix}/api/audit/config"),
            Some(&doc),
        );
        assert_eq!(r.status, 400);
        assert_eq!(
            r.json(),
            json!({"status":"error","reason":"Invalid configuration","invalid_keys":{"keys":"_readonly,config"}})
        );
        // Unknown nested keys and categories: 400, could not parse.
        for bad in [
            json!({"audit": {"nope": true}}),
            json!({"audit": {"disabled_rest_categories": ["INDEX_EVENT"]}}),
            json!({"audit": {"disabled_rest_categories": ["BOGUS"]}}),
        ] {
            let r = send(
                &client,
                &auth,
                "PUT",
                &format!("{prefix}/api/audit/config"),
                Some(&bad),
            );
            assert_eq!(r.status, 400, "{bad}: {}", r.body);
            assert_eq!(
                r.json()["reason"],
                json!("Could not parse content of request.")
            );
        }
        // A read-only path, changed by a user who is not the admin certificate: 409.
        let mut cfg = doc["config"].clone();
        cfg["audit"]["exclude_sensitive_headers"] = json!(false);
        let r = send(
            &client,
            &auth,
            "PUT",
            &format!("{prefix}/api/audit/config"),
            Some(&cfg),
        );
        assert_eq!(r.status, 409, "{}", r.body);
        assert_eq!(
            r.json(),
            json!({"status":"CONFLICT","message":"Attempted to update read-only property."})
        );
        // Other paths change.
        cfg["audit"]["exclude_sensitive_headers"] = json!(true);
        cfg["audit"]["disabled_rest_categories"] = json!(["GRANTED_PRIVILEGES", "AUTHENTICATED"]);
        let r = send(
            &client,
            &auth,
            "PUT",
            &format!("{prefix}/api/audit/config"),
            Some(&cfg),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            r.json(),
            json!({"status":"OK","message":"'config' updated."})
        );
        let again = send(&client, &auth, "GET", &format!("{prefix}/api/audit"), None).json();
        assert_eq!(
            again["config"]["audit"]["disabled_rest_categories"],
            json!(["GRANTED_PRIVILEGES", "AUTHENTICATED"]),
            "categories come back in the order they were PUT"
        );

        // PATCH: paths under /config.
        let patch =
            json!([{"op": "replace", "path": "/config/audit/log_request_body", "value": "false"}]);
        let r = send(
            &client,
            &auth,
            "PATCH",
            &format!("{prefix}/api/audit"),
            Some(&patch),
        );
        assert_eq!(
            r.json(),
            json!({"status":"OK","message":"Resource updated."}),
            "{}",
            r.body
        );
        let r = send(
            &client,
            &auth,
            "PATCH",
            &format!("{prefix}/api/audit"),
            Some(&patch),
        );
        assert_eq!(
            r.json(),
            json!({"status":"OK","message":"No updates required"})
        );
        let back =
            json!([{"op": "replace", "path": "/config/audit/log_request_body", "value": true}]);
        let r = send(
            &client,
            &auth,
            "PATCH",
            &format!("{prefix}/api/audit"),
            Some(&back),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        for bad in ["/test", "/config/test"] {
            let p = json!([{"op": "add", "path": bad, "value": 1}]);
            let r = send(
                &client,
                &auth,
                "PATCH",
                &format!("{prefix}/api/audit"),
                Some(&p),
            );
            assert_eq!(r.status, 400, "{bad}: {}", r.body);
        }
        let p = json!([{"op": "replace", "path": "/config/audit/exclude_sensitive_headers", "value": false}]);
        let r = send(
            &client,
            &auth,
            "PATCH",
            &format!("{prefix}/api/audit"),
            Some(&p),
        );
        assert_eq!(r.status, 409, "{}", r.body);

        // Other methods: 405.
        for (method, path) in [
            ("PUT", "/api/audit"),
            ("POST", "/api/audit"),
            ("DELETE", "/api/audit"),
            ("GET", "/api/audit/config"),
        ] {
            let r = send(
                &client,
                &auth,
                method,
                &format!("{prefix}{path}"),
                Some(&json!({})),
            );
            assert_eq!(r.status, 405, "{method} {path}: {}", r.body);
        }
    }
    // The admin certificate may change a read-only path.
    let cert = server.admin_cert_client();
    let p = json!([{"op": "replace", "path": "/config/audit/exclude_sensitive_headers", "value": false}]);
    let r = cert.request(
        "PATCH",
        "/_plugins/_security/api/audit",
        &[("content-type", "application/json")],
        Some(p.to_string().as_bytes()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // Without credentials: the plugin's 401.
    assert_eq!(server.get("/_plugins/_security/api/audit").status, 401);
}

#[test]
fn failed_denied_and_granted_requests_are_audited_and_filters_suppress_them() {
    let server = Server::start();
    let client = server.client();
    let auth = admin(&server);
    create_limited_user(&server);
    put_audit_config(&server, everything());

    // A failed login: the name given, never the password.
    let r = client.request(
        "GET",
        "/_admin/log/level",
        &[("authorization", &basic("bob", "Wrong-Password-9"))],
        None,
    );
    assert_eq!(r.status, 401);
    let (failed, _) = wait_for(&server, "bob's failed login", is("FAILED_LOGIN", "bob"));
    assert_eq!(failed["audit_format_version"], json!(4));
    assert_eq!(failed["audit_request_origin"], json!("REST"));
    assert_eq!(failed["audit_request_layer"], json!("REST"));
    assert_eq!(failed["audit_rest_request_method"], json!("GET"));
    assert_eq!(
        failed["audit_rest_request_path"],
        json!("/_admin/log/level")
    );
    assert_eq!(failed["audit_request_remote_address"], json!("127.0.0.1"));
    assert_eq!(failed["audit_topic"], json!("audit-authentication"));
    assert!(failed["audit_request_id"].is_string());
    let ts = failed["@timestamp"].as_str().unwrap();
    assert!(
        ts.len() == 29 && ts.ends_with("+00:00") && &ts[10..11] == "T",
        "{ts}"
    );
    assert!(
        failed["audit_rest_request_headers"]
            .get("authorization")
            .is_none()
    );
    // No credentials at all: <NONE>, as the plugin writes it.
    assert_eq!(server.get("/_admin/log/level").status, 401);
    wait_for(&server, "<NONE>", is("FAILED_LOGIN", "<NONE>"));

    // A denied request.
    let limited = basic(LIMITED, LIMITED_PASSWORD);
    let r = send(&client, &limited, "GET", "/_admin/log/level", None);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.json()["errorNum"], json!(403));
    assert_eq!(
        r.json()["errorMessage"],
        json!("you need admin rights for log operations")
    );
    let (denied, _) = wait_for(
        &server,
        "the denied request",
        is("MISSING_PRIVILEGES", LIMITED),
    );
    assert_eq!(
        denied["audit_request_privilege"],
        json!("cluster:admin/keyward/log/level")
    );
    assert_eq!(denied["audit_topic"], json!("audit-authorization"));
    assert_eq!(
        denied["audit_request_effective_user_is_admin"],
        json!(false)
    );

    // A granted request, with its (redacted) body.
    let r = send(
        &client,
        &auth,
        "PUT",
        "/_admin/log/level",
        Some(&json!({"agency": "INFO"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let (granted, _) = wait_for(&server, "the granted request", |v| {
        is("GRANTED_PRIVILEGES", "admin")(v) && v["audit_rest_request_method"] == json!("PUT")
    });
    assert_eq!(
        granted["audit_request_privilege"],
        json!("cluster:admin/keyward/log/level")
    );
    assert_eq!(
        granted["audit_request_body"],
        json!("{\"agency\":\"INFO\"}")
    );
    wait_for(&server, "admin authenticated", is("AUTHENTICATED", "admin"));

    // The admin certificate is an admin.
    let r = server
        .admin_cert_client()
        .request("GET", "/_admin/log/level", &[], None);
    assert_eq!(r.status, 200);
    let (cert, _) = wait_for(&server, "the admin certificate", |v| {
        v["audit_category"] == json!("GRANTED_PRIVILEGES")
            && v["audit_request_effective_user_is_admin"] == json!(true)
    });
    assert_eq!(
        cert["audit_request_effective_user"],
        json!("CN=admin,OU=keyward,O=keyward")
    );

    // A spoofed internal header: 403 and BAD_HEADERS.
    let r = client.request(
        "GET",
        "/_plugins/_security/api/roles",
        &[
            ("authorization", &auth),
            ("_opendistro_security_user", "admin"),
        ],
        None,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    wait_for(&server, "bad headers", |v| {
        v["audit_category"] == json!("BAD_HEADERS")
    });

    // A TLS handshake that fails (plain HTTP on the HTTPS port): SSL_EXCEPTION.
    {
        use std::io::{Read, Write};
        let addr = server.base_url().trim_start_matches("https://").to_string();
        let mut plain = std::net::TcpStream::connect(&addr).unwrap();
        plain
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let _ = plain.write_all(b"GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut sink = Vec::new();
        let _ = plain.read_to_end(&mut sink);
    }
    let (ssl, _) = wait_for(&server, "the failed handshake", |v| {
        v["audit_category"] == json!("SSL_EXCEPTION")
    });
    assert_eq!(ssl["audit_request_remote_address"], json!("127.0.0.1"));
    assert_eq!(ssl["audit_topic"], json!("audit-authentication"));
    assert!(ssl["audit_request_exception_stacktrace"].is_string());

    // exclude_sensitive_headers off: credentials headers are there, never
    // with their value; log_request_body off: no body.
    let mut cfg = everything();
    cfg["audit"]["exclude_sensitive_headers"] = json!(false);
    cfg["audit"]["log_request_body"] = json!(false);
    let before = put_audit_config(&server, cfg);
    let r = send(
        &client,
        &auth,
        "PUT",
        "/_admin/log/level",
        Some(&json!({"agency": "WARNING"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let lines = marker(&server, 10);
    let granted = lines[before..]
        .iter()
        .find(|v| {
            is("GRANTED_PRIVILEGES", "admin")(v) && v["audit_rest_request_method"] == json!("PUT")
        })
        .expect("the granted PUT");
    assert_eq!(
        granted["audit_rest_request_headers"]["authorization"],
        json!(["__SENSITIVE__"])
    );
    assert!(granted.get("audit_request_body").is_none(), "{granted}");
    assert!(!audit_text(&server).contains(&auth["Basic ".len()..]));

    // ignore_requests suppresses the events of the paths it matches, and
    // only those.
    let mut cfg = everything();
    cfg["audit"]["ignore_requests"] = json!(["/_admin/log/*"]);
    let before = put_audit_config(&server, cfg);
    assert_eq!(
        send(&client, &limited, "GET", "/_admin/log/level", None).status,
        403
    );
    assert_eq!(
        send(&client, &limited, "GET", "/_admin/metrics/v2", None).status,
        403
    );
    let lines = marker(&server, 11);
    let limited_paths: Vec<&Value> = lines[before..]
        .iter()
        .filter(|v| v["audit_request_effective_user"] == json!(LIMITED))
        .map(|v| &v["audit_rest_request_path"])
        .collect();
    assert!(
        !limited_paths.contains(&&json!("/_admin/log/level")),
        "an ignored request was audited"
    );
    assert!(
        limited_paths.contains(&&json!("/_admin/metrics/v2")),
        "a request ignore_requests does not match was not audited"
    );

    // ignore_users suppresses the limited user's events.
    let mut cfg = everything();
    cfg["audit"]["ignore_users"] = json!([LIMITED]);
    let before = put_audit_config(&server, cfg);
    assert_eq!(
        send(&client, &limited, "GET", "/_admin/log/level", None).status,
        403
    );
    let lines = marker(&server, 1);
    assert!(
        !lines[before..]
            .iter()
            .any(|v| v["audit_request_effective_user"] == json!(LIMITED)),
        "an ignored user's request was audited"
    );

    // A disabled category suppresses its events.
    let mut cfg = everything();
    cfg["audit"]["disabled_rest_categories"] = json!(["MISSING_PRIVILEGES"]);
    let before = put_audit_config(&server, cfg);
    assert_eq!(
        send(&client, &limited, "GET", "/_admin/log/level", None).status,
        403
    );
    let lines = marker(&server, 2);
    assert!(
        !lines[before..]
            .iter()
            .any(|v| v["audit_category"] == json!("MISSING_PRIVILEGES")),
        "a disabled category was audited"
    );
    // The shipped default leaves GRANTED_PRIVILEGES out.
    let before = put_audit_config(&server, json!({"audit": {}}));
    assert_eq!(
        send(&client, &auth, "GET", "/_admin/log/level", None).status,
        200
    );
    let lines = marker(&server, 3);
    assert!(
        !lines[before..]
            .iter()
            .any(|v| v["audit_category"] == json!("GRANTED_PRIVILEGES"))
    );
}

#[test]
fn an_audit_topic_at_warning_stops_its_events() {
    let server = Server::start();
    let client = server.client();
    let auth = admin(&server);
    create_limited_user(&server);
    put_audit_config(&server, everything());
    let limited = basic(LIMITED, LIMITED_PASSWORD);

    let r = send(
        &client,
        &auth,
        "PUT",
        "/_admin/log/level",
        Some(&json!({"audit-authentication": "WARNING"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["audit-authentication"], json!("WARNING"));
    let before = wait_for_change(&server, "log-levels", 1);
    let r = client.request(
        "GET",
        "/_admin/log/level",
        &[("authorization", &basic("eve", "nope"))],
        None,
    );
    assert_eq!(r.status, 401);
    // A denied request is filed under audit-authorization, still open: the marker.
    assert_eq!(
        send(&client, &limited, "GET", "/_admin/log/level", None).status,
        403
    );
    let (_, lines) = wait_for(
        &server,
        "the denied request",
        is("MISSING_PRIVILEGES", LIMITED),
    );
    assert!(
        !lines[before..]
            .iter()
            .any(|v| v["audit_topic"] == json!("audit-authentication")),
        "audit-authentication at WARNING still wrote events"
    );
    // DEFAULT inherits the global INFO again; DELETE resets everything.
    let r = send(&client, &auth, "DELETE", "/_admin/log/level", None);
    assert_eq!(r.json()["audit-authentication"], json!("INFO"));
    let r = client.request(
        "GET",
        "/_admin/log/level",
        &[("authorization", &basic("eve", "nope"))],
        None,
    );
    assert_eq!(r.status, 401);
    wait_for(&server, "eve after the reset", is("FAILED_LOGIN", "eve"));
}

#[test]
fn the_log_level_api_answers_as_arangodb() {
    let server = Server::start();
    let client = server.client();
    let auth = admin(&server);
    let start = send(&client, &auth, "GET", "/_admin/log/level", None).json();
    assert_eq!(start["general"], json!("INFO"));
    assert_eq!(start["audit-document"], json!("INFO"));
    assert_eq!(start["authorization"], json!("DEFAULT"));
    assert!(start.get("all").is_none());
    for prefix in ["", "/_db/_system"] {
        let path = format!("{prefix}/_admin/log/level");
        let r = send(
            &client,
            &auth,
            "PUT",
            &path,
            Some(&json!({"agency": "DEBUG", "engines": "info", "threads": "warn"})),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        assert_eq!(
            (
                v["agency"].clone(),
                v["engines"].clone(),
                v["threads"].clone()
            ),
            (json!("DEBUG"), json!("INFO"), json!("WARNING"))
        );
        // All or nothing, with ArangoDB's texts.
        let r = send(
            &client,
            &auth,
            "PUT",
            &path,
            Some(&json!({"all": "debug", "invalidTopic": "info"})),
        );
        assert_eq!(r.status, 400);
        assert_eq!(
            r.json(),
            json!({"error": true, "code": 400, "errorNum": 400, "errorMessage": "Failed to update log levels: Unknown log topic invalidTopic"})
        );
        let r = send(
            &client,
            &auth,
            "PUT",
            &path,
            Some(&json!({"general": "invalidlevel"})),
        );
        assert_eq!(
            r.json()["errorMessage"],
            json!(
                "Failed to update log levels: Unknown enum value INVALIDLEVEL at path ['general']"
            )
        );
        assert_eq!(
            send(&client, &auth, "GET", &path, None).json()["agency"],
            json!("DEBUG")
        );
        // A string sets the global level and `general`.
        let r = send(&client, &auth, "PUT", &path, Some(&json!("debug")));
        assert_eq!(r.json()["general"], json!("DEBUG"));
        // withAppenders.
        let r = send(
            &client,
            &auth,
            "GET",
            &format!("{path}?withAppenders=true"),
            None,
        )
        .json();
        assert_eq!(r["appenders"]["-"]["general"], json!("DEBUG"));
        let r = send(
            &client,
            &auth,
            "PUT",
            &format!("{path}?withAppenders=true"),
            Some(
                &json!({"global": {"general": "info"}, "appenders": {"invalidAppender": {"general": "info"}}}),
            ),
        );
        assert_eq!(
            r.json()["errorMessage"],
            json!("Failed to update log levels: Unknown appender invalidAppender")
        );
        // Unparsable JSON; a suffix; another method.
        let r = client.request("PUT", &path, &[("authorization", &auth)], Some(b"{nope"));
        assert_eq!((r.status, r.json()["errorNum"].clone()), (400, json!(600)));
        let r = send(&client, &auth, "GET", &format!("{path}/extra"), None);
        assert_eq!((r.status, r.json()["errorNum"].clone()), (400, json!(601)));
        let r = send(&client, &auth, "POST", &path, Some(&json!({})));
        assert_eq!((r.status, r.json()["errorNum"].clone()), (405, json!(405)));
        // DELETE: back to the startup levels.
        let r = send(&client, &auth, "DELETE", &path, None);
        assert_eq!(r.json(), start);
    }
    let r = send(&client, &auth, "GET", "/_db/other/_admin/log/level", None);
    assert_eq!((r.status, r.json()["errorNum"].clone()), (404, json!(1228)));
    assert_eq!(
        server.get("/_admin/log/level").json()["errorNum"],
        json!(11)
    );
}

/// Every transit and secret operation, then every value the test used is
/// looked for in the audit log, the server's own log (at `debug`), every
/// file of the data dir and every error body the test saw: none may be
/// there.
#[test]
fn no_secret_value_reaches_the_audit_log() {
    let mut server = Server::start_with(Options {
        env: vec![("KEYWARD_LOG".into(), "debug".into())],
        ..Default::default()
    });
    let mut error_bodies: Vec<String> = Vec::new();
    let root = server.root_client();
    let client = server.client();
    let auth = admin(&server);
    put_audit_config(&server, everything());
    let mut secrets: Vec<String> = vec![
        server.root_token(),
        server.admin_password(),
        LIMITED_PASSWORD.to_string(),
        // base64 of the admin's Basic credentials
        admin(&server)["Basic ".len()..].to_string(),
    ];
    create_limited_user(&server);
    let v = |r: Reply| -> Value {
        assert!(r.status < 300, "{}", r.body);
        if r.body.is_empty() {
            Value::Null
        } else {
            r.json()
        }
    };
    let post = |path: &str, body: Value| {
        v(root.request(
            "POST",
            path,
            &[("content-type", "application/json")],
            Some(body.to_string().as_bytes()),
        ))
    };

    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let plaintext = "plaintext-sentinel-7f3a9c";
    secrets.push(plaintext.into());
    secrets.push(b64(plaintext));
    post(
        "/v1/transit/keys/audited",
        json!({"exportable": true, "allow_plaintext_backup": true}),
    );
    let ct = post(
        "/v1/transit/encrypt/audited",
        json!({"plaintext": b64(plaintext)}),
    )["data"]["ciphertext"]
        .as_str()
        .unwrap()
        .to_string();
    secrets.push(ct.clone());
    let batch = post(
        "/v1/transit/encrypt/audited",
        json!({"batch_input": [{"plaintext": b64("batch-sentinel-1")}]}),
    );
    secrets.push(b64("batch-sentinel-1"));
    secrets.push(
        batch["data"]["batch_results"][0]["ciphertext"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    // A body over 64 KiB is not parsed for the log: its size stands in.
    let big: Vec<Value> = (0..100)
        .map(|i| json!({"plaintext": b64(&format!("big-sentinel-{i:03}-{}", "z".repeat(1000)))}))
        .collect();
    secrets.push(b64(&format!("big-sentinel-000-{}", "z".repeat(1000))));
    post("/v1/transit/encrypt/audited", json!({ "batch_input": big }));
    post("/v1/transit/decrypt/audited", json!({"ciphertext": ct}));
    post("/v1/transit/keys/audited/rotate", json!({}));
    let rewrapped =
        post("/v1/transit/rewrap/audited", json!({"ciphertext": ct}))["data"]["ciphertext"]
            .as_str()
            .unwrap()
            .to_string();
    secrets.push(rewrapped);
    let dk = post("/v1/transit/datakey/plaintext/audited", json!({}));
    secrets.push(dk["data"]["plaintext"].as_str().unwrap().to_string());
    secrets.push(dk["data"]["ciphertext"].as_str().unwrap().to_string());
    let mac = post(
        "/v1/transit/hmac/audited",
        json!({"input": b64("hmac-sentinel")}),
    )["data"]["hmac"]
        .as_str()
        .unwrap()
        .to_string();
    secrets.push(b64("hmac-sentinel"));
    secrets.push(mac.clone());
    post(
        "/v1/transit/verify/audited",
        json!({"input": b64("hmac-sentinel"), "hmac": mac}),
    );
    post("/v1/transit/hash", json!({"input": b64("hash-sentinel")}));
    secrets.push(b64("hash-sentinel"));
    let random = post("/v1/transit/random/32", json!({}))["data"]["random_bytes"]
        .as_str()
        .unwrap()
        .to_string();
    secrets.push(random);
    let export = v(root.request(
        "GET",
        "/v1/transit/export/encryption-key/audited",
        &[],
        None,
    ));
    for (_, k) in export["data"]["keys"].as_object().unwrap() {
        secrets.push(k.as_str().unwrap().to_string());
    }
    let backup = v(root.request("GET", "/v1/transit/backup/audited", &[], None))["data"]["backup"]
        .as_str()
        .unwrap()
        .to_string();
    secrets.push(backup.clone());
    post("/v1/transit/restore/restored", json!({"backup": backup}));
    post(
        "/v1/transit/keys/audited/config",
        json!({"deletion_allowed": true, "min_decryption_version": 2, "min_encryption_version": 2}),
    );
    post(
        "/v1/transit/keys/audited/trim",
        json!({"min_available_version": 2}),
    );
    v(root.request("DELETE", "/v1/transit/keys/audited", &[], None));

    // Vault ACL policies and tokens: created, used, looked up, renewed,
    // revoked; the tokens and their accessors never reach the log.
    let put = |path: &str, body: Value| {
        v(root.request(
            "PUT",
            path,
            &[("content-type", "application/json")],
            Some(body.to_string().as_bytes()),
        ))
    };
    let policy = r#"path "transit/encrypt/audited2" { capabilities = ["update"] }"#;
    put(
        "/v1/sys/policies/acl/audited-policy",
        json!({ "policy": policy }),
    );
    put(
        "/v1/sys/policies/acl/audited-policy",
        json!({ "policy": format!("{policy}\npath \"transit/keys/*\" {{ capabilities = [\"read\"] }}") }),
    );
    post("/v1/transit/keys/audited2", json!({}));
    let created = post(
        "/v1/auth/token/create",
        json!({"policies": ["audited-policy"], "display_name": "ci-audited", "ttl": "1h"}),
    );
    let child = created["auth"]["client_token"]
        .as_str()
        .unwrap()
        .to_string();
    let accessor = created["auth"]["accessor"].as_str().unwrap().to_string();
    secrets.push(child.clone());
    secrets.push(accessor.clone());
    // The child token at work, in the header.
    let child_client = server.client().with_token(&child);
    let r = child_client.request(
        "POST",
        "/v1/transit/encrypt/audited2",
        &[("content-type", "application/json")],
        Some(
            json!({"plaintext": b64("child-sentinel")})
                .to_string()
                .as_bytes(),
        ),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    secrets.push(b64("child-sentinel"));
    // Denied by its policy: MISSING_PRIVILEGES, under its display name.
    let r = child_client.request("GET", "/v1/sys/policies/acl", &[], None);
    assert_eq!(r.status, 403, "{}", r.body);
    error_bodies.push(r.body);
    post("/v1/auth/token/lookup", json!({ "token": child }));
    let r = root.request(
        "GET",
        &format!("/v1/auth/token/lookup?token={child}"),
        &[],
        None,
    );
    assert!(r.status < 500, "{}", r.body);
    post(
        "/v1/auth/token/lookup-accessor",
        json!({ "accessor": accessor }),
    );
    post(
        "/v1/auth/token/renew",
        json!({"token": child, "increment": "2h"}),
    );
    post("/v1/auth/token/revoke", json!({ "token": child }));
    let orphan = post(
        "/v1/auth/token/create-orphan",
        json!({"display_name": "orphan-audited"}),
    );
    let orphan_accessor = orphan["auth"]["accessor"].as_str().unwrap().to_string();
    secrets.push(orphan["auth"]["client_token"].as_str().unwrap().to_string());
    secrets.push(orphan_accessor.clone());
    post(
        "/v1/auth/token/revoke-accessor",
        json!({ "accessor": orphan_accessor }),
    );
    // A userpass login (the password in the body), then its token revoked by itself.
    let login = v(client.request(
        "POST",
        "/v1/auth/userpass/login/admin",
        &[("content-type", "application/json")],
        Some(
            json!({"password": server.admin_password()})
                .to_string()
                .as_bytes(),
        ),
    ));
    let login_token = login["auth"]["client_token"].as_str().unwrap().to_string();
    secrets.push(login_token.clone());
    secrets.push(login["auth"]["accessor"].as_str().unwrap().to_string());
    let login_client = server.client().with_token(&login_token);
    assert_eq!(
        login_client
            .request("POST", "/v1/auth/token/revoke-self", &[], None)
            .status,
        204
    );
    let wrong = "Wrong-userpass-Password-3";
    secrets.push(wrong.into());
    let r = client.request(
        "POST",
        "/v1/auth/userpass/login/admin",
        &[("content-type", "application/json")],
        Some(json!({ "password": wrong }).to_string().as_bytes()),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    error_bodies.push(r.body);
    v(root.request("DELETE", "/v1/sys/policies/acl/audited-policy", &[], None));

    // Secrets.
    let value = "secret-value-sentinel-42";
    secrets.push(value.into());
    let s = |method: &str, path: &str, body: Option<Value>| {
        v(send(
            &client,
            &auth,
            method,
            &format!("/rest/secrets/1.0{path}"),
            body.as_ref(),
        ))
    };
    s("PUT", "/secrets/db.password", Some(json!({"value": value})));
    assert_eq!(
        s("GET", "/secrets/db.password", None)["value"],
        json!(value)
    );
    s(
        "POST",
        "/secrets",
        Some(json!({"secrets": {"bulk.one": "bulk-sentinel-1", "bulk.two": "bulk-sentinel-2"}})),
    );
    secrets.push("bulk-sentinel-1".into());
    secrets.push("bulk-sentinel-2".into());
    s("POST", "/keys/rotate", None);
    assert_eq!(
        s("GET", "/secrets/bulk.two", None)["value"],
        json!("bulk-sentinel-2")
    );
    s("DELETE", "/keys/inactive", None);
    s("DELETE", "/secrets/db.password", None);
    // A password change of a user.
    let new_password = "Zr8$wQ4!nLp6Vy-changed";
    secrets.push(new_password.into());
    let r = send(
        &client,
        &basic(LIMITED, LIMITED_PASSWORD),
        "PUT",
        "/_plugins/_security/api/account",
        Some(&json!({"current_password": LIMITED_PASSWORD, "password": new_password})),
    );
    assert_eq!(r.status, 200, "{}", r.body);

    // Mistakes carrying secrets: the refusals do not echo them.
    let bad_b64 = "bad-b64-sentinel !!";
    let bad_ct = format!("vault:v1:{}", b64("garbage-ciphertext-sentinel"));
    let weak = "weak-sentinel";
    let wrong_current = "Wrong-current-sentinel-9";
    secrets.extend([
        bad_b64.to_string(),
        bad_ct.clone(),
        weak.to_string(),
        wrong_current.to_string(),
    ]);
    for (path, body) in [
        (
            "/v1/transit/encrypt/audited2",
            json!({ "plaintext": bad_b64 }),
        ),
        (
            "/v1/transit/decrypt/audited2",
            json!({ "ciphertext": bad_ct }),
        ),
        (
            "/v1/transit/encrypt/audited2",
            json!({"batch_input": [{"plaintext": bad_b64}]}),
        ),
    ] {
        let r = root.request(
            "POST",
            path,
            &[("content-type", "application/json")],
            Some(body.to_string().as_bytes()),
        );
        assert!((400..500).contains(&r.status), "{path}: {}", r.status);
        error_bodies.push(r.body);
    }
    let r = send(
        &client,
        &auth,
        "PUT",
        "/_plugins/_security/api/internalusers/weakling",
        // An unknown key makes it a refusal; the password is not echoed.
        Some(&json!({ "password": weak, "not_a_field": true })),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    error_bodies.push(r.body);
    let r = send(
        &client,
        &basic(LIMITED, new_password),
        "PUT",
        "/_plugins/_security/api/account",
        Some(&json!({"current_password": wrong_current, "password": "Another-Strong-Pw-77!"})),
    );
    assert!((400..500).contains(&r.status), "{}", r.body);
    error_bodies.push(r.body);
    for body in &error_bodies {
        for s in &secrets {
            assert!(
                !body.contains(s.as_str()),
                "{s:?} is in an error body: {body}"
            );
        }
    }

    // Everything is written by the time the server has stopped.
    assert!(server.stop().success());
    let log = std::fs::read_to_string(server.data_dir.join("audit.log")).unwrap();
    for s in &secrets {
        assert!(!log.contains(s.as_str()), "{s:?} is in the audit log");
    }
    // The server's own log, at debug level.
    let own_log = server.stderr();
    assert!(
        own_log.contains("keyward::request"),
        "the log was written at all"
    );
    for s in &secrets {
        assert!(
            !own_log.contains(s.as_str()),
            "{s:?} is in the server's log"
        );
    }
    // Every file of the data dir, as bytes (the store, the key store, the
    // TLS files, the audit log).
    for s in &secrets {
        if let Some(file) = keyward_tests::dir_contains(&server.data_dir, s.as_bytes()) {
            panic!("{s:?} is in {file}");
        }
    }
    // And the changes are there, by name.
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let changed = |doc: &str, action: &str, name: &str| {
        lines.iter().any(|v| {
            v["audit_category"] == json!("COMPLIANCE_INTERNAL_CONFIG_WRITE")
                && v["audit_trace_doc_id"] == json!(doc)
                && v["audit_compliance_action"] == json!(action)
                && v["audit_trace_resources"]
                    .as_array()
                    .is_some_and(|r| r.contains(&json!(name)))
        })
    };
    for (doc, action, name) in [
        ("transit/keys", "create", "transit/audited"),
        ("transit/keys", "rotate", "transit/audited"),
        ("transit/keys", "config", "transit/audited"),
        ("transit/keys", "trim", "transit/audited"),
        ("transit/keys", "delete", "transit/audited"),
        ("transit/keys", "restore", "transit/restored"),
        ("secrets", "create", "db.password"),
        ("secrets", "delete", "db.password"),
        ("secrets", "update", "bulk.one"),
        ("internalusers", "update", LIMITED),
        ("audit", "update", "config"),
        ("sys/policies/acl", "create", "audited-policy"),
        ("sys/policies/acl", "update", "audited-policy"),
        ("sys/policies/acl", "delete", "audited-policy"),
        ("auth/token", "create", "token-ci-audited"),
        ("auth/token", "update", "token-ci-audited"),
        ("auth/token", "delete", "token-ci-audited"),
        ("auth/token", "create", "token-orphan-audited"),
        ("auth/token", "delete", "token-orphan-audited"),
        ("auth/token", "create", "userpass-admin"),
        ("auth/token", "delete", "userpass-admin"),
    ] {
        assert!(
            changed(doc, action, name),
            "no {action} of {doc} {name} in the audit log"
        );
    }
    assert!(
        lines
            .iter()
            .any(|v| v["audit_trace_doc_id"] == json!("secrets/keys")
                && v["audit_compliance_action"] == json!("rotate"))
    );
    // Token changes are filed under audit-database; the userpass login
    // and the child token's refusal are request events.
    assert!(
        lines
            .iter()
            .any(|v| v["audit_trace_doc_id"] == json!("auth/token")
                && v["audit_topic"] == json!("audit-database"))
    );
    let login_path = json!("/v1/auth/userpass/login/admin");
    assert!(
        lines
            .iter()
            .any(|v| v["audit_category"] == json!("AUTHENTICATED")
                && v["audit_request_effective_user"] == json!("admin")
                && v["audit_rest_request_path"] == login_path)
    );
    assert!(
        lines
            .iter()
            .any(|v| v["audit_category"] == json!("FAILED_LOGIN")
                && v["audit_request_effective_user"] == json!("admin")
                && v["audit_rest_request_path"] == login_path)
    );
    assert!(
        lines
            .iter()
            .any(|v| v["audit_category"] == json!("MISSING_PRIVILEGES")
                && v["audit_request_effective_user"] == json!("token-ci-audited")
                && v["audit_rest_request_path"] == json!("/v1/sys/policies/acl"))
    );
    assert!(
        lines.iter().any(|v| v["audit_request_body"]
            .as_str()
            .is_some_and(|b| b.starts_with('<') && b.ends_with(" bytes, not logged>"))),
        "the large batch's body is summarised"
    );
    // Bodies of Vault requests keep their shape, not their values.
    let granted_create = lines
        .iter()
        .find(|v| {
            v["audit_category"] == json!("GRANTED_PRIVILEGES")
                && v["audit_rest_request_path"] == json!("/v1/auth/token/create")
        })
        .expect("the token creation was granted and audited");
    assert_eq!(
        granted_create["audit_request_body"],
        json!(
            r#"{"display_name":"__SENSITIVE__","policies":["__SENSITIVE__"],"ttl":"__SENSITIVE__"}"#
        )
    );
}

#[test]
fn the_metrics_show_the_audit_queue() {
    let server = Server::start();
    let r = send(
        &server.client(),
        &admin(&server),
        "GET",
        "/_admin/metrics/v2",
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    for name in [
        "keyward_audit_events_written_total",
        "keyward_audit_events_dropped_total 0",
        "keyward_audit_queue_capacity 10000",
        "keyward_audit_log_enabled 1",
    ] {
        assert!(r.body.contains(name), "{name} missing:\n{}", r.body);
    }
}

fn metric(server: &Server, name: &str) -> u64 {
    let r = send(
        &server.client(),
        &admin(server),
        "GET",
        "/_admin/metrics/v2",
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name}:\n{}", r.body))
}

/// A queue of one event, flooded: requests are never slowed down, the
/// events that do not fit are dropped, counted in the metrics, and every
/// drop is reported in the audit log itself.
#[test]
fn a_full_audit_queue_drops_counts_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("keyward.toml");
    std::fs::write(
        &config,
        "[audit]\nqueue_capacity = 1\nsync_interval_ms = 50\n",
    )
    .unwrap();
    let mut server = Server::start_with(Options {
        args: vec!["--config".into(), config.display().to_string()],
        ..Options::default()
    });
    assert_eq!(metric(&server, "keyward_audit_queue_capacity"), 1);
    // Every category on: two events (AUTHENTICATED, GRANTED_PRIVILEGES) per request.
    let r = send(
        &server.client(),
        &admin(&server),
        "PUT",
        "/_plugins/_security/api/audit/config",
        Some(&everything()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let auth = admin(&server);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            let client = server.client();
            let auth = auth.clone();
            scope.spawn(move || {
                for _ in 0..250 {
                    let r = send(&client, &auth, "GET", "/_admin/log/level", None);
                    assert_eq!(r.status, 200, "{}", r.body);
                }
            });
        }
    });
    let dropped = metric(&server, "keyward_audit_events_dropped_total");
    assert!(dropped > 0, "a queue of one never overflowed");
    assert_eq!(metric(&server, "keyward_audit_events_failed_total"), 0);

    assert!(server.stop().success());
    let lines = audit_lines(&server);
    let overflow: Vec<&Value> = lines
        .iter()
        .filter(|v| v["audit_category"] == json!("AUDIT_QUEUE_OVERFLOW"))
        .collect();
    let reported: u64 = overflow
        .iter()
        .map(|v| v["audit_dropped_events"].as_u64().unwrap())
        .sum();
    // The metric was read before the last requests (its own) were audited.
    assert!(
        reported >= dropped,
        "{reported} reported, {dropped} counted"
    );
    let last = overflow.last().unwrap();
    assert_eq!(last["audit_dropped_events_total"], json!(reported));
    assert_eq!(last["audit_request_origin"], json!("LOCAL"));
    assert_eq!(last["audit_format_version"], json!(4));
    // Every line is whole JSON (audit_lines parsed them), and the written
    // events plus the dropped ones are all of them: 2 per request.
    let events = lines
        .iter()
        .filter(|v| {
            v["audit_rest_request_path"] == json!("/_admin/log/level")
                && v["audit_rest_request_method"] == json!("GET")
        })
        .count() as u64;
    assert!(events < 2000, "nothing was dropped from the flood");
    assert!(
        events + reported >= 2000,
        "{events} written + {reported} dropped"
    );
}

/// An acknowledged change of the audit configuration survives `kill -9`;
/// the audit log stays whole JSON lines, and a restart appends to it.
#[test]
fn an_acknowledged_audit_configuration_survives_kill_9() {
    let mut server = Server::start();
    let mut cfg = everything();
    cfg["audit"]["ignore_requests"] = json!(["/_admin/metrics*"]);
    cfg["audit"]["ignore_users"] = json!(["kill9-ignored"]);
    let r = send(
        &server.client(),
        &admin(&server),
        "PUT",
        "/_plugins/_security/api/audit/config",
        Some(&cfg),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    server.kill9();
    server.restart().unwrap();
    let doc = send(
        &server.client(),
        &admin(&server),
        "GET",
        "/_plugins/_security/api/audit",
        None,
    )
    .json();
    assert_eq!(
        doc["config"]["audit"]["ignore_requests"],
        json!(["/_admin/metrics*"])
    );
    assert_eq!(
        doc["config"]["audit"]["ignore_users"],
        json!(["kill9-ignored"])
    );
    assert_eq!(
        doc["config"]["audit"]["disabled_rest_categories"],
        json!([])
    );
    // The restarted server writes under it, after what was there.
    marker(&server, 9);
    for line in audit_text(&server).lines() {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
}
