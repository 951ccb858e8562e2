//! The Atlassian AES key management API and keyward's secret store against
//! the real binary: rotation with 10,000 secrets, inactive keys listed then
//! deleted, and a rotation killed with SIGKILL half-way that leaves every
//! secret readable after a restart.

use std::time::Duration;

use keyward_tests::{Client, Reply, Server, Value, basic, json};

const N: usize = 10_000;

fn admin(server: &Server) -> String {
    basic("admin", &server.admin_password())
}

fn send(client: &Client, auth: &str, method: &str, path: &str, body: Option<&Value>) -> Reply {
    let text = body.map(Value::to_string);
    client.request(
        method,
        &format!("/rest/secrets/1.0{path}"),
        &[
            ("authorization", auth),
            ("content-type", "application/json"),
        ],
        text.as_deref().map(str::as_bytes),
    )
}

fn value_of(i: usize) -> String {
    format!("value-{i}-{}", "x".repeat(i % 17))
}

fn import(server: &Server, n: usize) {
    let client = server.client();
    let auth = admin(server);
    for start in (0..n).step_by(5_000) {
        let secrets: serde_json::Map<String, Value> = (start..(start + 5_000).min(n))
            .map(|i| (format!("s{i:05}"), json!(value_of(i))))
            .collect();
        let r = send(
            &client,
            &auth,
            "POST",
            "/secrets",
            Some(&json!({ "secrets": secrets })),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }
}

/// Reads every secret back over HTTPS, on four connections.
fn check_all(server: &Server, n: usize) {
    let auth = admin(server);
    std::thread::scope(|scope| {
        for t in 0..4 {
            let client = server.client();
            let auth = auth.clone();
            scope.spawn(move || {
                for i in (t..n).step_by(4) {
                    let r = send(&client, &auth, "GET", &format!("/secrets/s{i:05}"), None);
                    assert_eq!(r.status, 200, "s{i:05}: {}", r.body);
                    assert_eq!(r.json()["value"], json!(value_of(i)), "s{i:05}");
                }
            });
        }
    });
}

#[test]
fn rotation_of_10000_secrets_keeps_every_value_and_retires_the_old_key() {
    let server = Server::start();
    let client = server.client();
    let auth = admin(&server);

    // Without credentials: 401 in Atlassian's shape.
    let r = client.request("POST", "/rest/secrets/1.0/keys/rotate", &[], None);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["status"], json!("UNAUTHORIZED"));
    assert!(r.json()["message"].is_string());

    // One secret: created, replaced, read, listed; bad input is a 400.
    let r = send(
        &client,
        &auth,
        "PUT",
        "/secrets/db.password",
        Some(&json!({"value": "first"})),
    );
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (201, json!("CREATED")),
        "{}",
        r.body
    );
    let r = send(
        &client,
        &auth,
        "PUT",
        "/secrets/db.password",
        Some(&json!({"value": "second"})),
    );
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (200, json!("UPDATED"))
    );
    let r = send(&client, &auth, "GET", "/secrets/db.password", None);
    assert_eq!(r.json(), json!({"name": "db.password", "value": "second"}));
    for (path, body) in [
        ("/secrets/db.password", json!({"value": 1})),
        ("/secrets/db.password", json!({"value": "v", "extra": 1})),
        ("/secrets/bad%20name", json!({"value": "v"})),
    ] {
        let r = send(&client, &auth, "PUT", path, Some(&body));
        assert_eq!(r.status, 400, "{path} {body}: {}", r.body);
        assert_eq!(r.json()["status"], json!("BAD_REQUEST"));
        assert!(
            !r.body.contains("\"v\""),
            "values are not echoed: {}",
            r.body
        );
    }
    assert_eq!(
        send(&client, &auth, "GET", "/secrets/none", None).status,
        404
    );

    import(&server, N);
    let names = send(&client, &auth, "GET", "/secrets", None).json();
    assert_eq!(names["secrets"].as_array().unwrap().len(), N + 1);
    assert_eq!(
        send(&client, &auth, "GET", "/keys/inactive", None).json(),
        json!({"inactiveKeys": []})
    );

    let r = send(&client, &auth, "POST", "/keys/rotate", None);
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.json();
    assert_eq!(body["status"], json!("SUCCESS"));
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("10001 secret(s) re-encrypted"),
        "{body}"
    );
    check_all(&server, N);
    assert_eq!(
        send(&client, &auth, "GET", "/secrets/db.password", None).json()["value"],
        json!("second")
    );

    let inactive = send(&client, &auth, "GET", "/keys/inactive", None).json();
    assert_eq!(inactive, json!({"inactiveKeys": ["aes-key-0001"]}));
    let r = send(&client, &auth, "DELETE", "/keys/inactive", None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], json!("SUCCESS"));
    assert_eq!(
        send(&client, &auth, "GET", "/keys/inactive", None).json(),
        json!({"inactiveKeys": []})
    );
    let r = send(&client, &auth, "DELETE", "/keys/inactive", None);
    assert_eq!(
        r.json()["message"],
        json!("There are no inactive keys to delete.")
    );

    // Still every value, after a restart too.
    let mut server = server;
    server.restart().unwrap();
    check_all(&server, N);
    let client = server.client();
    let auth = admin(&server);
    let r = send(&client, &auth, "DELETE", "/secrets/db.password", None);
    assert_eq!(r.json()["status"], json!("DELETED"));
    assert_eq!(
        send(&client, &auth, "DELETE", "/secrets/db.password", None).status,
        404
    );
}

#[test]
fn a_rotation_killed_half_way_leaves_every_secret_readable() {
    let mut server = Server::start();
    import(&server, N);
    // Kill at a different moment each round: before, during and after the
    // durable write of the rotation.
    for (round, delay_ms) in [5u64, 30, 80, 200].into_iter().enumerate() {
        let base = server.base_url();
        let ca = server.ca_path();
        let auth = admin(&server);
        let rotation = std::thread::spawn(move || {
            let client = Client::new(base, Some(ca));
            // The connection dies with the server; any answer is fine.
            let _ = client.try_request(
                "POST",
                "/rest/secrets/1.0/keys/rotate",
                &[("authorization", auth.as_str())],
            );
        });
        std::thread::sleep(Duration::from_millis(delay_ms));
        server.kill9();
        let _ = rotation.join();
        server
            .restart()
            .unwrap_or_else(|e| panic!("round {round}: restart: {}", e.stderr));
        check_all(&server, N);
        let inactive = send(
            &server.client(),
            &admin(&server),
            "GET",
            "/keys/inactive",
            None,
        )
        .json();
        let n = inactive["inactiveKeys"].as_array().unwrap().len();
        assert!(n <= round + 1, "round {round}: {inactive}");
    }
}

/// Secrets acknowledged one by one (PUT and DELETE) survive `kill -9`
/// right after the last answer, twenty times.
#[test]
fn acknowledged_secret_writes_survive_kill_9() {
    let mut server = Server::start();
    let mut expected: std::collections::BTreeMap<String, Option<String>> = Default::default();
    for round in 0..20 {
        let client = server.client();
        let auth = admin(&server);
        for i in 0..10 {
            let name = format!("k{round:02}-{i}");
            let value = format!("v-{round}-{i}");
            let r = send(
                &client,
                &auth,
                "PUT",
                &format!("/secrets/{name}"),
                Some(&json!({ "value": value })),
            );
            assert!(r.status == 201 || r.status == 200, "{}", r.body);
            expected.insert(name, Some(value));
        }
        // One of the previous round's secrets replaced, one deleted.
        if round > 0 {
            let replaced = format!("k{:02}-0", round - 1);
            let r = send(
                &client,
                &auth,
                "PUT",
                &format!("/secrets/{replaced}"),
                Some(&json!({"value": "replaced"})),
            );
            assert_eq!(r.status, 200, "{}", r.body);
            expected.insert(replaced, Some("replaced".into()));
            let deleted = format!("k{:02}-1", round - 1);
            let r = send(
                &client,
                &auth,
                "DELETE",
                &format!("/secrets/{deleted}"),
                None,
            );
            assert_eq!(r.status, 200, "{}", r.body);
            expected.insert(deleted, None);
        }
        server.kill9();
        server
            .restart()
            .unwrap_or_else(|e| panic!("round {round}: {}", e.stderr));
        let client = server.client();
        let auth = admin(&server);
        for (name, value) in &expected {
            let r = send(&client, &auth, "GET", &format!("/secrets/{name}"), None);
            match value {
                Some(v) => {
                    assert_eq!(r.status, 200, "round {round}, {name}: {}", r.body);
                    assert_eq!(r.json()["value"], json!(v), "round {round}, {name}");
                }
                None => assert_eq!(r.status, 404, "round {round}, {name}: {}", r.body),
            }
        }
    }
}
