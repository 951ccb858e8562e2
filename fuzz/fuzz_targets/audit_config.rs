//! Bodies of `PUT .../audit/config` and `PATCH .../audit`.
#![no_main]

use audit_config::{AuditConfig, AuditDocument};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let doc = AuditDocument::new(vec!["/audit/enable_rest".into()], AuditConfig::shipped());
    let _ = doc.replace(&value, false);
    let _ = doc.patch(&value, false);
});
