//! JSON Patch requests: parsing with the plugin's answers for bad bodies,
//! and applying to a copy (the `json-patch` crate reverts on failure).

use json_patch::{Patch, PatchErrorKind};
use serde_json::Value;

use crate::Error;

/// The operations keyward accepts: all six of RFC 6902.
pub const SUPPORTED_OPERATIONS: &str = "add,copy,move,remove,replace,test";

/// Parses a PATCH body.
pub fn parse_patch(body: &[u8]) -> Result<Patch, Error> {
    let value = crate::json::parse_strict(body)
        .map_err(|_| Error::BadRequest("Error in JSON patch: the body is not valid JSON".into()))?;
    let Value::Array(ops) = &value else {
        return Err(Error::BadRequest("Wrong request body".into()));
    };
    if ops.is_empty() || !ops.iter().any(|op| op.get("op").is_some()) {
        return Err(Error::BadRequest("Wrong request body".into()));
    }
    for op in ops {
        let name = op.get("op").and_then(Value::as_str).unwrap_or_default();
        if !SUPPORTED_OPERATIONS.split(',').any(|s| s == name) {
            return Err(Error::BadRequest(format!(
                "Unsupported patch operation: {name}. Supported are: {SUPPORTED_OPERATIONS}"
            )));
        }
    }
    serde_json::from_value(value)
        .map_err(|e| Error::BadRequest(format!("Error in JSON patch: {e}")))
}

/// Applies `patch` to a copy of `doc`. The copy is what makes it atomic: on
/// failure the copy is dropped. (`json_patch::patch`'s own undo can panic
/// when it tries to revert some `move` operations; the property tests found
/// it, so the non-reverting variant is used on the throw-away copy.)
pub fn apply(doc: &Value, patch: &Patch) -> Result<Value, Error> {
    let mut copy = doc.clone();
    json_patch::patch_unsafe(&mut copy, patch).map_err(|e| {
        let op = patch
            .0
            .get(e.operation)
            .map(|o| o.to_string())
            .unwrap_or_default();
        let what = match e.kind {
            PatchErrorKind::TestFailed => "test failed: the value did not match".to_string(),
            PatchErrorKind::InvalidPointer => format!("no such path {}", e.path),
            other => other.to_string(),
        };
        Error::BadRequest(format!("[operation {}] {what} ({op})", e.operation))
    })?;
    Ok(copy)
}
