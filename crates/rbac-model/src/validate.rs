//! The plugin's request-content validator: allowed and mandatory keys, value
//! types, `null` or blank array elements, string lengths and password rules,
//! in the plugin's order, with its messages.

use serde_json::Value;

use crate::{PasswordPolicy, ValidationFailure};

/// The longest string value accepted anywhere in a body.
pub const MAX_STRING_LENGTH: usize = 256;

/// The JSON type a key must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
    /// A boolean, or the string `true`/`false` in any case.
    Boolean,
}

/// What a resource's body may and must contain.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    /// Keys anyone may send.
    pub allowed: &'static [(&'static str, DataType)],
    /// Keys that must be present.
    pub mandatory: &'static [&'static str],
    /// At least one of these must be present.
    pub mandatory_or: &'static [&'static str],
    /// Whether `hidden` and `reserved` are resource keys (allowed to REST admins).
    pub flags: bool,
}

/// Keys whose string values have their own limits (or none): passwords are
/// checked by the password rules, hashes and DLS queries may be long.
const LENGTH_EXEMPT: &[&str] = &["password", "current_password", "hash", "dls"];

/// The password check of a validation: the rules and the user name.
pub struct PasswordCheck<'a> {
    /// The rules.
    pub policy: &'a PasswordPolicy,
    /// The user the password is for.
    pub username: &'a str,
}

/// Validates `content` against `schema`. `rest_admin` allows `hidden` and
/// `reserved`.
pub fn validate(
    content: &Value,
    schema: &Schema,
    rest_admin: bool,
    password: Option<PasswordCheck<'_>>,
) -> Result<(), ValidationFailure> {
    let allowed_type = |key: &str| -> Option<DataType> {
        if schema.flags && rest_admin && (key == "hidden" || key == "reserved") {
            return Some(DataType::Boolean);
        }
        schema
            .allowed
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, t)| *t)
    };
    let empty = match content {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => true,
    };
    if empty {
        return Err(ValidationFailure::body_required());
    }
    let keys: Vec<&str> = match content {
        Value::Object(m) => m.keys().map(String::as_str).collect(),
        _ => Vec::new(),
    };

    let mut specify_one_of = Vec::new();
    if !schema.mandatory_or.is_empty() && !schema.mandatory_or.iter().any(|k| keys.contains(k)) {
        specify_one_of = sorted(schema.mandatory_or.iter().copied());
    }
    let missing_mandatory_keys = sorted(
        schema
            .mandatory
            .iter()
            .copied()
            .filter(|k| !keys.contains(k)),
    );
    let invalid_keys = sorted(keys.iter().copied().filter(|k| allowed_type(k).is_none()));
    if !(invalid_keys.is_empty() && missing_mandatory_keys.is_empty() && specify_one_of.is_empty())
    {
        return Err(ValidationFailure::InvalidConfiguration {
            invalid_keys,
            missing_mandatory_keys,
            specify_one_of,
        });
    }

    let Value::Object(map) = content else {
        return Ok(());
    };
    let mut wrong = Vec::new();
    for (key, value) in map {
        let Some(t) = allowed_type(key) else { continue };
        let ok = match t {
            DataType::String => value.is_string(),
            DataType::Array => value.is_array(),
            DataType::Object => value.is_object(),
            DataType::Boolean => value_as_bool(value).is_some(),
        };
        if !ok {
            let expected = match t {
                DataType::String => "String expected",
                DataType::Array => "Array expected",
                DataType::Object => "Object expected",
                DataType::Boolean => "Boolean expected",
            };
            wrong.push((key.clone(), expected.to_string()));
        }
    }
    if !wrong.is_empty() {
        wrong.sort();
        return Err(ValidationFailure::WrongDatatype(wrong));
    }

    if map.values().any(has_null_or_blank_element) {
        return Err(ValidationFailure::Reason(
            "`null` or blank values are not allowed as json array elements".into(),
        ));
    }
    for (key, value) in map {
        if !LENGTH_EXEMPT.contains(&key.as_str()) && has_long_string(value) {
            return Err(ValidationFailure::Reason(format!(
                "String value exceeds the maximum allowed length of {MAX_STRING_LENGTH} characters"
            )));
        }
    }

    if let (Some(check), Some(pw)) = (password, map.get("password")) {
        let pw = pw.as_str().unwrap_or_default();
        check
            .policy
            .check(check.username, pw)
            .map_err(ValidationFailure::Reason)?;
    }
    Ok(())
}

/// A boolean as the plugin's mapper reads it: `true`/`false`, or the same
/// words as strings in any case.
pub fn value_as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn sorted<'a>(keys: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut v: Vec<String> = keys.map(str::to_string).collect();
    v.sort();
    v.dedup();
    v
}

fn has_null_or_blank_element(v: &Value) -> bool {
    match v {
        Value::Array(items) => items.iter().any(|e| match e {
            Value::Null => true,
            Value::String(s) => s.trim().is_empty(),
            other => has_null_or_blank_element(other),
        }),
        Value::Object(m) => m.values().any(has_null_or_blank_element),
        _ => false,
    }
}

fn has_long_string(v: &Value) -> bool {
    match v {
        Value::String(s) => s.chars().count() > MAX_STRING_LENGTH,
        Value::Array(items) => items.iter().any(has_long_string),
        Value::Object(m) => m
            .iter()
            .any(|(k, v)| k.chars().count() > MAX_STRING_LENGTH || has_long_string(v)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SCHEMA: Schema = Schema {
        allowed: &[
            ("backend_roles", DataType::Array),
            ("description", DataType::String),
            ("attributes", DataType::Object),
        ],
        mandatory: &["backend_roles"],
        mandatory_or: &[],
        flags: true,
    };

    #[test]
    fn the_plugins_validation_bodies() {
        assert_eq!(
            validate(&json!({}), &SCHEMA, false, None).unwrap_err(),
            ValidationFailure::body_required()
        );
        match validate(&json!({"c": 1, "a": 2}), &SCHEMA, false, None).unwrap_err() {
            ValidationFailure::InvalidConfiguration {
                invalid_keys,
                missing_mandatory_keys,
                ..
            } => {
                assert_eq!(invalid_keys.join(","), "a,c");
                assert_eq!(missing_mandatory_keys, vec!["backend_roles"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            validate(
                &json!({"backend_roles": [], "hidden": true}),
                &SCHEMA,
                false,
                None
            )
            .is_err()
        );
        assert!(
            validate(
                &json!({"backend_roles": [], "hidden": "TRUE"}),
                &SCHEMA,
                true,
                None
            )
            .is_ok()
        );
        match validate(
            &json!({"backend_roles": "x", "attributes": []}),
            &SCHEMA,
            false,
            None,
        )
        .unwrap_err()
        {
            ValidationFailure::WrongDatatype(w) => assert_eq!(
                w,
                vec![
                    ("attributes".into(), "Object expected".into()),
                    ("backend_roles".into(), "Array expected".into())
                ]
            ),
            other => panic!("{other:?}"),
        }
        for bad in [
            json!({"backend_roles": ["a", " "]}),
            json!({"backend_roles": [null]}),
        ] {
            assert!(matches!(
                validate(&bad, &SCHEMA, false, None).unwrap_err(),
                ValidationFailure::Reason(r) if r.starts_with("`null` or blank")
            ));
        }
        let long = "x".repeat(257);
        assert!(validate(&json!({"backend_roles": [long]}), &SCHEMA, false, None).is_err());
    }
}
