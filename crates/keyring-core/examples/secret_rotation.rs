//! The secret store's rotation against the bare cryptography it has to do.
//!
//! `cargo run --release -p keyring-core --example secret_rotation -- N BYTES [DIR]`
//!
//! 1. In-process baseline: N values of BYTES bytes, each sealed with
//!    AES-256-GCM (random nonce, its name as associated data); then the
//!    time to open every one and seal it again under a new key — the work a
//!    rotation cannot avoid.
//! 2. Unless `baseline-only` is given as DIR: a `SecretStore` on a redb
//!    file in DIR (a temporary directory by default) with the same N
//!    secrets, and the time of `rotate`.
//!
//! Prints one JSON object: `baseline_ms`, `rotate_ms` (when measured).
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::Instant;

use keyring_core::{Barrier, RedbStore, SecretName, SecretStore, Timestamp};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

fn key(rng: &SystemRandom) -> LessSafeKey {
    let mut raw = [0u8; 32];
    rng.fill(&mut raw).expect("randomness");
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &raw).expect("key"))
}

fn seal(k: &LessSafeKey, rng: &SystemRandom, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce).expect("randomness");
    let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + 16);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = k
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut out[NONCE_LEN..],
        )
        .expect("seal");
    out.extend_from_slice(tag.as_ref());
    out
}

fn open(k: &LessSafeKey, aad: &[u8], sealed: &[u8]) -> Zeroizing<Vec<u8>> {
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let mut buf = Zeroizing::new(body.to_vec());
    let n = k
        .open_in_place(
            Nonce::try_assume_unique_for_key(nonce).expect("nonce"),
            Aad::from(aad),
            buf.as_mut_slice(),
        )
        .expect("open")
        .len();
    buf.truncate(n);
    buf
}

fn name(i: usize) -> String {
    format!("secret-{i:06}")
}

fn value(i: usize, bytes: usize) -> Vec<u8> {
    let mut v = format!("value-{i}-").into_bytes();
    v.resize(bytes, b'x');
    v
}

/// Open every value and seal it again under a new key, one thread.
fn baseline(n: usize, bytes: usize) -> f64 {
    let rng = SystemRandom::new();
    let (old, new) = (key(&rng), key(&rng));
    let sealed: Vec<(String, Vec<u8>)> = (0..n)
        .map(|i| {
            let name = name(i);
            let s = seal(&old, &rng, name.as_bytes(), &value(i, bytes));
            (name, s)
        })
        .collect();
    let start = Instant::now();
    let mut out = Vec::with_capacity(n);
    for (name, s) in &sealed {
        let plain = open(&old, name.as_bytes(), s);
        out.push(seal(&new, &rng, name.as_bytes(), &plain));
    }
    let elapsed = start.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(out.len(), n);
    elapsed
}

async fn rotation(n: usize, bytes: usize, dir: &std::path::Path) -> f64 {
    let store = RedbStore::open(dir.join("rotation.redb")).expect("redb");
    let barrier = Arc::new(Barrier::ephemeral(Arc::new(store)).expect("barrier"));
    let secrets = SecretStore::open(barrier, "secrets/", Timestamp::from_unix_secs(1))
        .await
        .expect("open");
    let items: Vec<(SecretName, Zeroizing<Vec<u8>>)> = (0..n)
        .map(|i| {
            (
                SecretName::new(&name(i)).expect("name"),
                Zeroizing::new(value(i, bytes)),
            )
        })
        .collect();
    for chunk in items.chunks(10_000) {
        secrets.put_many(chunk).await.expect("put");
    }
    let start = Instant::now();
    let r = secrets
        .rotate(Timestamp::from_unix_secs(2))
        .await
        .expect("storage")
        .expect("not busy");
    let elapsed = start.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(r.re_encrypted, n);
    elapsed
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let bytes: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(32);
    let baseline_ms = baseline(n, bytes);
    if args.get(2).map(String::as_str) == Some("baseline-only") {
        println!("{{\"secrets\":{n},\"bytes\":{bytes},\"baseline_ms\":{baseline_ms:.1}}}");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = args
        .get(2)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let rotate_ms = rt.block_on(rotation(n, bytes, &dir));
    println!(
        "{{\"secrets\":{n},\"bytes\":{bytes},\"baseline_ms\":{baseline_ms:.1},\"rotate_ms\":{rotate_ms:.1}}}"
    );
}
