//! A sweep over the whole route table (read from `keyward openapi`, the
//! document generated from it): without credentials every route but the
//! health endpoints answers 401 (Vault: 403, as Vault does); a user without
//! the route's permission gets 403 in the family's shape; a user granted
//! exactly that permission gets past authorization.

use std::collections::BTreeMap;

use keyward_tests::{Client, Options, Reply, Server, Value, basic, json};

const PASSWORD: &str = "Test-Admin-Password-1";

struct Route {
    method: String,
    path: String,
    family: String,
    permission: String,
}

fn route_table() -> Vec<Route> {
    let out = std::process::Command::new(keyward_tests::binary())
        .arg("openapi")
        .output()
        .expect("keyward openapi");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("the OpenAPI document");
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            routes.push(Route {
                method: method.to_uppercase(),
                path: path
                    .replace("{db}", "_system")
                    .replace("{config_type}", "nodesdn")
                    .replace("{username}", "sweep-nobody")
                    .replace("{name}", "sweep-nobody"),
                family: op["tags"][0].as_str().unwrap().to_string(),
                permission: op["x-keyward-permission"].as_str().unwrap().to_string(),
            });
        }
    }
    routes
}

/// The gate endpoint a `restapi:*` permission goes through.
fn gate_endpoint(permission: &str) -> Option<&str> {
    if let Some(e) = permission.strip_prefix("restapi:gate/") {
        return Some(e);
    }
    Some(match permission {
        "restapi:admin/allowlist" => "ALLOWLIST",
        "restapi:admin/nodesdn" => "NODESDN",
        "restapi:admin/config/update" => "CONFIG",
        "superuser" => "CONFIG",
        _ => return None,
    })
}

const ENDPOINTS: &[&str] = &[
    "ACTIONGROUPS",
    "ALLOWLIST",
    "CACHE",
    "CONFIG",
    "INTERNALUSERS",
    "NODESDN",
    "PERMISSIONSINFO",
    "ROLES",
    "ROLESMAPPING",
    "TENANTS",
    "AUDIT",
    "SSL",
];

fn user_for(permission: &str) -> String {
    format!(
        "sweep_{}",
        permission.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    )
}

fn body_for(method: &str) -> Option<&'static [u8]> {
    match method {
        "PATCH" => Some(b"[]"),
        "PUT" | "POST" => Some(b"{}"),
        _ => None,
    }
}

fn send(client: &Client, auth: Option<&str>, r: &Route) -> Reply {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(a) = auth {
        headers.push(("authorization", a));
    }
    client.request(&r.method, &r.path, &headers, body_for(&r.method))
}

fn assert_family_forbidden(r: &Route, reply: &Reply) {
    let what = format!("{} {} ({})", r.method, r.path, r.permission);
    assert_eq!(reply.status, 403, "{what}: {}", reply.body);
    let v = reply.json();
    let ok = match r.family.as_str() {
        "vault" => v["errors"].is_array(),
        "arango" => v["error"] == json!(true) && v["code"] == json!(403),
        "atlassian" => v["status"] == json!("FORBIDDEN"),
        _ => v["status"] == json!("FORBIDDEN") || v["error"]["type"] == json!("security_exception"),
    };
    assert!(ok, "{what}: not the {} shape: {}", r.family, reply.body);
}

#[test]
fn every_route_needs_its_permission_and_no_more() {
    let routes = route_table();
    assert!(routes.len() > 40, "the table has {} routes", routes.len());

    // One gate role per endpoint: in roles_enabled, every other endpoint disabled.
    let mut toml = String::from(
        "[security]\nrestapi.admin.enabled = true\nrestapi.roles_enabled = [\"all_access\", \"security_rest_api_access\"",
    );
    for e in ENDPOINTS {
        toml.push_str(&format!(", \"gate_{e}\""));
    }
    toml.push_str("]\n");
    for e in ENDPOINTS {
        toml.push_str(&format!("[security.restapi.endpoints_disabled.gate_{e}]\n"));
        for other in ENDPOINTS.iter().filter(|o| *o != e) {
            toml.push_str(&format!("{other} = [\"*\"]\n"));
        }
    }
    let dir = std::env::temp_dir().join(format!("kw-sweep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("keyward.toml");
    std::fs::write(&config, toml).unwrap();
    let server = Server::start_with(Options {
        args: vec!["--config".into(), config.display().to_string()],
        ..Options::default()
    });
    let root = server.root_client();

    // Roles and users go in through securityadmin (the API refuses roles
    // that grant restapi:admin/*); every user shares admin's hash.
    let doc = |ty: &str| {
        root.request(
            "GET",
            &format!("/_plugins/_security/api/securityadmin/{ty}"),
            &[],
            None,
        )
        .json()
    };
    let mut roles = doc("roles");
    let mut users = doc("internalusers");
    let hash = users["admin"]["hash"].clone();
    let permissions: std::collections::BTreeSet<&str> =
        routes.iter().map(|r| r.permission.as_str()).collect();
    let mut role_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in ENDPOINTS {
        roles[format!("gate_{e}")] = json!({});
    }
    for p in &permissions {
        let mut granted = Vec::new();
        if let Some(e) = gate_endpoint(p) {
            granted.push(format!("gate_{e}"));
        }
        if p.starts_with("cluster:") || p.starts_with("restapi:admin/") {
            let role = format!("role_{}", user_for(p));
            roles[&role] = json!({"cluster_permissions": [p]});
            granted.push(role);
        }
        role_of.insert(user_for(p), granted);
    }
    role_of.insert("sweep_none".into(), Vec::new());
    for (user, granted) in &role_of {
        users[user] = json!({"hash": hash, "opendistro_security_roles": granted});
    }
    for (ty, v) in [("roles", &roles), ("internalusers", &users)] {
        let reply = root.request(
            "PUT",
            &format!("/_plugins/_security/api/securityadmin/{ty}"),
            &[("content-type", "application/json")],
            Some(v.to_string().as_bytes()),
        );
        assert_eq!(reply.status, 200, "{ty}: {}", reply.body);
    }

    let client = server.client();
    let none = basic("sweep_none", PASSWORD);
    for r in &routes {
        let what = format!("{} {} ({})", r.method, r.path, r.permission);
        let anonymous = send(&client, None, r);
        if r.permission == "open" {
            assert!(
                // An open route never asks for credentials; a login route
                // may still refuse the (empty) body it was sent.
                anonymous.status < 500 && anonymous.status != 401 && anonymous.status != 403,
                "{what}: {}",
                anonymous.body
            );
            continue;
        }
        let expected = if r.family == "vault" { 403 } else { 401 };
        assert_eq!(
            anonymous.status, expected,
            "{what} without credentials: {}",
            anonymous.body
        );

        if r.permission == "authenticated" {
            let reply = send(&client, Some(&none), r);
            assert!(
                ![401, 403].contains(&reply.status),
                "{what}: {}",
                reply.body
            );
            continue;
        }
        // Vault's `default` policy, which every caller holds on /v1, grants
        // these: a caller without any role is not refused there.
        let default_policy = [
            "/v1/auth/token/lookup-self",
            "/v1/auth/token/renew-self",
            "/v1/auth/token/revoke-self",
            "/v1/sys/capabilities-self",
        ];
        if default_policy.contains(&r.path.as_str()) {
            continue;
        }
        assert_family_forbidden(r, &send(&client, Some(&none), r));
        // Until Vault ACL policies land, the Vault ACL is held by superusers
        // (and users mapped to all_access), as the root token is one.
        let granted = if r.permission == "superuser" || r.permission == "vault-acl" {
            send(&root, None, r)
        } else {
            send(&client, Some(&basic(&user_for(&r.permission), PASSWORD)), r)
        };
        assert!(
            ![401, 403].contains(&granted.status),
            "{what}: a user granted exactly {} got {}: {}",
            r.permission,
            granted.status,
            granted.body
        );
    }
    std::fs::remove_dir_all(dir).ok();
}
