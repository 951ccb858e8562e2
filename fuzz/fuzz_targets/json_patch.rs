//! JSON Patch bodies (RFC 6902) from an untrusted `PATCH` of the security
//! API, parsed and applied to a document shaped like the plugin's: never a
//! panic; a patch of `test` operations alone that applies leaves the
//! document as it was; what one patch produces, the same patch produces
//! again from the same document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rbac_model::ops::{apply_patch, parse_patch};
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(patch) = parse_patch(data) else { return };
    let doc = json!({
        "admin": {"hash": "", "reserved": true, "backend_roles": ["admin"], "attributes": {}},
        "kibanaro": {"hash": "", "backend_roles": ["kibanauser", "readall"],
                     "attributes": {"attribute1": "value1"}, "description": "Demo user"},
        "list": [1, 2, 3, {"nested": [null, true, 1.5, "x"]}],
    });
    let first = apply_patch(&doc, &patch);
    let second = apply_patch(&doc, &patch);
    assert_eq!(first.is_ok(), second.is_ok());
    if let (Ok(a), Ok(b)) = (&first, &second) {
        assert_eq!(a, b);
    }
    let only_tests = patch
        .0
        .iter()
        .all(|op| matches!(op, json_patch::PatchOperation::Test(_)));
    if only_tests && let Ok(out) = first {
        assert_eq!(out, doc);
    }
});
