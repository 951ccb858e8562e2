//! `encrypt/:name`, `decrypt/:name`, `rewrap/:name`, `datakey/:kind/:name`.

use std::borrow::Cow;
use std::sync::Arc;

use http::StatusCode;
use serde_json::json;
use transit_crypto::{
    CipherInput, Encrypted, Error, KeyOptions, KeyType, Policy, Transit, gobase64,
};

use super::batch::{self, CryptItem, Require};
use super::{Reply, engine_error, fields, fields_with, key_name, respond, transit};
use crate::ctx::{Body, Ctx};
use crate::family::vault::{self, Envelope, VaultError};
use crate::vault::request::{Fields, Kind, Schema};

fn bad(message: impl Into<String>) -> VaultError {
    VaultError::bad_request(message)
}

/// The items of a request: `batch_input`, or the top-level fields as one
/// item. `require` names the field a single request must carry.
fn items<'a>(
    f: &mut Fields<'a>,
    require: Require,
) -> Result<(Vec<CryptItem<'a>>, bool), VaultError> {
    if let Some(input) = f.take_batch("batch_input") {
        let items = batch::crypt_items(input, require)
            .map_err(|e| bad(format!("failed to parse batch input: {e}")))?;
        if items.is_empty() {
            return Err(bad("missing batch input to process"));
        }
        return Ok((items, true));
    }
    // One item: copying its few strings costs nothing.
    let text = |name: &str| Cow::Owned(f.str_or(name, "").to_string());
    match require {
        Require::Plaintext if !f.has("plaintext") => {
            return Err(bad("missing plaintext to encrypt"));
        }
        Require::Ciphertext if f.str_or("ciphertext", "").is_empty() => {
            return Err(bad("missing ciphertext to decrypt"));
        }
        _ => {}
    }
    let item = CryptItem {
        context: text("context"),
        plaintext: text("plaintext"),
        ciphertext: text("ciphertext"),
        nonce: text("nonce"),
        key_version: f.int("key_version").unwrap_or(0),
        associated_data: text("associated_data"),
        reference: Cow::Borrowed(""),
    };
    Ok((vec![item], false))
}

/// Vault's rule: a context in every item or in none.
fn check_contexts(items: &[CryptItem<'_>]) -> Result<bool, VaultError> {
    let set = !items[0].context.is_empty();
    if items.iter().any(|i| i.context.is_empty() == set) {
        return Err(bad(
            "context should be set either in all the request blocks or in none",
        ));
    }
    Ok(set)
}

/// The decoded per-item inputs (or the item's error). The plaintext is a
/// plain `Vec`: the request body it came from holds it (in base64) anyway.
struct Decoded {
    context: Vec<u8>,
    data: Vec<u8>,
}

fn decode_item(item: &CryptItem<'_>, plaintext: bool) -> Result<Decoded, String> {
    let data = if plaintext {
        gobase64::decode(&item.plaintext).map_err(|e| e.to_string())?
    } else {
        Vec::new()
    };
    let context = super::decode_optional(&item.context).map_err(|e| e.to_string())?;
    Ok(Decoded { context, data })
}

fn associated_data(item: &CryptItem<'_>) -> Result<Vec<u8>, Error> {
    super::decode_optional(&item.associated_data)
        .map_err(|e| Error::AssociatedDataBase64(e.to_string()))
}

/// Status of a batch answer (Vault's `batchRequestResponse`): 200 without
/// item errors; else 400, or `partial_failure_response_code` when some
/// item succeeded and the code is in 1..=599 (else a warning).
fn batch_status(
    f: &Fields<'_>,
    errors: bool,
    successes: bool,
    warnings: &mut Vec<String>,
) -> StatusCode {
    if !errors {
        return StatusCode::OK;
    }
    let code = StatusCode::BAD_REQUEST;
    match (f.int("partial_failure_response_code"), successes) {
        (Some(wanted), true) => match u16::try_from(wanted)
            .ok()
            .filter(|c| (1..=599).contains(c))
            .and_then(|c| StatusCode::from_u16(c).ok())
        {
            Some(c) => c,
            None => {
                warnings.push(format!(
                    "invalid HTTP response code override from partial_failure_response_code, reverting to {}",
                    code.as_u16()
                ));
                code
            }
        },
        _ => code,
    }
}

/// A result that writes itself as JSON.
trait JsonResult {
    fn write_json(&self, out: &mut String);
    fn failed(&self) -> bool;
    /// About how many bytes `write_json` writes.
    fn json_len(&self) -> usize;
}

/// `{"batch_results":[...]}` in Vault's envelope, with the batch status.
fn batch_reply<T: JsonResult>(
    ctx: &Ctx,
    f: &Fields<'_>,
    results: &[T],
    with_status: bool,
) -> http::Response<Body> {
    let mut warnings = f.warnings().to_vec();
    let status = if with_status {
        let errors = results.iter().any(JsonResult::failed);
        let successes = results.iter().any(|r| !r.failed());
        batch_status(f, errors, successes, &mut warnings)
    } else {
        StatusCode::OK
    };
    let size: usize = results.iter().map(JsonResult::json_len).sum();
    vault::raw_envelope_with(&ctx.request_id, &warnings, status, size + 32, |data| {
        data.push_str("{\"batch_results\":[");
        for (i, r) in results.iter().enumerate() {
            if i > 0 {
                data.push(',');
            }
            r.write_json(data);
        }
        data.push_str("]}");
    })
}

#[derive(Default)]
struct EncryptResult {
    ciphertext: String,
    key_version: u32,
    error: String,
    reference: String,
}

impl JsonResult for EncryptResult {
    /// Vault omits an empty `ciphertext` or `error` and a zero `key_version`.
    fn write_json(&self, out: &mut String) {
        out.push('{');
        if !self.ciphertext.is_empty() {
            out.push_str("\"ciphertext\":");
            vault::push_plain_str(out, &self.ciphertext);
            out.push(',');
        }
        if self.key_version != 0 {
            out.push_str("\"key_version\":");
            out.push_str(&self.key_version.to_string());
            out.push(',');
        }
        if !self.error.is_empty() {
            out.push_str("\"error\":");
            vault::push_json_str(out, &self.error);
            out.push(',');
        }
        out.push_str("\"reference\":");
        vault::push_json_str(out, &self.reference);
        out.push('}');
    }

    fn failed(&self) -> bool {
        !self.error.is_empty()
    }

    fn json_len(&self) -> usize {
        self.ciphertext.len() + self.error.len() + self.reference.len() + 64
    }
}

/// The single-item answer of encrypt and rewrap.
fn ciphertext_reply(ctx: &Ctx, f: &Fields<'_>, r: EncryptResult) -> Reply {
    if !r.error.is_empty() {
        return Err(bad(r.error));
    }
    let mut data = String::with_capacity(r.ciphertext.len() + 48);
    data.push_str("{\"ciphertext\":");
    vault::push_plain_str(&mut data, &r.ciphertext);
    data.push_str(",\"key_version\":");
    data.push_str(&r.key_version.to_string());
    data.push('}');
    Ok(vault::raw_envelope(
        &ctx.request_id,
        &data,
        f.warnings(),
        StatusCode::OK,
    ))
}

impl EncryptResult {
    fn of(outcome: Result<Encrypted, String>, reference: &str) -> Self {
        let mut r = EncryptResult {
            reference: reference.to_string(),
            ..Default::default()
        };
        match outcome {
            Ok(e) => {
                r.ciphertext = e.ciphertext;
                r.key_version = e.version;
            }
            Err(e) => r.error = e,
        }
        r
    }
}

const ENCRYPT: Schema = &[
    ("name", Kind::Str),
    ("plaintext", Kind::Str),
    ("context", Kind::Str),
    ("nonce", Kind::Str),
    ("type", Kind::Str),
    ("convergent_encryption", Kind::Bool),
    ("key_version", Kind::Int),
    ("partial_failure_response_code", Kind::Int),
    ("associated_data", Kind::Str),
    ("batch_input", Kind::Batch),
];

/// `POST encrypt/:name`.
pub(crate) async fn encrypt(ctx: Ctx) -> http::Response<Body> {
    respond(encrypt_(&ctx).await)
}

/// The key to encrypt with: the existing one, or one created now (Vault's
/// upsert) unless `config/keys` disables upserts.
async fn key_for_encrypt(
    engine: &Transit,
    f: &Fields<'_>,
    context_set: bool,
) -> Result<Arc<Policy>, VaultError> {
    let name = key_name(f)?;
    if let Some(p) = engine.get(&name).await.map_err(engine_error)? {
        return Ok(p);
    }
    let convergent = f.bool("convergent_encryption").unwrap_or(false);
    if convergent && !context_set {
        return Err(engine_error(Error::ConvergentRequiresContext));
    }
    let key_type =
        KeyType::parse_for_upsert(f.str_or("type", "aes256-gcm96")).map_err(engine_error)?;
    if engine.disable_upsert() {
        return Err(engine_error(Error::EncryptionKeyNotFound));
    }
    let mut options = KeyOptions::new(key_type);
    options.derived = context_set;
    options.convergent = convergent;
    let (p, _) = engine.create(&name, &options).await.map_err(engine_error)?;
    Ok(p)
}

async fn encrypt_(ctx: &Ctx) -> Reply {
    // Encrypt has Vault's existence check: coercion errors come unprefixed.
    let mut f = fields_with(ctx, ENCRYPT, &[], true)?;
    let (items, batch) = items(&mut f, Require::Plaintext)?;
    let context_set = check_contexts(&items)?;
    let engine = transit(ctx)?;
    let policy = key_for_encrypt(&engine, &f, context_set).await?;

    // Each item is decoded only when its turn comes (its bytes stay in the
    // cache through decode, seal and encode; an item's decoding error does
    // not change the request-level checks above) and its ciphertext is
    // written straight into the answer.
    let encrypt_item = |i: usize, item: &CryptItem<'_>, out: &mut String| -> Result<u32, String> {
        let d = decode_item(item, true)?;
        if !item.nonce.is_empty() {
            return Err(Error::NonceNotAllowed.to_string());
        }
        let aad = associated_data(item).map_err(|e| e.to_string())?;
        if !aad.is_empty() && !policy.key_type().supports_associated_data() {
            return Err(Error::AssociatedDataUnsupported {
                index: i,
                key_type: policy.key_type(),
            }
            .to_string());
        }
        let input = CipherInput {
            context: &d.context,
            associated_data: &aad,
            key_version: item.key_version,
            nonce_given: false,
        };
        policy
            .encrypt_to(&d.data, &input, out)
            .map_err(|e| e.to_string())
    };

    if !batch {
        let mut ciphertext = String::new();
        let outcome = match items.first() {
            Some(item) => encrypt_item(0, item, &mut ciphertext),
            None => Err("missing plaintext to encrypt".to_string()),
        };
        let version = outcome.map_err(bad)?;
        return ciphertext_reply(
            ctx,
            &f,
            EncryptResult {
                ciphertext,
                key_version: version,
                ..Default::default()
            },
        );
    }

    // The answer's size, so it never grows (each growth copies it all): a
    // ciphertext is the plaintext's base64 plus 28 bytes of nonce and tag
    // (38 in base64), the prefix and the JSON around it.
    let size: usize = items
        .iter()
        .map(|i| i.plaintext.len() + i.reference.len() + 128)
        .sum();
    let mut w = vault::EnvelopeWriter::new(&ctx.request_id, size + 32);
    let (mut errors, mut successes) = (false, false);
    let out = w.data();
    out.push_str("{\"batch_results\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"ciphertext\":\"");
        let mark = out.len() - "\"ciphertext\":\"".len();
        match encrypt_item(i, item, out) {
            Ok(version) => {
                successes = true;
                out.push_str("\",\"key_version\":");
                out.push_str(&version.to_string());
            }
            Err(error) => {
                errors = true;
                out.truncate(mark);
                out.push_str("\"error\":");
                vault::push_json_str(out, &error);
            }
        }
        out.push_str(",\"reference\":");
        vault::push_json_str(out, &item.reference);
        out.push('}');
    }
    out.push_str("]}");
    let mut warnings = f.warnings().to_vec();
    let status = batch_status(&f, errors, successes, &mut warnings);
    Ok(w.finish(&warnings, status))
}

#[derive(Default)]
struct DecryptResult {
    plaintext: String,
    error: String,
    reference: String,
}

impl JsonResult for DecryptResult {
    /// `plaintext` is always there (empty on error), as in Vault.
    fn write_json(&self, out: &mut String) {
        out.push_str("{\"plaintext\":");
        vault::push_plain_str(out, &self.plaintext);
        if !self.error.is_empty() {
            out.push_str(",\"error\":");
            vault::push_json_str(out, &self.error);
        }
        out.push_str(",\"reference\":");
        vault::push_json_str(out, &self.reference);
        out.push('}');
    }

    fn failed(&self) -> bool {
        !self.error.is_empty()
    }

    fn json_len(&self) -> usize {
        self.plaintext.len() + self.error.len() + self.reference.len() + 48
    }
}

const DECRYPT: Schema = &[
    ("name", Kind::Str),
    ("ciphertext", Kind::Str),
    ("context", Kind::Str),
    ("nonce", Kind::Str),
    ("partial_failure_response_code", Kind::Int),
    ("associated_data", Kind::Str),
    ("batch_input", Kind::Batch),
];

/// Per-item checks shared by decrypt and rewrap, before the key is read.
fn ciphertext_item(item: &CryptItem<'_>) -> Result<Decoded, String> {
    if item.ciphertext.is_empty() {
        return Err("missing ciphertext to decrypt".into());
    }
    let decoded = decode_item(item, false)?;
    super::decode_optional(&item.nonce).map_err(|e| e.to_string())?;
    Ok(decoded)
}

async fn existing_key(ctx: &Ctx, f: &Fields<'_>) -> Result<Arc<Policy>, VaultError> {
    let name = key_name(f)?;
    transit(ctx)?
        .get(&name)
        .await
        .map_err(engine_error)?
        .ok_or_else(|| engine_error(Error::EncryptionKeyNotFound))
}

/// `POST decrypt/:name`.
pub(crate) async fn decrypt(ctx: Ctx) -> http::Response<Body> {
    respond(decrypt_(&ctx).await)
}

async fn decrypt_(ctx: &Ctx) -> Reply {
    let mut f = fields(ctx, DECRYPT)?;
    let (items, batch) = items(&mut f, Require::Ciphertext)?;
    check_contexts(&items)?;
    let decoded: Vec<Result<Decoded, String>> = items.iter().map(ciphertext_item).collect();
    let policy = existing_key(ctx, &f).await?;
    let results: Vec<DecryptResult> = items
        .iter()
        .zip(decoded)
        .map(|(item, decoded)| {
            let outcome = decoded.and_then(|d| {
                let aad = associated_data(item).map_err(|e| e.to_string())?;
                policy
                    .decrypt(
                        &item.ciphertext,
                        &CipherInput {
                            context: &d.context,
                            associated_data: &aad,
                            ..Default::default()
                        },
                    )
                    .map(|pt| gobase64::encode(&pt))
                    .map_err(|e| e.to_string())
            });
            match outcome {
                Ok(plaintext) => DecryptResult {
                    plaintext,
                    error: String::new(),
                    reference: item.reference.to_string(),
                },
                Err(error) => DecryptResult {
                    plaintext: String::new(),
                    error,
                    reference: item.reference.to_string(),
                },
            }
        })
        .collect();
    if !batch {
        let r = results.into_iter().next().unwrap_or_default();
        if !r.error.is_empty() {
            return Err(bad(r.error));
        }
        let mut data = String::with_capacity(r.plaintext.len() + 16);
        data.push_str("{\"plaintext\":");
        vault::push_plain_str(&mut data, &r.plaintext);
        data.push('}');
        return Ok(vault::raw_envelope(
            &ctx.request_id,
            &data,
            f.warnings(),
            StatusCode::OK,
        ));
    }
    Ok(batch_reply(ctx, &f, &results, true))
}

const REWRAP: Schema = &[
    ("name", Kind::Str),
    ("ciphertext", Kind::Str),
    ("context", Kind::Str),
    ("nonce", Kind::Str),
    ("key_version", Kind::Int),
    ("batch_input", Kind::Batch),
];

/// `POST rewrap/:name`: batches always answer 200, errors in the items.
pub(crate) async fn rewrap(ctx: Ctx) -> http::Response<Body> {
    respond(rewrap_(&ctx).await)
}

async fn rewrap_(ctx: &Ctx) -> Reply {
    let mut f = fields(ctx, REWRAP)?;
    let require = if f.has_batch("batch_input") {
        Require::Nothing
    } else {
        Require::Ciphertext
    };
    let (items, batch) = items(&mut f, require)?;
    check_contexts(&items)?;
    let decoded: Vec<Result<Decoded, String>> = items.iter().map(ciphertext_item).collect();
    let policy = existing_key(ctx, &f).await?;
    let results: Vec<EncryptResult> = items
        .iter()
        .zip(decoded)
        .map(|(item, decoded)| {
            let outcome = decoded.and_then(|d| {
                policy
                    .rewrap(
                        &item.ciphertext,
                        &CipherInput {
                            context: &d.context,
                            key_version: item.key_version,
                            nonce_given: !item.nonce.is_empty(),
                            ..Default::default()
                        },
                    )
                    .map_err(|e| e.to_string())
            });
            EncryptResult::of(outcome, &item.reference)
        })
        .collect();
    if !batch {
        return ciphertext_reply(ctx, &f, results.into_iter().next().unwrap_or_default());
    }
    // Rewrap batches answer 200 whatever the items say.
    Ok(batch_reply(ctx, &f, &results, false))
}

const DATAKEY: Schema = &[
    ("name", Kind::Str),
    ("plaintext", Kind::Str),
    ("context", Kind::Str),
    ("nonce", Kind::Str),
    ("bits", Kind::Int),
    ("key_version", Kind::Int),
];

/// `POST datakey/plaintext/:name` and `datakey/wrapped/:name`.
pub(crate) async fn datakey(ctx: Ctx) -> http::Response<Body> {
    respond(datakey_(&ctx).await)
}

async fn datakey_(ctx: &Ctx) -> Reply {
    let f = fields(ctx, DATAKEY)?;
    let with_plaintext = match f.str_or("plaintext", "") {
        "plaintext" => true,
        "wrapped" => false,
        _ => return Err(bad("Invalid path, must be 'plaintext' or 'wrapped'")),
    };
    let context = super::decode_optional(f.str_or("context", ""))
        .map_err(|_| bad("failed to base64-decode context"))?;
    let nonce = super::decode_optional(f.str_or("nonce", ""))
        .map_err(|_| bad("failed to base64-decode nonce"))?;
    let policy = existing_key(ctx, &f).await?;
    let bits = f.int("bits").unwrap_or(256);
    let bits = u32::try_from(bits).map_err(|_| engine_error(Error::InvalidBits))?;
    let (key, encrypted) = policy
        .datakey(
            bits,
            &CipherInput {
                context: &context,
                key_version: f.int("key_version").unwrap_or(0),
                nonce_given: !nonce.is_empty(),
                ..Default::default()
            },
        )
        .map_err(|e| match e {
            // Vault checks the nonce before the bit length.
            Error::InvalidBits if !nonce.is_empty() => engine_error(Error::NonceNotAllowed),
            other => engine_error(other),
        })?;
    let mut data = json!({
        "ciphertext": encrypted.ciphertext,
        "key_version": encrypted.version,
    });
    if with_plaintext {
        data["plaintext"] = json!(gobase64::encode(&key));
    }
    Ok(Envelope::data(&ctx.request_id, data)
        .warn_all(f.warnings())
        .into_response())
}
