//! The transit engine, black-box: the real binary in dev mode, over HTTPS.
//! Vault's status codes and texts for bad input, mounts, persistence across
//! restarts, and no acknowledged key write lost to `kill -9`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use keyward_tests::{Options, Reply, Server, Value, json};

/// A Vault request with the root token.
fn vault(server: &Server, method: &str, path: &str, body: Option<Value>) -> Reply {
    let token = server.root_token();
    let bytes = body.map(|b| b.to_string().into_bytes());
    server.client().request(
        method,
        &format!("/v1/{path}"),
        &[
            ("X-Vault-Token", &token),
            ("Content-Type", "application/json"),
        ],
        bytes.as_deref(),
    )
}

fn ok(reply: &Reply) -> Value {
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["data"].clone()
}

/// Asserts a Vault error: status and the one message.
fn error(reply: &Reply, status: u16, message: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(
        reply.json(),
        json!({ "errors": [message] }),
        "status {status}"
    );
}

#[test]
fn bad_input_answers_with_vaults_texts() {
    let server = Server::start();
    ok(&vault(&server, "POST", "transit/keys/k", Some(json!({}))));
    ok(&vault(
        &server,
        "POST",
        "transit/keys/derived",
        Some(json!({"derived": true})),
    ));

    // Bad base64.
    error(
        &vault(
            &server,
            "POST",
            "transit/encrypt/k",
            Some(json!({"plaintext": "%%%"})),
        ),
        400,
        "illegal base64 data at input byte 0",
    );
    error(
        &vault(
            &server,
            "POST",
            "transit/decrypt/k",
            Some(json!({"ciphertext": "vault:v1:!!!!"})),
        ),
        400,
        "invalid ciphertext: could not decode base64",
    );
    error(
        &vault(
            &server,
            "POST",
            "transit/hash",
            Some(json!({"input": "not*base64"})),
        ),
        400,
        "unable to decode input as base64: illegal base64 data at input byte 3",
    );
    // Unknown key type.
    error(
        &vault(
            &server,
            "POST",
            "transit/keys/x",
            Some(json!({"type": "aes512"})),
        ),
        400,
        "unknown key type aes512",
    );
    error(
        &vault(
            &server,
            "POST",
            "transit/encrypt/new",
            Some(json!({"plaintext": "eA==", "type": "ecdsa-p256"})),
        ),
        400,
        "key type ecdsa-p256 not supported for this operation",
    );
    // Wrong versions.
    error(
        &vault(
            &server,
            "POST",
            "transit/encrypt/k",
            Some(json!({"plaintext": "eA==", "key_version": 2})),
        ),
        400,
        "requested version for encryption is higher than the latest key version",
    );
    error(
        &vault(
            &server,
            "POST",
            "transit/decrypt/k",
            Some(json!({"ciphertext": "vault:v2:AAAA"})),
        ),
        400,
        "invalid ciphertext: version is too new",
    );
    error(
        &vault(
            &server,
            "POST",
            "transit/keys/k/config",
            Some(json!({"min_decryption_version": 3})),
        ),
        400,
        "cannot set min decryption version of 3, latest key version is 1",
    );
    // Missing context on a derived key.
    error(
        &vault(
            &server,
            "POST",
            "transit/encrypt/derived",
            Some(json!({"plaintext": "eA=="})),
        ),
        400,
        "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key",
    );
    // Empty batch.
    error(
        &vault(
            &server,
            "POST",
            "transit/encrypt/k",
            Some(json!({"batch_input": []})),
        ),
        400,
        "missing batch input to process",
    );
    // A caller's mistake Vault answers with 500 is 400 here, same text.
    error(
        &vault(
            &server,
            "POST",
            "transit/encrypt/k",
            Some(json!({"batch_input": "x"})),
        ),
        400,
        "failed to parse batch input: source data must be an array or slice, got string",
    );
    error(
        &vault(&server, "GET", "transit/backup/k", None),
        400,
        "exporting is disallowed on the policy",
    );
    // Coercion and JSON errors.
    error(
        &vault(
            &server,
            "POST",
            "transit/keys/k/config",
            Some(json!({"min_decryption_version": "two"})),
        ),
        400,
        "Field validation failed: error converting input for field \"min_decryption_version\": '' cannot parse value as 'int': strconv.ParseInt: invalid syntax",
    );
    let token = server.root_token();
    let broken = server.client().request(
        "POST",
        "/v1/transit/encrypt/k",
        &[("X-Vault-Token", &token)],
        Some(b"{not json"),
    );
    error(&broken, 400, "error parsing JSON");

    // Unknown paths and verbs, and reads of nothing.
    let reply = vault(&server, "GET", "transit/keys/nope", None);
    assert_eq!((reply.status, reply.json()), (404, json!({"errors": []})));
    error(
        &vault(
            &server,
            "POST",
            "transit/encrypt/trailing-dot.",
            Some(json!({})),
        ),
        404,
        "1 error occurred:\n\t* unsupported path\n\n",
    );
    error(
        &vault(&server, "DELETE", "transit/encrypt/k", None),
        405,
        "1 error occurred:\n\t* unsupported operation\n\n",
    );
    error(
        &vault(&server, "GET", "nomount/keys/x", None),
        404,
        "no handler for route \"nomount/keys/x\". route entry not found.",
    );
    // No token, or a wrong one: Vault's 403.
    for headers in [vec![], vec![("X-Vault-Token", "not-the-token")]] {
        let reply = server
            .client()
            .request("GET", "/v1/transit/keys/k", &headers, None);
        error(&reply, 403, "permission denied");
    }
}

#[test]
fn a_body_over_the_limit_is_413_before_it_is_read() {
    let server = Server::start_with(Options {
        tls: false,
        ..Options::default()
    });
    let token = server.root_token();
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let head = format!(
        "POST /v1/transit/encrypt/k HTTP/1.1\r\nHost: x\r\nX-Vault-Token: {token}\r\nContent-Length: {}\r\n\r\n",
        32 * 1024 * 1024 + 1
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
        if answer.ends_with(b"}") {
            break;
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.ends_with(r#"{"errors":["http: request body too large"]}"#),
        "{answer}"
    );
}

#[test]
fn batches_keep_order_references_and_statuses() {
    let server = Server::start();
    let reply = vault(
        &server,
        "POST",
        "transit/encrypt/b",
        Some(json!({"batch_input": [
            {"plaintext": "b25l", "reference": "r1"},
            {"plaintext": "%%", "reference": "r2"},
            {"plaintext": "dGhyZWU=", "reference": "r3"},
        ]})),
    );
    assert_eq!(reply.status, 400, "a failed item makes it 400");
    let body = reply.json();
    assert!(body["request_id"].is_string(), "still the success envelope");
    let results = body["data"]["batch_results"].as_array().unwrap().clone();
    assert_eq!(
        results[1],
        json!({"error": "illegal base64 data at input byte 0", "reference": "r2"})
    );
    assert_eq!(results[0]["reference"], "r1");
    let with_code = vault(
        &server,
        "POST",
        "transit/encrypt/b",
        Some(
            json!({"partial_failure_response_code": 207, "batch_input": [
                {"plaintext": "b25l"}, {"plaintext": "%%"}
            ]}),
        ),
    );
    assert_eq!(with_code.status, 207);

    let decrypted = vault(
        &server,
        "POST",
        "transit/decrypt/b",
        Some(json!({"batch_input": [
            {"ciphertext": results[2]["ciphertext"], "reference": "x"},
            {"ciphertext": "xxx", "reference": "y"},
            {"ciphertext": results[0]["ciphertext"], "reference": "z"},
        ]})),
    );
    assert_eq!(decrypted.status, 400);
    assert_eq!(
        decrypted.json()["data"]["batch_results"],
        json!([
            {"plaintext": "dGhyZWU=", "reference": "x"},
            {"plaintext": "", "error": "invalid ciphertext: no prefix", "reference": "y"},
            {"plaintext": "b25l", "reference": "z"},
        ])
    );
    // rewrap batches answer 200 whatever the items say.
    let rewrapped = vault(
        &server,
        "POST",
        "transit/rewrap/b",
        Some(json!({"batch_input": [{"ciphertext": "xxx"}]})),
    );
    assert_eq!(rewrapped.status, 200);
}

#[test]
fn mounts_are_independent_and_unmounting_deletes_the_keys() {
    let server = Server::start();
    let mounts = ok(&vault(&server, "GET", "sys/mounts", None));
    assert_eq!(
        mounts["transit/"]["type"], "transit",
        "dev mode mounts transit/"
    );

    let reply = vault(
        &server,
        "POST",
        "sys/mounts/team/a",
        Some(json!({"type": "transit"})),
    );
    assert_eq!(reply.status, 204, "{}", reply.body);
    error(
        &vault(
            &server,
            "POST",
            "sys/mounts/team/a",
            Some(json!({"type": "transit"})),
        ),
        400,
        "path is already in use at team/a/",
    );
    error(
        &vault(
            &server,
            "POST",
            "sys/mounts/other",
            Some(json!({"type": "kv"})),
        ),
        400,
        "plugin not found in the catalog: kv",
    );
    ok(&vault(
        &server,
        "POST",
        "team/a/keys/shared",
        Some(json!({})),
    ));
    let ct = ok(&vault(
        &server,
        "POST",
        "team/a/encrypt/shared",
        Some(json!({"plaintext": "c2VjcmV0"})),
    ))["ciphertext"]
        .clone();
    // The same name on the other mount is another key.
    ok(&vault(
        &server,
        "POST",
        "transit/keys/shared",
        Some(json!({})),
    ));
    error(
        &vault(
            &server,
            "POST",
            "transit/decrypt/shared",
            Some(json!({"ciphertext": ct})),
        ),
        400,
        "cipher: message authentication failed",
    );

    let reply = vault(&server, "DELETE", "sys/mounts/team/a", None);
    assert_eq!(reply.status, 204);
    error(
        &vault(&server, "GET", "team/a/keys/shared", None),
        404,
        "no handler for route \"team/a/keys/shared\". route entry not found.",
    );
    assert_eq!(
        vault(
            &server,
            "POST",
            "sys/mounts/team/a",
            Some(json!({"type": "transit"}))
        )
        .status,
        204
    );
    let reply = vault(&server, "GET", "team/a/keys?list=true", None);
    assert_eq!(
        (reply.status, reply.json()),
        (404, json!({"errors": []})),
        "no keys left"
    );
}

#[test]
fn keys_and_mounts_survive_a_restart() {
    let mut server = Server::start();
    assert_eq!(
        vault(
            &server,
            "POST",
            "sys/mounts/kept",
            Some(json!({"type": "transit"}))
        )
        .status,
        204
    );
    ok(&vault(
        &server,
        "POST",
        "kept/keys/k",
        Some(json!({"type": "chacha20-poly1305", "exportable": true, "auto_rotate_period": "24h"})),
    ));
    let v1 = ok(&vault(
        &server,
        "POST",
        "kept/encrypt/k",
        Some(json!({"plaintext": "b2xk"})),
    ))["ciphertext"]
        .clone();
    ok(&vault(&server, "POST", "kept/keys/k/rotate", None));
    ok(&vault(
        &server,
        "POST",
        "kept/keys/k/config",
        Some(json!({"deletion_allowed": true})),
    ));
    ok(&vault(
        &server,
        "POST",
        "kept/cache-config",
        Some(json!({"size": 20})),
    ));
    let before = ok(&vault(&server, "GET", "kept/keys/k", None));
    let exported = ok(&vault(&server, "GET", "kept/export/encryption-key/k", None));

    server.restart().expect("restart");
    let after = ok(&vault(&server, "GET", "kept/keys/k", None));
    assert_eq!(after, before);
    assert_eq!(after["latest_version"], 2);
    assert_eq!(after["auto_rotate_period"], 86400);
    assert_eq!(
        ok(&vault(&server, "GET", "kept/export/encryption-key/k", None)),
        exported
    );
    assert_eq!(
        ok(&vault(
            &server,
            "POST",
            "kept/decrypt/k",
            Some(json!({"ciphertext": v1}))
        ))["plaintext"],
        "b2xk"
    );
    assert_eq!(
        ok(&vault(&server, "GET", "kept/cache-config", None))["size"],
        20
    );
}

#[test]
fn kill9_after_acknowledged_key_writes_loses_nothing_20_rounds() {
    let mut server = Server::start();
    ok(&vault(
        &server,
        "POST",
        "transit/keys/rotated",
        Some(json!({})),
    ));
    let mut created: Vec<String> = Vec::new();
    let mut rotations = 0u64;
    let mut ciphertexts: Vec<(String, String)> = Vec::new();
    for round in 0..20 {
        let name = format!("k{round}");
        ok(&vault(
            &server,
            "POST",
            &format!("transit/keys/{name}"),
            Some(json!({})),
        ));
        created.push(name.clone());
        let ct = ok(&vault(
            &server,
            "POST",
            &format!("transit/encrypt/{name}"),
            Some(json!({"plaintext": "cm91bmQ="})),
        ))["ciphertext"]
            .as_str()
            .unwrap()
            .to_string();
        ciphertexts.push((name, ct));
        for _ in 0..(1 + round % 3) {
            ok(&vault(&server, "POST", "transit/keys/rotated/rotate", None));
            rotations += 1;
        }
        // Kill right after the last acknowledgement: no clean shutdown.
        server.kill9();
        server.restart().expect("restart after kill -9");

        let listed = ok(&vault(&server, "GET", "transit/keys?list=true", None))["keys"].clone();
        for name in &created {
            assert!(
                listed
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k == name.as_str()),
                "round {round}: key {name} lost"
            );
        }
        let latest = ok(&vault(&server, "GET", "transit/keys/rotated", None))["latest_version"]
            .as_u64()
            .unwrap();
        assert_eq!(latest, 1 + rotations, "round {round}: a rotation was lost");
        for (name, ct) in &ciphertexts {
            let pt = ok(&vault(
                &server,
                "POST",
                &format!("transit/decrypt/{name}"),
                Some(json!({"ciphertext": ct})),
            ));
            assert_eq!(pt["plaintext"], "cm91bmQ=", "round {round}: {name}");
        }
    }
}

/// Signing keys over HTTPS: every type signs and verifies, a wrong
/// signature is `valid: false`, a malformed one a 400, keys and the
/// wrapping key survive a restart.
#[test]
fn signing_keys_sign_verify_and_survive_a_restart() {
    let mut server = Server::start();
    let input = "aGVsbG8gd29ybGQ=";
    let mut signatures = Vec::new();
    for t in [
        "ed25519",
        "ecdsa-p256",
        "ecdsa-p384",
        "ecdsa-p521",
        "rsa-2048",
        "rsa-3072",
    ] {
        let created = ok(&vault(
            &server,
            "POST",
            &format!("transit/keys/{t}"),
            Some(json!({"type": t})),
        ));
        assert_eq!(created["supports_signing"], true, "{t}");
        let signed = ok(&vault(
            &server,
            "POST",
            &format!("transit/sign/{t}"),
            Some(json!({"input": input})),
        ));
        let sig = signed["signature"].as_str().unwrap().to_string();
        assert!(sig.starts_with("vault:v1:"));
        let valid = ok(&vault(
            &server,
            "POST",
            &format!("transit/verify/{t}"),
            Some(json!({"input": input, "signature": sig})),
        ));
        assert_eq!(valid, json!({"valid": true}), "{t}");
        let wrong = ok(&vault(
            &server,
            "POST",
            &format!("transit/verify/{t}"),
            Some(json!({"input": "aGVsbG8=", "signature": sig})),
        ));
        assert_eq!(wrong, json!({"valid": false}), "{t}");
        signatures.push((t, sig));
    }
    error(
        &vault(
            &server,
            "POST",
            "transit/verify/ecdsa-p256",
            Some(json!({"input": input, "signature": "vault:v1:AQID"})),
        ),
        400,
        "supplied signature is invalid",
    );
    error(
        &vault(
            &server,
            "POST",
            "transit/sign/ed25519",
            Some(json!({"input": input, "key_version": 3})),
        ),
        400,
        "requested version for signing is higher than the latest key version",
    );
    let wrapping = ok(&vault(&server, "GET", "transit/wrapping_key", None))["public_key"].clone();
    let listed = ok(&vault(&server, "GET", "transit/keys?list=true", None));
    assert!(
        listed["keys"]
            .as_array()
            .unwrap()
            .contains(&json!("import/"))
    );

    server.restart().unwrap();
    for (t, sig) in signatures {
        let valid = ok(&vault(
            &server,
            "POST",
            &format!("transit/verify/{t}"),
            Some(json!({"input": input, "signature": sig})),
        ));
        assert_eq!(valid, json!({"valid": true}), "{t} after restart");
    }
    assert_eq!(
        ok(&vault(&server, "GET", "transit/wrapping_key", None))["public_key"],
        wrapping
    );
}

/// RSA-4096 generation runs off the async workers: other requests are
/// answered while keys are being made.
#[test]
fn rsa_4096_generation_does_not_block_other_requests() {
    let server = Server::start();
    ok(&vault(
        &server,
        "POST",
        "transit/keys/fast",
        Some(json!({})),
    ));
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let client = server.client();
            let token = server.root_token();
            std::thread::spawn(move || {
                client.request(
                    "POST",
                    &format!("/v1/transit/keys/big-{i}"),
                    &[
                        ("X-Vault-Token", &token),
                        ("Content-Type", "application/json"),
                    ],
                    Some(br#"{"type":"rsa-4096"}"#),
                )
            })
        })
        .collect();
    // While four RSA-4096 keys are generated (seconds on two cores), small
    // requests keep being answered.
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let started = std::time::Instant::now();
        ok(&vault(
            &server,
            "POST",
            "transit/encrypt/fast",
            Some(json!({"plaintext": "eA=="})),
        ));
        slowest = slowest.max(started.elapsed());
    }
    for h in handles {
        let reply = h.join().unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.json()["data"]["type"], "rsa-4096");
    }
    assert!(
        slowest < Duration::from_millis(1500),
        "an encrypt took {slowest:?} while RSA keys were generated"
    );
}

/// A batch of RSA-4096 signatures (seconds of CPU) runs off the async
/// workers: small requests are answered meanwhile, and the batch's
/// signatures all verify, in order.
#[test]
fn rsa_4096_sign_batches_do_not_block_other_requests() {
    let server = Server::start();
    ok(&vault(
        &server,
        "POST",
        "transit/keys/fast",
        Some(json!({})),
    ));
    ok(&vault(
        &server,
        "POST",
        "transit/keys/big",
        Some(json!({"type": "rsa-4096"})),
    ));
    let items: Vec<Value> = (0..150)
        .map(|i| json!({"input": "aGVsbG8=", "reference": format!("r{i}")}))
        .collect();
    let body = json!({ "batch_input": items }).to_string().into_bytes();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let client = server.client();
            let token = server.root_token();
            let body = body.clone();
            std::thread::spawn(move || {
                client.request(
                    "POST",
                    "/v1/transit/sign/big",
                    &[
                        ("X-Vault-Token", &token),
                        ("Content-Type", "application/json"),
                    ],
                    Some(&body),
                )
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let started = std::time::Instant::now();
        ok(&vault(
            &server,
            "POST",
            "transit/encrypt/fast",
            Some(json!({"plaintext": "eA=="})),
        ));
        slowest = slowest.max(started.elapsed());
    }
    let mut signatures = Vec::new();
    for h in handles {
        let reply = h.join().unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        let results = reply.json()["data"]["batch_results"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(results.len(), 150);
        for (i, r) in results.iter().enumerate() {
            assert_eq!(r["reference"], format!("r{i}"));
            assert!(r.get("error").is_none(), "{r}");
            signatures.push(r["signature"].as_str().unwrap().to_string());
        }
    }
    assert!(
        slowest < Duration::from_millis(1500),
        "an encrypt took {slowest:?} while RSA-4096 batches were signed"
    );
    let check: Vec<Value> = signatures
        .iter()
        .take(20)
        .map(|s| json!({"input": "aGVsbG8=", "signature": s}))
        .collect();
    let verified = ok(&vault(
        &server,
        "POST",
        "transit/verify/big",
        Some(json!({ "batch_input": check })),
    ));
    let results = verified["batch_results"].as_array().unwrap();
    assert_eq!(results.len(), 20);
    assert!(results.iter().all(|r| r["valid"] == true), "{verified}");
}
