//! JSON at the edge: strict parsing (duplicate keys refused, as the plugin's
//! parser does) and the plugin's "defaults omitted" view used as the base of
//! a JSON Patch.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::ValidationFailure;

/// The prefix of the object keys serde_json gives a meaning of its own.
const RESERVED_KEY_PREFIX: &str = "$serde_json::private::";

/// Parses `bytes` as JSON, refusing duplicate object keys anywhere, and the
/// keys serde_json reserves (`$serde_json::private::...`).
pub fn parse_strict(bytes: &[u8]) -> Result<Value, ValidationFailure> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let StrictValue(v) =
        StrictValue::deserialize(&mut de).map_err(|_| ValidationFailure::unparseable())?;
    de.end().map_err(|_| ValidationFailure::unparseable())?;
    Ok(v)
}

struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            // serde_json reads an object with one of its private keys as
            // something else (`{"$serde_json::private::RawValue": "[1]"}` is
            // `[1]`), so a document accepted here would be another document,
            // or none, when read back: such keys are refused.
            if key.starts_with(RESERVED_KEY_PREFIX) {
                return Err(de::Error::custom(format!("reserved key {key}")));
            }
            let StrictValue(v) = map.next_value()?;
            if out.insert(key.clone(), v).is_some() {
                return Err(de::Error::custom(format!("duplicate key {key}")));
            }
        }
        Ok(Value::Object(out))
    }
}

/// Removes what the plugin's serializer leaves out of the document a patch
/// is applied to: `false`, `null`, `""`, empty arrays and empty objects, at
/// any depth below the top. A `replace` of such a field then fails as it
/// does in the plugin; `add` works.
pub fn omit_defaults(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, child| {
                omit_defaults(child);
                !is_default(child)
            });
        }
        Value::Array(items) => items.iter_mut().for_each(omit_defaults),
        _ => {}
    }
}

fn is_default(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Number(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        assert!(parse_strict(br#"{"a":1,"b":{"c":1}}"#).is_ok());
        assert!(parse_strict(br#"{"a":1,"a":2}"#).is_err());
        assert!(parse_strict(br#"{"a":[{"c":1,"c":1}]}"#).is_err());
        assert!(parse_strict(b"{").is_err());
        assert!(parse_strict(b"{} x").is_err());
    }

    /// The `strict_json` fuzz target's crash (crash-8be95c8f): serde_json
    /// read this document as something else; keys like it are refused.
    #[test]
    fn serde_json_private_keys_are_refused() {
        assert!(parse_strict(br#"{"a":{"$serde_json::private::RawValue":0}}"#).is_err());
        assert!(parse_strict(br#"{"$serde_json::private::RawValue":"[1]"}"#).is_err());
        assert!(parse_strict(br#"[{"$serde_json::private::Number":"1"}]"#).is_err());
        assert!(parse_strict(br#"{"$serde_json":1, "private::RawValue":2}"#).is_ok());
    }

    #[test]
    fn defaults_are_omitted() {
        let mut v = serde_json::json!({"a": false, "b": [], "c": {"d": null}, "e": "x", "f": true, "g": ""});
        omit_defaults(&mut v);
        assert_eq!(v, serde_json::json!({"e": "x", "f": true}));
    }
}
