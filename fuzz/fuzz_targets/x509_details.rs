//! DER certificates (client certificates are attacker-supplied).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tls_inventory::CertificateInfo;

fuzz_target!(|data: &[u8]| {
    if let Some(info) = CertificateInfo::from_der(data) {
        let _ = serde_json::to_string(&info);
        let _ = info.is_valid_at(0);
    }
});
