//! Distinguished names from configuration and API bodies (`admin_dn`, `nodes_dn`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tls_inventory::dn::{DnMatcher, NormalizedDn};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = NormalizedDn::parse(text);
    if text.is_char_boundary(text.len() / 2) {
        let (a, b) = text.split_at(text.len() / 2);
        let m = DnMatcher::new([a]);
        let _ = m.matches(b);
    }
});
