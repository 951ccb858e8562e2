//! In-process throughput of what an encrypt request costs without HTTP:
//! base64-decode each plaintext, AES-256-GCM-seal it under a random nonce,
//! base64-encode the ciphertext (`Policy::encrypt`, the code the server runs).
//! `cargo xtask bench transit` compares the HTTP batch encrypt against it.
//!
//! Usage: `throughput [items] [item_bytes] [seconds]`; prints one JSON line.

use std::time::{Duration, Instant};

use keyring_core::Timestamp;
use transit_crypto::{CipherInput, KeyName, KeyOptions, KeyType, Policy, SecretBytes, gobase64};

fn arg(n: usize, default: u64) -> u64 {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let items = arg(1, 1000) as usize;
    let size = arg(2, 1024) as usize;
    let seconds = arg(3, 3);
    let name = KeyName::parse("bench").ok_or("bad name")?;
    let policy = Policy::generate(
        name,
        &KeyOptions::new(KeyType::Aes256Gcm96),
        Timestamp::from_unix_secs(0),
    )?;
    let inputs: Vec<String> = (0..items)
        .map(|_| SecretBytes::random(size).map(|b| gobase64::encode(b.expose())))
        .collect::<Result<_, _>>()?;
    let budget = Duration::from_secs(seconds);
    let started = Instant::now();
    let mut batches = 0u64;
    let mut out_bytes = 0usize;
    while started.elapsed() < budget {
        for input in &inputs {
            let plaintext = gobase64::decode(input).map_err(|e| e.to_string())?;
            let sealed = policy.encrypt(&plaintext, &CipherInput::default())?;
            out_bytes += sealed.ciphertext.len();
        }
        batches += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    let plaintext_bytes = batches as f64 * items as f64 * size as f64;
    println!(
        "{{\"batches_per_s\":{:.2},\"mb_per_s\":{:.1},\"ciphertext_bytes\":{}}}",
        batches as f64 / secs,
        plaintext_bytes / secs / 1e6,
        out_bytes
    );
    Ok(())
}
