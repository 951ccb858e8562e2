//! In-process sign and verify rates of the underlying crates, one thread:
//! ed25519-dalek (ed25519), p256 (ECDSA P-256 over SHA-256) and aws-lc-rs
//! (RSA-2048 PSS over SHA-256). `cargo xtask bench transit` compares the
//! HTTP rates of `sign` and `verify` against these.
//!
//! Usage: `signing [seconds per measure]`; prints one JSON object.

use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa;
use aws_lc_rs::signature::{self, KeyPair};
use ecdsa::signature::{Signer, Verifier};

const MESSAGE: &[u8] = b"hello world";

fn rate(budget: Duration, mut op: impl FnMut()) -> f64 {
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < budget {
        for _ in 0..16 {
            op();
        }
        n += 16;
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2.0);
    let budget = Duration::from_secs_f64(secs);

    let ed = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let ed_pub = ed.verifying_key();
    let ed_sig = ed.sign(MESSAGE);
    let ed_sign = rate(budget, || {
        std::hint::black_box(ed.sign(std::hint::black_box(MESSAGE)));
    });
    let ed_verify = rate(budget, || {
        assert!(ed_pub.verify(MESSAGE, &ed_sig).is_ok());
    });

    // The same ed25519 and P-256 operations in aws-lc-rs, for comparison.
    let lc_ed = signature::Ed25519KeyPair::from_seed_unchecked(&[7u8; 32])?;
    assert_eq!(lc_ed.sign(MESSAGE).as_ref(), ed_sig.to_bytes().as_slice());
    let lc_ed_sign = rate(budget, || {
        std::hint::black_box(lc_ed.sign(std::hint::black_box(MESSAGE)));
    });
    let lc_ed_pub = signature::UnparsedPublicKey::new(
        &signature::ED25519,
        lc_ed.public_key().as_ref().to_vec(),
    );
    let lc_ed_verify = rate(budget, || {
        assert!(lc_ed_pub.verify(MESSAGE, &ed_sig.to_bytes()).is_ok());
    });

    let p256 = p256::ecdsa::SigningKey::from_slice(&[9u8; 32])?;
    let p256_pub = *p256.verifying_key();
    let p256_sig: p256::ecdsa::Signature = p256.sign(MESSAGE);
    let ec_sign = rate(budget, || {
        let s: p256::ecdsa::Signature = p256.sign(std::hint::black_box(MESSAGE));
        std::hint::black_box(s);
    });
    let ec_verify = rate(budget, || {
        assert!(p256_pub.verify(MESSAGE, &p256_sig).is_ok());
    });

    let pair = rsa::KeyPair::generate(rsa::KeySize::Rsa2048)?;
    let rng = SystemRandom::new();
    let mut rsa_sig = vec![0u8; pair.public_modulus_len()];
    pair.sign(&signature::RSA_PSS_SHA256, &rng, MESSAGE, &mut rsa_sig)?;
    let public = signature::UnparsedPublicKey::new(
        &signature::RSA_PSS_2048_8192_SHA256,
        pair.public_key().as_ref().to_vec(),
    );
    let rsa_sign = rate(budget, || {
        let mut out = vec![0u8; 256];
        pair.sign(&signature::RSA_PSS_SHA256, &rng, MESSAGE, &mut out)
            .expect("sign");
    });
    let rsa_verify = rate(budget, || {
        assert!(public.verify(MESSAGE, &rsa_sig).is_ok());
    });
    println!(
        "{{\"ed25519-aws-lc\":{{\"sign\":{lc_ed_sign:.0},\"verify\":{lc_ed_verify:.0}}},\"ed25519\":{{\"sign\":{ed_sign:.0},\"verify\":{ed_verify:.0}}},\"ecdsa-p256\":{{\"sign\":{ec_sign:.0},\"verify\":{ec_verify:.0}}},\"rsa-2048\":{{\"sign\":{rsa_sign:.0},\"verify\":{rsa_verify:.0}}}}}"
    );
    Ok(())
}
