//! `sign/:name(/:hash_algorithm)` and the signature half of
//! `verify/:name(/:hash_algorithm)`. Batches always answer 200 with the
//! errors in the items; a single request's error is a 400 with Vault's
//! text (Vault answers some of them with 500).

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::json;
use transit_crypto::{
    Error, Marshaling, Policy, SignOptions, SignatureHash, gobase64, parse_salt_length,
};

use super::mac::{BatchResults, string_items};
use super::{Reply, engine_error, fields_with, key_name, respond, transit};
use crate::ctx::{Body, Ctx};
use crate::family::vault::{Envelope, VaultError};
use crate::vault::request::{Fields, Kind, Schema};

const SIGN: Schema = &[
    ("name", Kind::Str),
    ("input", Kind::Str),
    ("context", Kind::Str),
    ("key_version", Kind::Int),
    ("urlalgorithm", Kind::Str),
    ("hash_algorithm", Kind::Str),
    ("algorithm", Kind::Str),
    ("prehashed", Kind::Bool),
    ("signature_algorithm", Kind::Str),
    ("marshaling_algorithm", Kind::Str),
    ("salt_length", Kind::Str),
    ("signature_context", Kind::Str),
    ("batch_input", Kind::Batch),
];

/// The hash name: the URL's, else `hash_algorithm` (default `sha2-256`),
/// else the deprecated `algorithm`, as Vault picks it.
pub(super) fn hash_name<'f>(f: &'f Fields<'_>) -> &'f str {
    match f.str_or("urlalgorithm", "") {
        "" => match f.str_or("hash_algorithm", "sha2-256") {
            "" => match f.str_or("algorithm", "sha2-256") {
                "" => "sha2-256",
                a => a,
            },
            h => h,
        },
        url => url,
    }
}

/// The request-level options, checked in Vault's order (hash, marshaling,
/// salt length).
pub(super) fn options(f: &Fields<'_>) -> Result<SignOptions, VaultError> {
    let hash = SignatureHash::parse(hash_name(f)).map_err(engine_error)?;
    let marshaling =
        Marshaling::parse(f.str_or("marshaling_algorithm", "asn1")).map_err(engine_error)?;
    let salt = parse_salt_length(f.str_or("salt_length", "auto")).map_err(engine_error)?;
    Ok(SignOptions {
        hash,
        prehashed: f.bool("prehashed").unwrap_or(false),
        signature_algorithm: f.str_or("signature_algorithm", "").to_string(),
        marshaling,
        salt,
    })
}

async fn key(ctx: &Ctx, f: &Fields<'_>, missing: Error) -> Result<Arc<Policy>, VaultError> {
    let name = key_name(f)?;
    transit(ctx)?
        .get(&name)
        .await
        .map_err(engine_error)?
        .ok_or_else(|| engine_error(missing))
}

/// Runs `op` over the items: a single request inline, a batch on a
/// blocking thread (a batch of RSA-4096 signatures is seconds of CPU, which
/// must not hold one of the async workers).
async fn over_items<R: Send + 'static>(
    items: Vec<HashMap<String, String>>,
    batch: bool,
    op: impl Fn(&HashMap<String, String>) -> R + Send + 'static,
) -> Result<Vec<R>, VaultError> {
    if !batch {
        return Ok(items.iter().map(op).collect());
    }
    tokio::task::spawn_blocking(move || items.iter().map(op).collect())
        .await
        .map_err(|e| {
            VaultError::new(
                http::StatusCode::INTERNAL_SERVER_ERROR,
                format!("batch task failed: {e}"),
            )
        })
}

/// The decoded `context` of an item.
fn context(item: &HashMap<String, String>) -> Result<Vec<u8>, String> {
    super::decode_optional(item.get("context").map_or("", String::as_str))
        .map_err(|_| "failed to base64-decode context".to_string())
}

#[derive(Serialize, Default)]
struct SignResult {
    #[serde(skip_serializing_if = "String::is_empty")]
    signature: String,
    key_version: u32,
    #[serde(skip_serializing_if = "String::is_empty")]
    publickey: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    error: String,
    reference: String,
}

/// `POST sign/:name(/:hash_algorithm)`.
pub(crate) async fn sign(ctx: Ctx) -> http::Response<Body> {
    respond(sign_(&ctx).await)
}

async fn sign_(ctx: &Ctx) -> Reply {
    let mut f = fields_with(ctx, SIGN, &["urlalgorithm"], false)?;
    let opts = options(&f)?;
    let policy = key(ctx, &f, Error::SigningKeyNotFound).await?;
    if !policy.key_type().supports_signing() {
        return Err(engine_error(Error::SigningNotSupported(policy.key_type())));
    }
    opts.check().map_err(engine_error)?;
    let key_version = f.int("key_version").unwrap_or(0);
    let (items, batch) = string_items(&mut f, "transit.batchRequestSignItem", |f| {
        Ok(HashMap::from([
            ("input".to_string(), f.str_or("input", "").to_string()),
            ("context".to_string(), f.str_or("context", "").to_string()),
        ]))
    })?;
    let results = over_items(items, batch, move |item| {
        let reference = item.get("reference").cloned().unwrap_or_default();
        let outcome = (|| {
            let input = item.get("input").ok_or("missing input".to_string())?;
            let input = gobase64::decode(input)
                .map_err(|e| Error::InputBase64(e.to_string()).to_string())?;
            let context = context(item)?;
            policy
                .sign(key_version, &context, &input, &opts)
                .map_err(|e| e.to_string())
        })();
        match outcome {
            Ok(s) => SignResult {
                signature: s.signature,
                key_version: s.version,
                publickey: s
                    .public_key
                    .map(|k| gobase64::encode(&k))
                    .unwrap_or_default(),
                error: String::new(),
                reference,
            },
            Err(error) => SignResult {
                error,
                reference,
                ..Default::default()
            },
        }
    })
    .await?;
    if !batch {
        let r = results.into_iter().next().unwrap_or_default();
        if !r.error.is_empty() {
            return Err(VaultError::bad_request(r.error));
        }
        let mut data = json!({"signature": r.signature, "key_version": r.key_version});
        if !r.publickey.is_empty() {
            data["public_key"] = json!(r.publickey);
        }
        return Ok(Envelope::data(&ctx.request_id, data)
            .warn_all(f.warnings())
            .into_response());
    }
    Ok(Envelope::data(
        &ctx.request_id,
        BatchResults {
            batch_results: results,
        },
    )
    .warn_all(f.warnings())
    .into_response())
}

#[derive(Serialize, Default)]
struct VerifyResult {
    valid: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    error: String,
    reference: String,
}

/// The signature half of `verify`: the items all carry `signature`.
pub(super) async fn verify_signatures(
    ctx: &Ctx,
    f: &Fields<'_>,
    items: Vec<HashMap<String, String>>,
    batch: bool,
) -> Reply {
    let opts = options(f)?;
    let policy = key(ctx, f, Error::VerificationKeyNotFound).await?;
    if !policy.key_type().supports_signing() {
        return Err(engine_error(Error::VerificationNotSupported(
            policy.key_type(),
        )));
    }
    opts.check().map_err(engine_error)?;
    let results = over_items(items, batch, move |item| {
        let reference = item.get("reference").cloned().unwrap_or_default();
        let outcome = (|| {
            let input = item.get("input").ok_or("missing input".to_string())?;
            let input = gobase64::decode(input)
                .map_err(|e| Error::InputBase64(e.to_string()).to_string())?;
            let signature = item
                .get("signature")
                .ok_or("missing signature".to_string())?;
            let context = context(item)?;
            policy
                .verify_signature(&context, &input, signature, &opts)
                .map_err(|e| e.to_string())
        })();
        match outcome {
            Ok(valid) => VerifyResult {
                valid,
                error: String::new(),
                reference,
            },
            Err(error) => VerifyResult {
                valid: false,
                error,
                reference,
            },
        }
    })
    .await?;
    if !batch {
        let r = results.into_iter().next().unwrap_or_default();
        if !r.error.is_empty() {
            return Err(VaultError::bad_request(r.error));
        }
        return Ok(Envelope::data(&ctx.request_id, json!({"valid": r.valid}))
            .warn_all(f.warnings())
            .into_response());
    }
    Ok(Envelope::data(
        &ctx.request_id,
        BatchResults {
            batch_results: results,
        },
    )
    .warn_all(f.warnings())
    .into_response())
}
