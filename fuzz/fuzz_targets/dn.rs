//! Distinguished names from configuration and API bodies (`admin_dn`), and
//! DER names rendered as Java prints them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rbac_model::dn::{AdminDns, NormalizedDn};

fuzz_target!(|data: &[u8]| {
    let _ = tls_inventory::dn::subject_dn(data);
    let _ = tls_inventory::dn::subject_java_name(data);
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = NormalizedDn::parse(text);
    if text.is_char_boundary(text.len() / 2) {
        let (a, b) = text.split_at(text.len() / 2);
        if let Ok(m) = AdminDns::new(&[a.to_string()]) {
            let _ = m.is_admin(b);
        }
    }
});
