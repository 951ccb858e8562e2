//! The Vault side of authorization: compiling the ACL of a policy set (done
//! once per policy change), one ACL decision, and finding a token in the
//! in-memory index (SHA-256 of the token, one map lookup), which is what
//! every `/v1` request pays.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use keyring_core::{Barrier, MemoryStore, Timestamp};
use rbac_model::acl::{Acl, AclPolicy, Operation, PolicyName};
use rbac_model::tokens::{TokenRequest, TokenStore};
use secrecy::SecretString;

const POLICIES: usize = 100;
const PATHS_PER_POLICY: usize = 10;
const TOKENS: usize = 10_000;

/// 100 policies of 10 paths each: exact paths, `*` prefixes and `+` segments.
fn policies() -> Vec<AclPolicy> {
    (0..POLICIES)
        .map(|p| {
            let mut text = String::new();
            for i in 0..PATHS_PER_POLICY {
                let path = match i % 3 {
                    0 => format!("transit/keys/app{p}-key{i}"),
                    1 => format!("transit/encrypt/app{p}-*"),
                    _ => format!("transit/+/app{p}-shared{i}"),
                };
                text.push_str(&format!(
                    "path \"{path}\" {{ capabilities = [\"read\", \"update\", \"create\"] }}\n"
                ));
            }
            text.push_str(&format!(
                "path \"transit/keys/app{p}-secret\" {{ capabilities = [\"deny\"] }}\n"
            ));
            AclPolicy::parse(PolicyName::new(&format!("p{p}")).unwrap(), &text).unwrap()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let policies = policies();
    let acl = Acl::new(policies.iter());

    let mut group = c.benchmark_group("vault acl");
    group.bench_function("compile 100 policies / 1,100 paths", |b| {
        b.iter(|| Acl::new(black_box(&policies).iter()))
    });
    group.bench_function("decide: exact path", |b| {
        b.iter(|| acl.decide(black_box("transit/keys/app57-key3"), Operation::Read))
    });
    group.bench_function("decide: prefix glob", |b| {
        b.iter(|| acl.decide(black_box("transit/encrypt/app57-orders"), Operation::Update))
    });
    group.bench_function("decide: + segment", |b| {
        b.iter(|| acl.decide(black_box("transit/hmac/app57-shared5"), Operation::Update))
    });
    group.bench_function("decide: no match (deny)", |b| {
        b.iter(|| acl.decide(black_box("transit/keys/nobody/here"), Operation::Read))
    });
    group.finish();

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let now = Timestamp::from_unix_secs(1_800_000_000);
    let (store, probe) = rt.block_on(async {
        let barrier = Arc::new(Barrier::ephemeral(Arc::new(MemoryStore::new())).unwrap());
        let store = TokenStore::open(barrier).await.unwrap();
        let mut probe = None;
        for i in 0..TOKENS {
            let req = TokenRequest {
                policies: Some(vec![format!("p{}", i % POLICIES)]),
                ..Default::default()
            };
            let (token, _) = store
                .create(None, req, "auth/token/create", None, now)
                .await
                .unwrap();
            if i == TOKENS / 2 {
                probe = Some(token);
            }
        }
        (store, probe.unwrap())
    });
    let unknown = SecretString::from("kw.not-a-token-at-all".to_string());
    let mut group = c.benchmark_group("token index (10,000 tokens)");
    group.bench_function("lookup a live token", |b| {
        b.iter(|| store.lookup(black_box(&probe), now))
    });
    group.bench_function("lookup an unknown token", |b| {
        b.iter(|| store.lookup(black_box(&unknown), now))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
