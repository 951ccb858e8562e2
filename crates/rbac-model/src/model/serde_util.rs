//! Serde helpers for the plugin's lenient value readings.

use std::collections::BTreeMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A boolean, or `"true"`/`"false"` in any case (Jackson's coercion).
pub(crate) fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v = Value::deserialize(d)?;
    crate::validate::value_as_bool(&v)
        .ok_or_else(|| D::Error::custom(format!("expected a boolean, found {v}")))
}

/// User attributes: every scalar becomes a string; objects and arrays are refused.
pub(crate) fn string_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let map = BTreeMap::<String, Value>::deserialize(d)?;
    map.into_iter()
        .map(|(k, v)| {
            let s = match v {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => String::new(),
                other => {
                    return Err(D::Error::custom(format!(
                        "attribute {k} must be a string, found {other}"
                    )));
                }
            };
            Ok((k, s))
        })
        .collect()
}

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}
