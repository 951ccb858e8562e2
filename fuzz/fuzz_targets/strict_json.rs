//! The strict JSON reader of the security REST API (duplicate keys refused):
//! never a panic; what it accepts, serde_json accepts too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = rbac_model::json::parse_strict(data) {
        let reparsed: serde_json::Value = serde_json::from_slice(data).expect("serde_json reads it too");
        assert_eq!(v, reparsed);
    }
});
