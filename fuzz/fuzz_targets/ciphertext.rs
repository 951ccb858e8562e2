//! `vault:v<N>:` ciphertexts given to `transit/decrypt` and `rewrap`: the
//! frame parser, Go's base64, then decryption under every symmetric key
//! type, with and without associated data. Random input never decrypts.
#![no_main]

use std::sync::OnceLock;

use keyring_core::Timestamp;
use libfuzzer_sys::fuzz_target;
use transit_crypto::{CipherInput, KeyName, KeyOptions, KeyType, Policy, gobase64, prefixed};

fn keys() -> &'static [Policy] {
    static KEYS: OnceLock<Vec<Policy>> = OnceLock::new();
    KEYS.get_or_init(|| {
        [KeyType::Aes256Gcm96, KeyType::Aes128Gcm96, KeyType::ChaCha20Poly1305]
            .into_iter()
            .map(|t| {
                Policy::generate(KeyName::parse("fuzz").expect("name"), &KeyOptions::new(t), Timestamp::from_unix_secs(1))
                    .expect("key")
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = prefixed::parse(&text);
    let framed = format!("vault:v1:{}", gobase64::encode(data));
    let input = CipherInput { context: b"", associated_data: b"", key_version: 0, nonce_given: false };
    let with_ad = CipherInput { associated_data: b"ad", ..CipherInput { ..input } };
    for p in keys() {
        assert!(p.decrypt(&framed, &input).is_err(), "random bytes decrypted");
        assert!(p.decrypt(&framed, &with_ad).is_err(), "random bytes decrypted");
        let _ = p.decrypt(&text, &input);
    }
});
