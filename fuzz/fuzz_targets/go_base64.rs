//! Base64 as Vault reads it (standard alphabet, padded; and the raw URL
//! form of JWS signatures): never a panic, and whatever decodes encodes back
//! to an input that decodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use transit_crypto::gobase64;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(bytes) = gobase64::decode(&text) {
        assert_eq!(gobase64::decode(&gobase64::encode(&bytes)).ok(), Some(bytes));
    }
    let _ = gobase64::decode_secret(&text);
    if let Some(bytes) = gobase64::decode_raw_url(&text) {
        assert_eq!(gobase64::decode_raw_url(&gobase64::encode_raw_url(&bytes)), Some(bytes));
    }
    // Every byte string round-trips.
    assert_eq!(gobase64::decode(&gobase64::encode(data)).ok().as_deref(), Some(data));
});
