//! Vault's request semantics, so handlers get typed values and never JSON:
//!
//! - data comes from the JSON body (an object; empty or `null` is no data),
//!   a form body (`application/x-www-form-urlencoded`), or the query string
//!   for GET, DELETE and LIST;
//! - every route capture is put into the data, replacing a body value of
//!   the same name with Vault's warning;
//! - each declared field is coerced as Vault's framework coerces it (ints
//!   and bools from strings, durations from Go strings), failing with
//!   `Field validation failed: error converting input for field "<f>": ...`;
//! - parameters a route does not declare are ignored, with Vault's warning.
//!
//! Numbers keep their JSON text ([`RawValue`]), so `1.5` for an int fails
//! with Go's `invalid syntax` exactly as Vault does.

use std::collections::HashMap;

use serde_json::value::RawValue;

use super::goparse::{go_quote, parse_bool, parse_duration_secs, parse_int};
use crate::family::vault::VaultError;

/// How a field is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `TypeString`.
    Str,
    /// `TypeInt`.
    Int,
    /// `TypeBool`.
    Bool,
    /// `TypeDurationSecond`: whole seconds, never negative.
    DurationSecs,
    /// JSON kept as it is (`batch_input`): the handler decodes it.
    Raw,
}

/// The fields a route declares, captures included.
pub(crate) type Schema = &'static [(&'static str, Kind)];

/// One value of the request data, before coercion.
#[derive(Debug)]
pub(crate) enum Input {
    /// From a JSON body.
    Json(Box<RawValue>),
    /// From the query string, a form or a route capture.
    Text(String),
}

/// A coerced value.
#[derive(Debug)]
enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    Secs(u64),
    Raw(Box<RawValue>),
}

/// Go's name for the type of a JSON value, as Vault's errors print it.
pub(crate) fn go_type(raw: &RawValue) -> &'static str {
    match raw.get().trim_start().as_bytes().first() {
        Some(b'"') => "string",
        Some(b'{') => "map[string]interface {}",
        Some(b'[') => "[]interface {}",
        Some(b't' | b'f') => "bool",
        Some(b'n') => "<nil>",
        _ => "json.Number",
    }
}

fn json_string(raw: &RawValue) -> Option<String> {
    serde_json::from_str::<String>(raw.get()).ok()
}

fn is_null(raw: &RawValue) -> bool {
    raw.get().trim() == "null"
}

fn coerce(kind: Kind, input: Input) -> Result<Option<Value>, String> {
    let (text, go) = match input {
        Input::Text(t) => (Some(t), "string"),
        Input::Json(raw) => {
            if kind == Kind::Raw {
                // `null` means "not given" for raw fields.
                return Ok((!is_null(&raw)).then_some(Value::Raw(raw)));
            }
            let go = go_type(&raw);
            match go {
                "string" => (json_string(&raw), go),
                "json.Number" => (Some(raw.get().trim().to_string()), go),
                "bool" => (Some((raw.get().trim() == "true").to_string()), go),
                "<nil>" => (None, go),
                _ => {
                    let want = match kind {
                        Kind::Str => "string",
                        Kind::Int => "int",
                        Kind::Bool => "bool",
                        Kind::DurationSecs => {
                            return Err("could not parse duration from input".into());
                        }
                        Kind::Raw => return Ok(None),
                    };
                    return Err(format!(
                        "'' expected type '{want}', got unconvertible type '{go}'"
                    ));
                }
            }
        }
    };
    // A JSON null is "given, with the zero value", as in Vault.
    let Some(text) = text else {
        return Ok(Some(match kind {
            Kind::Str => Value::Str(String::new()),
            Kind::Int => Value::Int(0),
            Kind::Bool => Value::Bool(false),
            Kind::DurationSecs => Value::Secs(0),
            // Raw fields returned above; nothing to coerce.
            Kind::Raw => return Ok(None),
        }));
    };
    let value = match kind {
        Kind::Str => Value::Str(match (go, text.as_str()) {
            // mapstructure's weak decoding writes bools as 1 and 0.
            ("bool", "true") => "1".into(),
            ("bool", _) => "0".into(),
            _ => text,
        }),
        Kind::Int => Value::Int(match (go, text.as_str()) {
            ("bool", "true") => 1,
            ("bool", _) => 0,
            _ => parse_int(&text).map_err(|reason| {
                format!("'' cannot parse value as 'int': strconv.ParseInt: {reason}")
            })?,
        }),
        Kind::Bool => Value::Bool(match go {
            "bool" => text == "true",
            _ => parse_bool(&text).ok_or_else(|| {
                "'' cannot parse value as 'bool': strconv.ParseBool: invalid syntax".to_string()
            })?,
        }),
        Kind::DurationSecs => {
            if go == "bool" {
                return Err("could not parse duration from input".into());
            }
            let secs = parse_duration_secs(&text)?;
            if secs < 0 {
                return Err(format!("cannot provide negative value '{secs}'"));
            }
            Value::Secs(secs as u64)
        }
        Kind::Raw => {
            // A raw field given as text (query, form): keep it as a JSON string.
            let json = serde_json::to_string(&text).unwrap_or_default();
            match RawValue::from_string(json) {
                Ok(raw) => Value::Raw(raw),
                Err(_) => return Ok(None),
            }
        }
    };
    Ok(Some(value))
}

/// The request data, coerced by a route's schema.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    values: HashMap<&'static str, Value>,
    warnings: Vec<String>,
}

/// Where a request's data comes from.
pub(crate) struct Source<'a> {
    /// True for GET, DELETE and LIST: the query string is the data.
    pub(crate) from_query: bool,
    pub(crate) query: Option<&'a str>,
    pub(crate) content_type: Option<&'a str>,
    pub(crate) body: &'a [u8],
    pub(crate) captures: &'a [(String, String)],
    /// Encrypt (the one route with an existence check) reports coercion
    /// errors without the `Field validation failed: ` prefix.
    pub(crate) plain_errors: bool,
}

/// Splits `a=1&b=2` into decoded pairs (`+` is a space).
pub(crate) fn parse_urlencoded(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

fn decode_component(s: &str) -> String {
    let s = s.replace('+', " ");
    crate::ctx::percent_decode(&s).unwrap_or(s)
}

fn parse_error() -> VaultError {
    VaultError::bad_request("error parsing JSON")
}

/// The raw data of a request, before coercion.
pub(crate) fn raw_data(src: &Source<'_>) -> Result<Vec<(String, Input)>, VaultError> {
    if src.from_query {
        return Ok(src
            .query
            .map(parse_urlencoded)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, Input::Text(v)))
            .collect());
    }
    // Vault's `isForm`: a form content type and a body that does not start
    // like JSON (curl -d sends JSON with the form content type).
    let is_form = src
        .content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|ct| {
            ct.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
        && !matches!(src.body.trim_ascii_start().first(), Some(b'{' | b'['));
    if is_form {
        let text = std::str::from_utf8(src.body).map_err(|_| parse_error())?;
        return Ok(parse_urlencoded(text)
            .into_iter()
            .map(|(k, v)| (k, Input::Text(v)))
            .collect());
    }
    let trimmed = src.body.trim_ascii();
    if trimmed.is_empty() || trimmed == b"null" {
        return Ok(Vec::new());
    }
    let map: HashMap<String, Box<RawValue>> =
        serde_json::from_slice(trimmed).map_err(|_| parse_error())?;
    Ok(map.into_iter().map(|(k, v)| (k, Input::Json(v))).collect())
}

impl Fields {
    /// Coerces the request's data by `schema`.
    pub(crate) fn parse(src: &Source<'_>, schema: Schema) -> Result<Fields, VaultError> {
        let mut data: HashMap<String, Input> = raw_data(src)?.into_iter().collect();
        let mut fields = Fields::default();

        // Captures replace body values (Vault warns after the ignored list).
        let mut replaced: Vec<&str> = Vec::new();
        for (name, value) in src.captures {
            if data
                .insert(name.clone(), Input::Text(value.clone()))
                .is_some()
            {
                replaced.push(name);
            }
        }

        for &(name, kind) in schema {
            let Some(input) = data.remove(name) else {
                continue;
            };
            match coerce(kind, input) {
                Ok(Some(v)) => {
                    fields.values.insert(name, v);
                }
                Ok(None) => {}
                Err(reason) => {
                    let text = format!(
                        "error converting input for field {}: {reason}",
                        go_quote(name)
                    );
                    return Err(VaultError::bad_request(if src.plain_errors {
                        text
                    } else {
                        format!("Field validation failed: {text}")
                    }));
                }
            }
        }
        let mut unknown: Vec<String> = data.into_keys().collect();
        if !unknown.is_empty() {
            unknown.sort_unstable();
            fields.warnings.push(format!(
                "Endpoint ignored these unrecognized parameters: [{}]",
                unknown.join(" ")
            ));
        }
        if !replaced.is_empty() {
            replaced.sort_unstable();
            fields.warnings.push(format!(
                "Endpoint replaced the value of these parameters with the values captured from the endpoint's path: [{}]",
                replaced.join(" ")
            ));
        }
        Ok(fields)
    }

    /// Warnings for the answer (replaced and ignored parameters).
    pub(crate) fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// True when the field was given (JSON `null` counts as given).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// A string field, if given.
    pub(crate) fn str(&self, name: &str) -> Option<&str> {
        match self.values.get(name) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// A string field, or `default`.
    pub(crate) fn str_or<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.str(name).unwrap_or(default)
    }

    /// An int field, if given.
    pub(crate) fn int(&self, name: &str) -> Option<i64> {
        match self.values.get(name) {
            Some(Value::Int(n)) => Some(*n),
            _ => None,
        }
    }

    /// A bool field, if given.
    pub(crate) fn bool(&self, name: &str) -> Option<bool> {
        match self.values.get(name) {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    /// A duration field in seconds, if given.
    pub(crate) fn secs(&self, name: &str) -> Option<u64> {
        match self.values.get(name) {
            Some(Value::Secs(s)) => Some(*s),
            _ => None,
        }
    }

    /// A raw JSON field, if given and not `null`.
    pub(crate) fn raw(&self, name: &str) -> Option<&RawValue> {
        match self.values.get(name) {
            Some(Value::Raw(r)) => Some(r),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: Schema = &[
        ("name", Kind::Str),
        ("plaintext", Kind::Str),
        ("key_version", Kind::Int),
        ("derived", Kind::Bool),
        ("auto_rotate_period", Kind::DurationSecs),
        ("batch_input", Kind::Raw),
    ];

    fn parse(body: &str) -> Result<Fields, String> {
        let captures = vec![("name".to_string(), "k".to_string())];
        Fields::parse(
            &Source {
                from_query: false,
                query: None,
                content_type: Some("application/json"),
                body: body.as_bytes(),
                captures: &captures,
                plain_errors: false,
            },
            SCHEMA,
        )
        .map_err(|e| e.errors.join(""))
    }

    #[test]
    fn coercion_like_vault() {
        let f = parse(r#"{"key_version":"2","derived":"t","auto_rotate_period":"1h"}"#).unwrap();
        assert_eq!(f.int("key_version"), Some(2));
        assert_eq!(f.bool("derived"), Some(true));
        assert_eq!(f.secs("auto_rotate_period"), Some(3600));
        let f = parse(r#"{"plaintext":42,"derived":1,"key_version":true}"#).unwrap();
        assert_eq!(f.str("plaintext"), Some("42"));
        assert_eq!(f.bool("derived"), Some(true));
        assert_eq!(f.int("key_version"), Some(1));
        let f = parse(r#"{"plaintext":null,"batch_input":null}"#).unwrap();
        assert_eq!(f.str("plaintext"), Some(""));
        assert!(f.raw("batch_input").is_none());
        assert_eq!(
            parse(r#"{"key_version":1.5}"#).unwrap_err(),
            "Field validation failed: error converting input for field \"key_version\": '' cannot parse value as 'int': strconv.ParseInt: invalid syntax"
        );
        assert_eq!(
            parse(r#"{"plaintext":{"a":1}}"#).unwrap_err(),
            "Field validation failed: error converting input for field \"plaintext\": '' expected type 'string', got unconvertible type 'map[string]interface {}'"
        );
        assert_eq!(
            parse(r#"{"derived":"maybe"}"#).unwrap_err(),
            "Field validation failed: error converting input for field \"derived\": '' cannot parse value as 'bool': strconv.ParseBool: invalid syntax"
        );
        assert_eq!(
            parse(r#"{"auto_rotate_period":-5}"#).unwrap_err(),
            "Field validation failed: error converting input for field \"auto_rotate_period\": cannot provide negative value '-5'"
        );
        assert_eq!(
            parse(r#"{"auto_rotate_period":true}"#).unwrap_err(),
            "Field validation failed: error converting input for field \"auto_rotate_period\": could not parse duration from input"
        );
        assert_eq!(parse("{not json").unwrap_err(), "error parsing JSON");
        assert_eq!(parse("\"a string\"").unwrap_err(), "error parsing JSON");
        assert!(parse("").unwrap().warnings().is_empty());
        assert!(parse("null").is_ok());
    }

    #[test]
    fn warnings_like_vault() {
        let f = parse(r#"{"name":"other","zeta":1,"alpha":2}"#).unwrap();
        assert_eq!(f.str("name"), Some("k"));
        assert_eq!(
            f.warnings(),
            [
                "Endpoint ignored these unrecognized parameters: [alpha zeta]",
                "Endpoint replaced the value of these parameters with the values captured from the endpoint's path: [name]",
            ]
        );
    }

    #[test]
    fn json_sent_as_a_form_is_json() {
        let captures = vec![];
        let f = Fields::parse(
            &Source {
                from_query: false,
                query: None,
                content_type: Some("application/x-www-form-urlencoded"),
                body: b" {\"plaintext\":\"eA==\"}",
                captures: &captures,
                plain_errors: false,
            },
            SCHEMA,
        )
        .unwrap();
        assert_eq!(f.str("plaintext"), Some("eA=="));
    }

    #[test]
    fn forms_and_queries() {
        let captures = vec![];
        let form = Fields::parse(
            &Source {
                from_query: false,
                query: None,
                content_type: Some("application/x-www-form-urlencoded; charset=utf-8"),
                body: b"plaintext=Zm9ybQ%3D%3D&derived=true",
                captures: &captures,
                plain_errors: false,
            },
            SCHEMA,
        )
        .unwrap();
        assert_eq!(form.str("plaintext"), Some("Zm9ybQ=="));
        assert_eq!(form.bool("derived"), Some(true));
        let query = Fields::parse(
            &Source {
                from_query: true,
                query: Some("key_version=3&x=y+z"),
                content_type: None,
                body: b"{ignored",
                captures: &captures,
                plain_errors: true,
            },
            SCHEMA,
        )
        .unwrap();
        assert_eq!(query.int("key_version"), Some(3));
        assert_eq!(query.warnings().len(), 1);
    }
}
