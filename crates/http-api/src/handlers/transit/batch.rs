//! `batch_input` decoding with Vault's rules and texts.
//!
//! encrypt, decrypt and rewrap use Vault's hand-written decoder: strict
//! types per field, a number for `key_version`, every type error of every
//! item reported, one per line. hmac and verify decode items as
//! `map[string]string` (numbers become their text). Items are parsed
//! straight from the request bytes; strings without escapes are borrowed,
//! not copied, since batches are the large requests.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::vault::batch_json::{BatchInput, Element, Scalar};
use crate::vault::goparse::parse_int;

/// One encrypt, decrypt or rewrap item.
#[derive(Debug, Default)]
pub(crate) struct CryptItem<'a> {
    pub(crate) context: Cow<'a, str>,
    pub(crate) plaintext: Cow<'a, str>,
    pub(crate) ciphertext: Cow<'a, str>,
    pub(crate) nonce: Cow<'a, str>,
    pub(crate) key_version: i64,
    pub(crate) associated_data: Cow<'a, str>,
    pub(crate) reference: Cow<'a, str>,
}

/// Which field an item must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Require {
    Plaintext,
    Ciphertext,
    Nothing,
}

/// The elements, or Vault's text for a `batch_input` that is no array.
fn elements(input: BatchInput<'_>) -> Result<Vec<Element<'_>>, String> {
    match input {
        BatchInput::Elements(e) => Ok(e),
        BatchInput::NotArray(go) => Err(format!("source data must be an array or slice, got {go}")),
        BatchInput::Null => Ok(Vec::new()),
    }
}

/// One string field of an item, with Vault's errors: a required field
/// that is missing, or a value that is not a string (`null` counts as not
/// given, except for the plaintext).
fn take_string<'a>(
    fields: &mut Vec<(String, Scalar<'a>)>,
    i: usize,
    name: &str,
    required: bool,
    errors: &mut Vec<String>,
) -> Cow<'a, str> {
    let Some(pos) = fields.iter().position(|(k, _)| k == name) else {
        if required {
            let what = if name == "plaintext" {
                "missing plaintext to encrypt"
            } else {
                "missing ciphertext to decrypt"
            };
            errors.push(format!("'[{i}].{name}' {what}"));
        }
        return Cow::Borrowed("");
    };
    match fields.swap_remove(pos).1 {
        Scalar::Str(s) => s,
        Scalar::Null if name != "plaintext" => Cow::Borrowed(""),
        other => {
            errors.push(format!(
                "'[{i}].{name}' expected type 'string', got unconvertible type '{}'",
                other.go_type()
            ));
            Cow::Borrowed("")
        }
    }
}

/// Decodes encrypt/decrypt/rewrap items. The error text follows
/// `failed to parse batch input: `.
pub(crate) fn crypt_items(
    input: BatchInput<'_>,
    require: Require,
) -> Result<Vec<CryptItem<'_>>, String> {
    let elements = elements(input)?;
    let mut items = Vec::with_capacity(elements.len());
    let mut errors: Vec<String> = Vec::new();
    for (i, element) in elements.into_iter().enumerate() {
        let mut fields = match element {
            Element::Map(fields) => fields,
            Element::Not(go) => return Err(format!("[{i}] expected a map, got '{go}'")),
        };
        let mut item = CryptItem {
            context: take_string(&mut fields, i, "context", false, &mut errors),
            ciphertext: take_string(
                &mut fields,
                i,
                "ciphertext",
                require == Require::Ciphertext,
                &mut errors,
            ),
            plaintext: take_string(
                &mut fields,
                i,
                "plaintext",
                require == Require::Plaintext,
                &mut errors,
            ),
            nonce: take_string(&mut fields, i, "nonce", false, &mut errors),
            ..Default::default()
        };
        if let Some((_, v)) = fields.iter().find(|(k, _)| k == "key_version") {
            match v {
                Scalar::Null => {}
                Scalar::Num(text) => match parse_int(text) {
                    Ok(n) => item.key_version = n,
                    Err(reason) => errors.push(format!(
                        "error decoding json.Number into [{i}].key_version: strconv.ParseInt: parsing {text:?}: {reason}"
                    )),
                },
                other => errors.push(format!(
                    "'[{i}].key_version' expected type 'int', got unconvertible type '{}'",
                    other.go_type()
                )),
            }
        }
        item.associated_data = take_string(&mut fields, i, "associated_data", false, &mut errors);
        item.reference = take_string(&mut fields, i, "reference", false, &mut errors);
        items.push(item);
    }
    if !errors.is_empty() {
        return Err(errors.join("\n"));
    }
    Ok(items)
}

/// Decodes hmac/verify items (`map[string]string`): strings and numbers
/// (as their text); `null` is the empty string. `item_type` is the Go
/// type Vault names in its error.
pub(crate) fn string_map_items(
    input: BatchInput<'_>,
    item_type: &str,
) -> Result<Vec<HashMap<String, String>>, String> {
    let elements = elements(input).map_err(|e| format!("'' {e}"))?;
    let mut items = Vec::with_capacity(elements.len());
    let mut errors = Vec::new();
    for (i, element) in elements.into_iter().enumerate() {
        let fields = match element {
            Element::Map(fields) => fields,
            Element::Not(go) => {
                errors.push(format!(
                    "'[{i}]' expected type '{item_type}', got unconvertible type '{go}'"
                ));
                continue;
            }
        };
        let mut item = HashMap::with_capacity(fields.len());
        for (k, v) in fields {
            let value = match v {
                Scalar::Str(s) => s.into_owned(),
                Scalar::Num(text) => text,
                Scalar::Null => String::new(),
                other => {
                    errors.push(format!(
                        "'[{i}][{k}]' expected type 'string', got unconvertible type '{}'",
                        other.go_type()
                    ));
                    continue;
                }
            };
            item.insert(k, value);
        }
        items.push(item);
    }
    if !errors.is_empty() {
        errors.sort();
        return Err(format!(
            "decoding failed due to the following error(s):\n\n{}",
            errors.join("\n")
        ));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> BatchInput<'_> {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn vaults_texts() {
        let e = |s: &str, r| crypt_items(raw(s), r).unwrap_err();
        assert_eq!(
            e("\"x\"", Require::Plaintext),
            "source data must be an array or slice, got string"
        );
        assert_eq!(
            e("{}", Require::Plaintext),
            "source data must be an array or slice, got map[string]interface {}"
        );
        assert_eq!(
            e("[1]", Require::Plaintext),
            "[0] expected a map, got 'json.Number'"
        );
        assert_eq!(
            e(r#"[{"plaintext":null}]"#, Require::Plaintext),
            "'[0].plaintext' expected type 'string', got unconvertible type '<nil>'"
        );
        assert_eq!(
            e(
                r#"[{"plaintext":"eA==","key_version":1.5}]"#,
                Require::Plaintext
            ),
            "error decoding json.Number into [0].key_version: strconv.ParseInt: parsing \"1.5\": invalid syntax"
        );
        assert_eq!(
            e(r#"[{},{"ciphertext":5},{}]"#, Require::Ciphertext),
            "'[0].ciphertext' missing ciphertext to decrypt\n'[1].ciphertext' expected type 'string', got unconvertible type 'json.Number'\n'[2].ciphertext' missing ciphertext to decrypt"
        );
        assert_eq!(
            e(
                r#"[{"plaintext":"eA==","key_version":"1","context":5},{"plaintext":3}]"#,
                Require::Plaintext
            ),
            "'[0].context' expected type 'string', got unconvertible type 'json.Number'\n'[0].key_version' expected type 'int', got unconvertible type 'string'\n'[1].plaintext' expected type 'string', got unconvertible type 'json.Number'"
        );
        let input =
            raw(r#"[{"plaintext":"eA==","context":null,"reference":"r\u00e9","key_version":2}]"#);
        let ok = crypt_items(input, Require::Plaintext).unwrap();
        assert_eq!(ok[0].plaintext, "eA==");
        assert_eq!(ok[0].reference, "ré");
        assert_eq!(ok[0].key_version, 2);
        assert_eq!(crypt_items(raw("[{}]"), Require::Nothing).unwrap().len(), 1);
    }

    #[test]
    fn string_maps() {
        let items = string_map_items(
            raw(r#"[{"input":5,"reference":null},{"input":"eA=="}]"#),
            "transit.batchRequestHMACItem",
        )
        .unwrap();
        assert_eq!(items[0]["input"], "5");
        assert_eq!(items[0]["reference"], "");
        assert_eq!(
            string_map_items(raw("\"x\""), "t").unwrap_err(),
            "'' source data must be an array or slice, got string"
        );
        assert_eq!(
            string_map_items(raw("[5]"), "transit.batchRequestHMACItem").unwrap_err(),
            "decoding failed due to the following error(s):\n\n'[0]' expected type 'transit.batchRequestHMACItem', got unconvertible type 'json.Number'"
        );
    }
}
