//! DER certificates (client certificates are attacker-supplied).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tls_inventory::CertificateInfo;

fuzz_target!(|data: &[u8]| {
    if let Some(info) = CertificateInfo::from_der(data) {
        let _ = info.is_valid_at(0);
        let _ = tls_inventory::java_date(info.not_after_unix);
    }
    let _ = tls_inventory::dn::subject_java_name(data);
});
