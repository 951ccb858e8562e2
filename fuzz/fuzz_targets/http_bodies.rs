//! Request bodies of every API family, through the whole in-process API
//! (`http_api::Api::handle`, as the server's listener calls it): the JSON
//! readers into each typed request, Vault's Go durations and base64, HCL
//! policies, JSON Patch documents, audit and log-level documents. The first
//! byte picks a route; the rest is the body. No answer may be a 5xx.
#![no_main]

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::Request;
use http_api::{Api, ApiConfig, ConnInfo, Services};
use http_body_util::Full;
use keyring_core::{Barrier, Clock, MemoryStore, Timestamp};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;

const ROOT: &str = "fuzz-root-token";
/// The demo configuration's admin (`admin`/`admin`), as Basic credentials.
const ADMIN: &str = "Basic YWRtaW46YWRtaW4=";

struct WallClock;

impl Clock for WallClock {
    fn now(&self) -> Timestamp {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Timestamp::from_unix_secs(secs)
    }
}

/// (method, path, Vault token or Basic admin)
const ROUTES: &[(&str, &str, bool)] = &[
    ("POST", "/v1/transit/keys/fz", true),
    ("POST", "/v1/transit/keys/fz/config", true),
    ("POST", "/v1/transit/encrypt/fz", true),
    ("POST", "/v1/transit/decrypt/fz", true),
    ("POST", "/v1/transit/rewrap/fz", true),
    ("POST", "/v1/transit/datakey/plaintext/fz", true),
    ("POST", "/v1/transit/hmac/fz", true),
    ("POST", "/v1/transit/verify/fz", true),
    ("POST", "/v1/transit/sign/fz-ed", true),
    ("POST", "/v1/transit/verify/fz-ed", true),
    ("POST", "/v1/transit/hash", true),
    ("POST", "/v1/transit/random", true),
    ("POST", "/v1/transit/restore/fz-restored", true),
    ("POST", "/v1/transit/keys/fz-import/import", true),
    ("POST", "/v1/transit/keys/fz/trim", true),
    ("PUT", "/v1/sys/policies/acl/fz", true),
    ("POST", "/v1/auth/token/create", true),
    ("POST", "/v1/auth/token/lookup", true),
    ("POST", "/v1/sys/mounts/fz-mount", true),
    ("PUT", "/v1/sys/capabilities-self", true),
    ("PUT", "/_plugins/_security/api/internalusers/fz", false),
    ("PATCH", "/_plugins/_security/api/internalusers", false),
    ("PUT", "/_plugins/_security/api/roles/fz", false),
    ("PATCH", "/_plugins/_security/api/roles", false),
    ("PUT", "/_plugins/_security/api/rolesmapping/fz", false),
    ("PUT", "/_plugins/_security/api/actiongroups/fz", false),
    ("PATCH", "/_plugins/_security/api/actiongroups", false),
    ("PUT", "/_plugins/_security/api/tenants/fz", false),
    ("PUT", "/_plugins/_security/api/audit/config", false),
    ("PATCH", "/_plugins/_security/api/audit", false),
    ("PUT", "/_admin/log/level", false),
    ("PUT", "/rest/secrets/1.0/secrets/fz", false),
    ("POST", "/rest/secrets/1.0/secrets", false),
];

struct World {
    rt: tokio::runtime::Runtime,
    api: Api,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let api = rt.block_on(async {
            let barrier = Arc::new(Barrier::ephemeral(Arc::new(MemoryStore::new())).expect("barrier"));
            let api = Api::open(
                Services {
                    barrier,
                    clock: Arc::new(WallClock),
                    tls: None,
                    transport_tls: None,
                    audit_sink: None,
                    log_levels: None,
                },
                ApiConfig {
                    security_bootstrap: Some(rbac_model::demo::config().expect("demo config")),
                    ..ApiConfig::default()
                },
            )
            .await
            .expect("api");
            api.set_root_token(&SecretString::from(ROOT)).await.expect("root token");
            api.ensure_transit_mount("transit", "fuzz").await.expect("mount");
            api
        });
        let w = World { rt, api };
        // Keys the routes above work on.
        for (path, body) in [
            ("/v1/transit/keys/fz", r#"{"exportable":true,"allow_plaintext_backup":true}"#),
            ("/v1/transit/keys/fz-ed", r#"{"type":"ed25519"}"#),
        ] {
            let status = send(&w, "POST", path, true, body.as_bytes().to_vec());
            assert!(status < 300, "setting up {path}: {status}");
        }
        w
    })
}

fn send(w: &World, method: &str, path: &str, vault: bool, body: Vec<u8>) -> u16 {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json");
    req = if vault { req.header("x-vault-token", ROOT) } else { req.header("authorization", ADMIN) };
    let req = req.body(Full::new(Bytes::from(body))).expect("request");
    let response = w.rt.block_on(w.api.handle(req, ConnInfo::default()));
    response.status().as_u16()
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let w = world();
    let (method, path, vault) = ROUTES[pick as usize % ROUTES.len()];
    let status = send(w, method, path, vault, body.to_vec());
    assert!(status < 500, "{method} {path} answered {status} to {:?}", String::from_utf8_lossy(body));
});
