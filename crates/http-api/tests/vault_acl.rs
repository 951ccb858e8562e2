//! The Vault ACL permission, in-process: until ACL policies land only
//! superusers (the root token, users mapped to `all_access`) may use `/v1`;
//! anyone else gets Vault's wrapped 403, also on paths that do not exist.

use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use http_api::{Api, ApiConfig, ConnInfo, Services};
use http_body_util::{BodyExt, Full};
use keyring_core::{Barrier, Clock, MemoryStore, Timestamp};
use secrecy::SecretString;

struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_secs(1_800_000_000)
    }
}

async fn api() -> Api {
    let barrier = Arc::new(Barrier::ephemeral(Arc::new(MemoryStore::new())).unwrap());
    let api = Api::open(
        Services {
            barrier,
            clock: Arc::new(FixedClock),
            tls: None,
            transport_tls: None,
            audit_sink: None,
            log_levels: None,
        },
        // The demo security configuration maps backend role `admin` to all_access.
        ApiConfig {
            security_bootstrap: Some(rbac_model::demo::config().unwrap()),
            ..ApiConfig::default()
        },
    )
    .await
    .unwrap();
    api.set_root_token(&SecretString::from("root-token".to_string()))
        .await
        .unwrap();
    api.ensure_transit_mount("transit", "test").await.unwrap();
    api
}

async fn call(api: &Api, method: &str, path: &str, auth: Option<(&str, String)>) -> (u16, String) {
    let mut req = http::Request::builder().method(method).uri(path);
    if let Some((name, value)) = auth {
        req = req.header(name, value);
    }
    let req = req.body(Full::new(Bytes::new())).unwrap();
    let resp = api.handle(req, ConnInfo::default()).await;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).to_string())
}

fn basic(user: &str, password: &str) -> (&'static str, String) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    ("authorization", format!("Basic {encoded}"))
}

#[tokio::test]
async fn only_superusers_hold_the_vault_acl_today() {
    let api = api().await;
    api.set_internal_user(
        "alice",
        SecretString::from("alice-password".to_string()),
        vec!["readers".into()],
        false,
    )
    .await
    .unwrap();
    api.set_internal_user(
        "boss",
        SecretString::from("boss-password".to_string()),
        vec!["admin".into()],
        false,
    )
    .await
    .unwrap();

    let denied = r#"{"errors":["1 error occurred:\n\t* permission denied\n\n"]}"#;
    for path in [
        "/v1/transit/keys/k",
        "/v1/transit/no-such-endpoint",
        "/v1/nomount/x",
        "/v1/sys/mounts",
    ] {
        let got = call(&api, "GET", path, Some(basic("alice", "alice-password"))).await;
        assert_eq!(got, (403, denied.to_string()), "{path}");
    }
    // A wrong password or no credentials: Vault's plain 403.
    let plain = r#"{"errors":["permission denied"]}"#.to_string();
    assert_eq!(
        call(
            &api,
            "GET",
            "/v1/transit/keys/k",
            Some(basic("alice", "wrong"))
        )
        .await,
        (403, plain.clone())
    );
    assert_eq!(
        call(&api, "GET", "/v1/transit/keys/k", None).await,
        (403, plain)
    );

    // all_access (backend role admin) and the root token pass.
    let (status, _) = call(
        &api,
        "POST",
        "/v1/transit/keys/k",
        Some(basic("boss", "boss-password")),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = call(
        &api,
        "GET",
        "/v1/transit/keys/k",
        Some(("x-vault-token", "root-token".into())),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Health stays open.
    assert_eq!(call(&api, "GET", "/v1/sys/health", None).await.0, 200);
}

#[tokio::test]
async fn list_by_verb_and_by_query() {
    let api = api().await;
    let root = || Some(("x-vault-token", "root-token".to_string()));
    assert_eq!(
        call(&api, "LIST", "/v1/transit/keys", root()).await,
        (404, r#"{"errors":[]}"#.to_string())
    );
    assert_eq!(
        call(&api, "POST", "/v1/transit/keys/a", root()).await.0,
        200
    );
    let (status, body) = call(&api, "LIST", "/v1/transit/keys/", root()).await;
    assert_eq!(status, 200);
    assert!(body.contains(r#""data":{"keys":["a"]}"#), "{body}");
    let (status, body) = call(&api, "GET", "/v1/transit/keys?list=true", root()).await;
    assert_eq!(status, 200);
    assert!(body.contains(r#""keys":["a"]"#), "{body}");
    assert_eq!(
        call(&api, "GET", "/v1/transit/keys?list=maybe", root()).await,
        (400, r#"{"errors":[]}"#.to_string())
    );
    assert_eq!(
        call(&api, "GET", "/v1/transit/keys", root()).await,
        (
            405,
            r#"{"errors":["1 error occurred:\n\t* unsupported operation\n\n"]}"#.to_string()
        )
    );
}
