//! Backup blobs given to `POST transit/restore`: base64 of Vault's JSON,
//! with big integers for EC and RSA keys. The raw bytes are tried both as
//! the blob and as the JSON inside it.
#![no_main]

use keyring_core::Timestamp;
use libfuzzer_sys::fuzz_target;
use transit_crypto::{Policy, gobase64};

fuzz_target!(|data: &[u8]| {
    let now = Timestamp::from_unix_secs(1);
    let _ = Policy::from_backup(&String::from_utf8_lossy(data), None, now);
    if let Ok(p) = Policy::from_backup(&gobase64::encode(data), Some("fuzz"), now) {
        let _ = p.latest_version();
    }
});
