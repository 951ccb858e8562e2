//! The cost of audit logging on the request path, in process: the same
//! request through `Api::handle` with no audit log ("off") and with an
//! audit log and every category on ("on": AUTHENTICATED and
//! GRANTED_PRIVILEGES for every request, bodies logged (redacted), the
//! writer thread fsyncing every 200 ms). Run with `cargo xtask bench audit`.
//!
//! Two requests: `POST /v1/transit/encrypt/bench` with 1 KiB of plaintext
//! and the root token (the hot path of the server), and
//! `GET /_admin/log/level` with HTTP Basic (a cached login).
//!
//! The allocator is the server's (mimalloc).
//!
//! At the end it prints one JSON line, `{"written": N, "dropped": N, ...}`:
//! the sink's counters, so a figure obtained by dropping events (a queue
//! that overflowed) is seen for what it is.

use std::hint::black_box;
use std::sync::Arc;

use audit_config::{AuditSink, SinkConfig};
use base64::Engine;
use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use http_api::{Api, ApiConfig, ConnInfo, Services};
use http_body_util::{BodyExt, Full};
use keyring_core::{Barrier, Clock, MemoryStore, Timestamp};
use secrecy::SecretString;
use tokio::runtime::Runtime;

/// The server's allocator (`bins/keyward` uses mimalloc): with the system
/// allocator, the audit writer freeing what request threads allocated
/// waits on glibc's arena locks, which the server never does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROOT: &str = "bench-root-token";
const PASSWORD: &str = "Bench-Admin-Password-1";

struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp::new(d.as_secs() as i64, d.subsec_nanos())
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}

async fn call(api: &Api, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> u16 {
    let mut req = http::Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(Full::new(Bytes::copy_from_slice(body)))
        .expect("request");
    let resp = api.handle(req, ConnInfo::default()).await;
    let status = resp.status().as_u16();
    let _ = resp.into_body().collect().await;
    status
}

/// An API with the demo security configuration, the root token, the admin
/// user, a transit mount with the key `bench`; with `sink`, every audit
/// category on.
async fn api(sink: Option<Arc<AuditSink>>) -> Api {
    let barrier = Arc::new(Barrier::ephemeral(Arc::new(MemoryStore::new())).expect("barrier"));
    let on = sink.is_some();
    let api = Api::open(
        Services {
            barrier,
            clock: Arc::new(SystemClock),
            tls: None,
            transport_tls: None,
            audit_sink: sink,
            log_levels: None,
        },
        ApiConfig {
            security_bootstrap: Some(rbac_model::demo::config().expect("demo config")),
            ..ApiConfig::default()
        },
    )
    .await
    .expect("api");
    api.set_root_token(&SecretString::from(ROOT.to_string()))
        .await
        .expect("root token");
    api.set_internal_user(
        "admin",
        SecretString::from(PASSWORD.to_string()),
        vec!["admin".into()],
        true,
    )
    .await
    .expect("admin");
    api.ensure_transit_mount("transit", "bench")
        .await
        .expect("mount");
    let token = [
        ("x-vault-token", ROOT),
        ("content-type", "application/json"),
    ];
    let status = call(&api, "POST", "/v1/transit/keys/bench", &token, b"{}").await;
    assert!(status < 300, "create the key: {status}");
    if on {
        let everything = br#"{"enabled":true,"audit":{"enable_rest":true,"disabled_rest_categories":[],"ignore_users":["NONE"],"log_request_body":true},"compliance":{"enabled":true,"internal_config":true}}"#;
        let status = call(
            &api,
            "PUT",
            "/_plugins/_security/api/audit/config",
            &token,
            everything,
        )
        .await;
        assert_eq!(status, 200, "every audit category on");
    }
    api
}

fn bench(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("audit.log");
    let sink =
        Arc::new(AuditSink::open(SinkConfig::new(&log), Arc::new(SystemClock)).expect("sink"));
    let off = rt.block_on(api(None));
    let on = rt.block_on(api(Some(sink.clone())));

    let plaintext = base64::engine::general_purpose::STANDARD.encode(vec![7u8; 1024]);
    let encrypt = format!("{{\"plaintext\":\"{plaintext}\"}}").into_bytes();
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("admin:{PASSWORD}"))
    );
    let token = [
        ("x-vault-token", ROOT),
        ("content-type", "application/json"),
    ];
    let basic_headers = [("authorization", basic.as_str())];

    let mut group = c.benchmark_group("audit");
    for (label, api) in [("off", &off), ("on", &on)] {
        // The first call caches the Basic login (bcrypt runs once).
        assert_eq!(
            rt.block_on(call(api, "GET", "/_admin/log/level", &basic_headers, b"")),
            200
        );
        group.bench_function(BenchmarkId::new("encrypt-1KiB", label), |b| {
            b.iter(|| {
                let status = rt.block_on(call(
                    api,
                    "POST",
                    "/v1/transit/encrypt/bench",
                    &token,
                    black_box(&encrypt),
                ));
                assert_eq!(status, 200);
            })
        });
        // Each measurement writes hundreds of megabytes; the disk is shared.
        truncate(&log);
        group.bench_function(BenchmarkId::new("log-level-basic", label), |b| {
            b.iter(|| {
                let status =
                    rt.block_on(call(api, "GET", "/_admin/log/level", &basic_headers, b""));
                assert_eq!(status, 200);
            })
        });
        truncate(&log);
    }
    group.finish();
    drop(on);
    sink.shutdown();
    let counts = sink.stats().counts();
    println!(
        "{{\"written\":{},\"dropped\":{},\"failed\":{}}}",
        counts.written, counts.dropped, counts.failed
    );
}

/// Empties the audit log (the writer appends, so it goes on at the start).
fn truncate(log: &std::path::Path) {
    if let Ok(f) = std::fs::OpenOptions::new().write(true).open(log) {
        let _ = f.set_len(0);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_secs(2))
        .measurement_time(std::time::Duration::from_secs(6));
    targets = bench
}
criterion_main!(benches);
