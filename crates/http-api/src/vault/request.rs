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

use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::batch_json::BatchInput;
use super::goparse::{go_quote, parse_bool, parse_duration_secs, parse_float, parse_int};
use crate::family::vault::VaultError;

/// How a field is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `TypeString`.
    Str,
    /// `TypeInt`.
    Int,
    /// `TypeFloat`.
    Float,
    /// `TypeBool`.
    Bool,
    /// `TypeDurationSecond`: whole seconds, never negative.
    DurationSecs,
    /// Accepted (so not "unrecognized") and not read: any JSON.
    Any,
    /// `batch_input`: decoded in the same pass as the body.
    Batch,
    /// `TypeCommaStringSlice`: a list of strings, or one string split at commas.
    StrList,
    /// `TypeKVPairs`: an object of strings.
    StrMap,
}

/// The fields a route declares, captures included.
pub(crate) type Schema = &'static [(&'static str, Kind)];

/// One value of the request data, before coercion.
#[derive(Debug)]
pub(crate) enum Input<'a> {
    /// From a JSON body, borrowed from the request bytes (a 1.4 MB batch
    /// is not copied).
    Json(&'a RawValue),
    /// From the query string, a form or a route capture.
    Text(String),
    /// A `batch_input` decoded while the body was read.
    Batch(BatchInput<'a>),
}

/// A coerced value.
#[derive(Debug)]
enum Value<'a> {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Secs(u64),
    Batch(BatchInput<'a>),
    List(Vec<String>),
    Map(std::collections::BTreeMap<String, String>),
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

fn coerce(kind: Kind, input: Input<'_>) -> Result<Option<Value<'_>>, String> {
    let (text, go) = match input {
        Input::Batch(BatchInput::Null) => return Ok(None),
        Input::Batch(b) => return Ok(Some(Value::Batch(b))),
        // A batch given as text (query, form) is a string, not an array.
        Input::Text(_) if kind == Kind::Batch => {
            return Ok(Some(Value::Batch(BatchInput::NotArray("string"))));
        }
        Input::Json(raw) if kind == Kind::Batch => {
            return match serde_json::from_str::<BatchInput<'_>>(raw.get()) {
                Ok(BatchInput::Null) => Ok(None),
                Ok(b) => Ok(Some(Value::Batch(b))),
                Err(e) => Err(e.to_string()),
            };
        }
        Input::Text(t) if kind == Kind::StrList => return Ok(Some(Value::List(split_commas(&t)))),
        Input::Text(_) if kind == Kind::StrMap => {
            return Err("'' expected a map, got 'string'".into());
        }
        Input::Json(raw) if kind == Kind::StrList => return string_list(raw).map(Some),
        Input::Json(raw) if kind == Kind::StrMap => return string_map(raw).map(Some),
        Input::Text(t) => (Some(t), "string"),
        Input::Json(raw) => {
            if kind == Kind::Any {
                return Ok(None);
            }
            let go = go_type(raw);
            match go {
                "string" => (json_string(raw), go),
                "json.Number" => (Some(raw.get().trim().to_string()), go),
                "bool" => (Some((raw.get().trim() == "true").to_string()), go),
                "<nil>" => (None, go),
                _ => {
                    let want = match kind {
                        Kind::Str => "string",
                        Kind::Int => "int",
                        Kind::Float => "float64",
                        Kind::Bool => "bool",
                        Kind::DurationSecs => {
                            return Err("could not parse duration from input".into());
                        }
                        Kind::Any | Kind::Batch | Kind::StrList | Kind::StrMap => return Ok(None),
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
            Kind::Float => Value::Float(0.0),
            Kind::Bool => Value::Bool(false),
            Kind::DurationSecs => Value::Secs(0),
            // Batch, list, map and ignored fields returned above.
            Kind::Any | Kind::Batch | Kind::StrList | Kind::StrMap => return Ok(None),
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
        Kind::Float => Value::Float(match (go, text.as_str()) {
            ("bool", "true") => 1.0,
            ("bool", _) => 0.0,
            _ => parse_float(&text).map_err(|reason| {
                format!("'' cannot parse value as 'float64': strconv.ParseFloat: {reason}")
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
        Kind::Batch | Kind::Any | Kind::StrList | Kind::StrMap => return Ok(None),
    };
    Ok(Some(value))
}

/// `a, b,,c` → `["a", "b", "c"]`: Vault's comma-separated string slices.
fn split_commas(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

fn string_list(raw: &RawValue) -> Result<Value<'static>, String> {
    match serde_json::from_str::<serde_json::Value>(raw.get()) {
        Ok(serde_json::Value::Null) => Ok(Value::List(Vec::new())),
        Ok(serde_json::Value::String(s)) => Ok(Value::List(split_commas(&s))),
        Ok(serde_json::Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => Ok(s.trim().to_string()),
                serde_json::Value::Number(n) => Ok(n.to_string()),
                serde_json::Value::Bool(b) => Ok(if b { "1" } else { "0" }.to_string()),
                other => Err(format!(
                    "'' expected type 'string', got unconvertible type '{}'",
                    go_type_of(&other)
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|v| Value::List(v.into_iter().filter(|s| !s.is_empty()).collect())),
        Ok(other) => Err(format!(
            "'' expected type '[]string', got unconvertible type '{}'",
            go_type_of(&other)
        )),
        Err(e) => Err(e.to_string()),
    }
}

fn string_map(raw: &RawValue) -> Result<Value<'static>, String> {
    match serde_json::from_str::<serde_json::Value>(raw.get()) {
        Ok(serde_json::Value::Null) => Ok(Value::Map(Default::default())),
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => Ok((k, s)),
                serde_json::Value::Number(n) => Ok((k, n.to_string())),
                serde_json::Value::Bool(b) => Ok((k, b.to_string())),
                other => Err(format!(
                    "'' expected type 'string', got unconvertible type '{}'",
                    go_type_of(&other)
                )),
            })
            .collect::<Result<_, _>>()
            .map(Value::Map),
        Ok(other) => Err(format!("'' expected a map, got '{}'", go_type_of(&other))),
        Err(e) => Err(e.to_string()),
    }
}

fn go_type_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::String(_) => "string",
        serde_json::Value::Object(_) => "map[string]interface {}",
        serde_json::Value::Array(_) => "[]interface {}",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Null => "<nil>",
        serde_json::Value::Number(_) => "json.Number",
    }
}

/// The request data, coerced by a route's schema. It borrows the body.
#[derive(Debug, Default)]
pub(crate) struct Fields<'a> {
    // Requests carry a handful of fields: a list beats a hash map here.
    values: Vec<(&'static str, Value<'a>)>,
    warnings: Vec<String>,
}

/// Where a request's data comes from.
pub(crate) struct Source<'a, 'c> {
    /// True for GET, DELETE and LIST: the query string is the data.
    pub(crate) from_query: bool,
    pub(crate) query: Option<&'a str>,
    pub(crate) content_type: Option<&'a str>,
    pub(crate) body: &'a [u8],
    pub(crate) captures: &'c [(String, String)],
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

/// The raw data of a request, before coercion. Values of the `batch`
/// fields are decoded as batches in the same pass.
pub(crate) fn raw_data<'a>(
    src: &Source<'a, '_>,
    batch: &[&str],
) -> Result<Vec<(String, Input<'a>)>, VaultError> {
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
    let mut de = serde_json::Deserializer::from_slice(trimmed);
    let entries = de
        .deserialize_map(EntriesVisitor { batch })
        .map_err(|_| parse_error())?;
    de.end().map_err(|_| parse_error())?;
    Ok(entries)
}

/// A JSON object's entries in a list, the values borrowed from the body; a
/// repeated key keeps its last value, as Go's decoder does.
struct EntriesVisitor<'b> {
    batch: &'b [&'b str],
}

impl<'de> Visitor<'de> for EntriesVisitor<'_> {
    type Value = Vec<(String, Input<'de>)>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries: Vec<(String, Input<'de>)> = Vec::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = if self.batch.contains(&k.as_str()) {
                Input::Batch(map.next_value_seed(BatchSeed)?)
            } else {
                Input::Json(map.next_value::<&'de RawValue>()?)
            };
            match entries.iter_mut().find(|(name, _)| *name == k) {
                Some(slot) => slot.1 = v,
                None => entries.push((k, v)),
            }
        }
        Ok(entries)
    }
}

struct BatchSeed;

impl<'de> DeserializeSeed<'de> for BatchSeed {
    type Value = BatchInput<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        serde::Deserialize::deserialize(d)
    }
}

impl<'a> Fields<'a> {
    /// Coerces the request's data by `schema`.
    pub(crate) fn parse(src: &Source<'a, '_>, schema: Schema) -> Result<Fields<'a>, VaultError> {
        let batch: Vec<&str> = schema
            .iter()
            .filter(|(_, k)| *k == Kind::Batch)
            .map(|(n, _)| *n)
            .collect();
        let mut data: Vec<(String, Input<'a>)> = raw_data(src, &batch)?;
        let mut fields = Fields::default();

        // Captures replace body values (Vault warns after the ignored list).
        let mut replaced: Vec<&str> = Vec::new();
        for (name, value) in src.captures {
            match data.iter_mut().find(|(k, _)| k == name) {
                Some(slot) => {
                    slot.1 = Input::Text(value.clone());
                    replaced.push(name);
                }
                None => data.push((name.clone(), Input::Text(value.clone()))),
            }
        }

        for &(name, kind) in schema {
            let Some(pos) = data.iter().position(|(k, _)| k == name) else {
                continue;
            };
            let (_, input) = data.swap_remove(pos);
            match coerce(kind, input) {
                Ok(Some(v)) => {
                    fields.values.push((name, v));
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
        let mut unknown: Vec<String> = data.into_iter().map(|(k, _)| k).collect();
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

    fn get(&self, name: &str) -> Option<&Value<'a>> {
        self.values.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// True when the field was given (JSON `null` counts as given).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A string field, if given.
    pub(crate) fn str(&self, name: &str) -> Option<&str> {
        match self.get(name) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// A string field, or `default`.
    pub(crate) fn str_or<'s>(&'s self, name: &str, default: &'s str) -> &'s str {
        self.str(name).unwrap_or(default)
    }

    /// An int field, if given.
    pub(crate) fn int(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            Some(Value::Int(n)) => Some(*n),
            _ => None,
        }
    }

    /// A float field, if given.
    pub(crate) fn float(&self, name: &str) -> Option<f64> {
        match self.get(name) {
            Some(Value::Float(n)) => Some(*n),
            _ => None,
        }
    }

    /// A bool field, if given.
    pub(crate) fn bool(&self, name: &str) -> Option<bool> {
        match self.get(name) {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    /// A duration field in seconds, if given.
    pub(crate) fn secs(&self, name: &str) -> Option<u64> {
        match self.get(name) {
            Some(Value::Secs(s)) => Some(*s),
            _ => None,
        }
    }

    /// A list field, if given.
    pub(crate) fn list(&self, name: &str) -> Option<&[String]> {
        match self.get(name) {
            Some(Value::List(l)) => Some(l),
            _ => None,
        }
    }

    /// A map field, if given.
    pub(crate) fn map(&self, name: &str) -> Option<&std::collections::BTreeMap<String, String>> {
        match self.get(name) {
            Some(Value::Map(m)) => Some(m),
            _ => None,
        }
    }

    /// Takes a batch field out, if given and not `null`.
    pub(crate) fn take_batch(&mut self, name: &str) -> Option<BatchInput<'a>> {
        let pos = self
            .values
            .iter()
            .position(|(k, v)| *k == name && matches!(v, Value::Batch(_)))?;
        match self.values.swap_remove(pos).1 {
            Value::Batch(b) => Some(b),
            _ => None,
        }
    }

    /// True when a batch field was given.
    pub(crate) fn has_batch(&self, name: &str) -> bool {
        matches!(self.get(name), Some(Value::Batch(_)))
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
        ("batch_input", Kind::Batch),
    ];

    fn parse(body: &str) -> Result<Fields<'_>, String> {
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
        assert!(!f.has_batch("batch_input"));
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
