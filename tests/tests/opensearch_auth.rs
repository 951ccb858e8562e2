//! Authentication against the real binary: brute-force blocking and its
//! expiry, and securityadmin export → import giving the same configuration.

use std::time::Duration;

use keyward_tests::{Options, Server, basic, json};

const ADMIN_PASSWORD: &str = "Test-Admin-Password-1";

fn server_with(toml: &str) -> (Server, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "kw-auth-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("keyward.toml");
    std::fs::write(&config, toml).unwrap();
    let server = Server::start_with(Options {
        args: vec!["--config".into(), config.display().to_string()],
        ..Options::default()
    });
    (server, dir)
}

fn account(server: &Server, user: &str, password: &str) -> keyward_tests::Reply {
    server.client().request(
        "GET",
        "/_plugins/_security/api/account",
        &[("authorization", &basic(user, password))],
        None,
    )
}

#[test]
fn a_blocked_client_is_let_in_again_after_block_expiry_seconds() {
    let (server, dir) =
        server_with("[security]\nunsupported.restapi.allow_securityconfig_modification = true\n");
    let patch = json!([
        {"op": "add", "path": "/config/dynamic/auth_failure_listeners", "value": {
            "ip_rate_limiting": {"type": "ip", "allowed_tries": 3, "time_window_seconds": 60, "block_expiry_seconds": 3},
        }}
    ]);
    let reply = server.client().request(
        "PATCH",
        "/_plugins/_security/api/securityconfig",
        &[
            ("authorization", &basic("admin", ADMIN_PASSWORD)),
            ("content-type", "application/json"),
        ],
        Some(patch.to_string().as_bytes()),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);

    for _ in 0..3 {
        let r = account(&server, "admin", "wrong");
        assert_eq!(r.status, 401);
        assert_eq!(r.body, "Unauthorized");
    }
    // Blocked: even the right password is refused, without a challenge.
    let r = account(&server, "admin", ADMIN_PASSWORD);
    assert_eq!(r.status, 401);
    assert_eq!(r.body, "Authentication finally failed");
    assert!(r.header("www-authenticate").is_none());
    // The root token is refused too while the address is blocked.
    let r = server
        .root_client()
        .request("GET", "/_plugins/_security/api/roles", &[], None);
    assert_eq!(r.status, 401, "{}", r.body);

    std::thread::sleep(Duration::from_millis(3500));
    assert_eq!(account(&server, "admin", ADMIN_PASSWORD).status, 200);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_user_name_listener_blocks_only_that_name() {
    let (server, dir) =
        server_with("[security]\nunsupported.restapi.allow_securityconfig_modification = true\n");
    let patch = json!([
        {"op": "add", "path": "/config/dynamic/auth_failure_listeners", "value": {
            "internal_authentication_backend_limiting": {"type": "username", "authentication_backend": "intern",
                "allowed_tries": 2, "time_window_seconds": 60, "block_expiry_seconds": 60},
        }}
    ]);
    let admin = basic("admin", ADMIN_PASSWORD);
    let headers = [
        ("authorization", admin.as_str()),
        ("content-type", "application/json"),
    ];
    let reply = server.client().request(
        "PATCH",
        "/_plugins/_security/api/securityconfig",
        &headers,
        Some(patch.to_string().as_bytes()),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = server.client().request(
        "PUT",
        "/_plugins/_security/api/internalusers/victim",
        &headers,
        Some(br#"{"password":"Xk9#qLm2$vTr"}"#),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(account(&server, "victim", "nope").status, 401);
    assert_eq!(account(&server, "victim", "nope").status, 401);
    let r = account(&server, "victim", "Xk9#qLm2$vTr");
    assert_eq!(r.status, 401, "the name is blocked");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"OpenSearch Security\"")
    );
    assert_eq!(
        account(&server, "admin", ADMIN_PASSWORD).status,
        200,
        "other names are not"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn export_then_import_gives_the_same_configuration() {
    let server = Server::start();
    let admin = basic("admin", ADMIN_PASSWORD);
    let headers = [
        ("authorization", admin.as_str()),
        ("content-type", "application/json"),
    ];
    let c = server.client();
    assert_eq!(
        c.request(
            "PUT",
            "/_plugins/_security/api/roles/exported",
            &headers,
            Some(br#"{"cluster_permissions":["cluster:admin/keyward/*"],"description":"d"}"#)
        )
        .status,
        201
    );
    assert_eq!(
        c.request(
            "PUT",
            "/_plugins/_security/api/rolesmapping/exported",
            &headers,
            Some(br#"{"users":["u1"],"and_backend_roles":["a","b"]}"#)
        )
        .status,
        201
    );
    assert_eq!(
        c.request(
            "PUT",
            "/_plugins/_security/api/internalusers/u1",
            &headers,
            Some(br#"{"password":"Xk9#qLm2$vTr","attributes":{"team":"blue"}}"#)
        )
        .status,
        201
    );

    let dir = std::env::temp_dir().join(format!("kw-export-{}", std::process::id()));
    let export = |target: &Server, sub: &str| {
        let out = std::process::Command::new(keyward_tests::binary())
            .args(["securityadmin", sub])
            .arg(&dir)
            .arg("--url")
            .arg(target.base_url())
            .arg("--data-dir")
            .arg(&target.data_dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    export(&server, "--export");
    assert!(dir.join("internal_users.yml").exists() && dir.join("config.yml").exists());

    let other = Server::start_with(Options {
        admin_password: Some("Another-Admin-Password-9".into()),
        ..Options::default()
    });
    export(&other, "--import");
    let everything = |s: &Server| {
        [
            "internalusers",
            "roles",
            "rolesmapping",
            "actiongroups",
            "tenants",
            "nodesdn",
            "allowlist",
            "config",
        ]
        .map(|ty| {
            s.root_client()
                .request(
                    "GET",
                    &format!("/_plugins/_security/api/securityadmin/{ty}"),
                    &[],
                    None,
                )
                .json()
        })
    };
    assert_eq!(everything(&server), everything(&other));
    // The imported users log in with their passwords (the hashes came along).
    assert_eq!(account(&other, "u1", "Xk9#qLm2$vTr").status, 200);
    assert_eq!(account(&other, "admin", ADMIN_PASSWORD).status, 200);
    std::fs::remove_dir_all(dir).ok();
}
