//! Signatures given to `POST transit/verify/:name`: the ASN.1 ECDSA parser
//! and the whole verification of every signing type, framed and unframed.
#![no_main]

use std::sync::OnceLock;

use keyring_core::Timestamp;
use libfuzzer_sys::fuzz_target;
use transit_crypto::der_lite::parse_ecdsa_signature;
use transit_crypto::{KeyName, KeyOptions, KeyType, Marshaling, Policy, SignOptions, gobase64};

fn keys() -> &'static [Policy] {
    static KEYS: OnceLock<Vec<Policy>> = OnceLock::new();
    KEYS.get_or_init(|| {
        [KeyType::Ed25519, KeyType::EcdsaP256, KeyType::EcdsaP521, KeyType::Rsa2048]
            .into_iter()
            .map(|t| {
                Policy::generate(KeyName::parse("fuzz").expect("name"), &KeyOptions::new(t), Timestamp::from_unix_secs(1))
                    .expect("key")
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = parse_ecdsa_signature(data);
    let framed = format!("vault:v1:{}", gobase64::encode(data));
    let text = String::from_utf8_lossy(data);
    for p in keys() {
        for marshaling in [Marshaling::Asn1, Marshaling::Jws] {
            let o = SignOptions { marshaling, ..SignOptions::default() };
            if let Ok(valid) = p.verify_signature(b"", b"message", &framed, &o) {
                assert!(!valid, "random bytes verified");
            }
            let _ = p.verify_signature(b"", b"message", &text, &o);
        }
    }
});
