//! `hmac/:name(/:algorithm)` and `verify/:name(/:algorithm)`.
//! Batches always answer 200, with errors in the items.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::json;
use transit_crypto::{Error, HashAlgorithm, Policy, gobase64};

use super::batch;
/// `{"batch_results": [...]}`, serialized straight from the results.
#[derive(Serialize)]
pub(super) struct BatchResults<T: Serialize> {
    pub(super) batch_results: Vec<T>,
}
use super::{Reply, engine_error, fields_with, key_name, respond, transit};
use crate::ctx::{Body, Ctx};
use crate::family::vault::{Envelope, VaultError};
use crate::vault::request::{Fields, Kind, Schema};

const HMAC: Schema = &[
    ("name", Kind::Str),
    ("input", Kind::Str),
    ("algorithm", Kind::Str),
    ("urlalgorithm", Kind::Str),
    ("key_version", Kind::Int),
    ("batch_input", Kind::Batch),
];

#[derive(Serialize, Default)]
struct HmacResult {
    #[serde(skip_serializing_if = "String::is_empty")]
    hmac: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    error: String,
    reference: String,
}

async fn policy(ctx: &Ctx, f: &Fields<'_>) -> Result<std::sync::Arc<Policy>, VaultError> {
    let name = key_name(f)?;
    transit(ctx)?
        .get(&name)
        .await
        .map_err(engine_error)?
        .ok_or_else(|| engine_error(Error::EncryptionKeyNotFound))
}

/// The batch items (`map[string]string`), or the single input as one item.
pub(super) fn string_items(
    f: &mut Fields<'_>,
    item_type: &str,
    single: impl FnOnce(&Fields<'_>) -> Result<HashMap<String, String>, VaultError>,
) -> Result<(Vec<HashMap<String, String>>, bool), VaultError> {
    match f.take_batch("batch_input") {
        Some(input) => {
            let items = batch::string_map_items(input, item_type).map_err(|e| {
                VaultError::bad_request(format!("failed to parse batch input: {e}"))
            })?;
            if items.is_empty() {
                return Err(VaultError::bad_request("missing batch input to process"));
            }
            Ok((items, true))
        }
        None => Ok((vec![single(f)?], false)),
    }
}

/// `POST hmac/:name(/:algorithm)`.
pub(crate) async fn hmac(ctx: Ctx) -> http::Response<Body> {
    respond(hmac_(&ctx).await)
}

async fn hmac_(ctx: &Ctx) -> Reply {
    let mut f = fields_with(ctx, HMAC, &["urlalgorithm"], false)?;
    let algorithm = match f.str_or("urlalgorithm", "") {
        "" => f.str_or("algorithm", "sha2-256"),
        url => url,
    };
    let policy = policy(ctx, &f).await?;
    let signer = policy
        .hmac_signer(f.int("key_version").unwrap_or(0))
        .map_err(engine_error)?;
    let algorithm = HashAlgorithm::for_hmac(algorithm).map_err(engine_error)?;
    let (items, batch) = string_items(&mut f, "transit.batchRequestHMACItem", |f| {
        let input = f
            .str("input")
            .ok_or_else(|| VaultError::bad_request("missing input for HMAC"))?;
        Ok(HashMap::from([("input".to_string(), input.to_string())]))
    })?;
    let results: Vec<HmacResult> = items
        .iter()
        .map(|item| {
            let reference = item.get("reference").cloned().unwrap_or_default();
            let outcome = match item.get("input") {
                None => Err("missing input for HMAC".to_string()),
                Some(input) => gobase64::decode(input)
                    .map(|bytes| signer.sign(algorithm, &bytes))
                    .map_err(|e| Error::InputBase64(e.to_string()).to_string()),
            };
            match outcome {
                Ok(hmac) => HmacResult {
                    hmac,
                    error: String::new(),
                    reference,
                },
                Err(error) => HmacResult {
                    hmac: String::new(),
                    error,
                    reference,
                },
            }
        })
        .collect();
    if !batch {
        let r = results.into_iter().next().unwrap_or_default();
        if !r.error.is_empty() {
            return Err(VaultError::bad_request(r.error));
        }
        return Ok(Envelope::data(&ctx.request_id, json!({"hmac": r.hmac}))
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

const VERIFY: Schema = &[
    ("name", Kind::Str),
    ("input", Kind::Str),
    ("signature", Kind::Str),
    ("hmac", Kind::Str),
    ("cmac", Kind::Str),
    ("urlalgorithm", Kind::Str),
    ("hash_algorithm", Kind::Str),
    ("algorithm", Kind::Str),
    ("context", Kind::Str),
    ("prehashed", Kind::Bool),
    ("signature_algorithm", Kind::Str),
    ("marshaling_algorithm", Kind::Str),
    ("salt_length", Kind::Str),
    ("signature_context", Kind::Str),
    ("batch_input", Kind::Batch),
];

#[derive(Serialize, Default)]
struct VerifyHmacResult {
    /// Vault omits `valid` when it is false in a batch.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    valid: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    error: String,
    reference: String,
}

/// `POST verify/:name(/:algorithm)`: HMACs here, signatures in `sign.rs`.
pub(crate) async fn verify(ctx: Ctx) -> http::Response<Body> {
    respond(verify_(&ctx).await)
}

async fn verify_(ctx: &Ctx) -> Reply {
    let mut f = fields_with(ctx, VERIFY, &["urlalgorithm"], false)?;
    let (items, batch) = string_items(&mut f, "transit.batchRequestVerifyItem", |f| {
        let mut item = HashMap::from([
            ("input".to_string(), f.str_or("input", "").to_string()),
            ("context".to_string(), f.str_or("context", "").to_string()),
        ]);
        for field in ["signature", "hmac", "cmac"] {
            if let Some(v) = f.str(field) {
                item.insert(field.to_string(), v.to_string());
            }
        }
        Ok(item)
    })?;
    // One kind of proof per request, Vault CE's texts.
    let count = |k: &str| items.iter().filter(|i| i.contains_key(k)).count();
    let (sig, mac, cmac) = (count("signature"), count("hmac"), count("cmac"));
    let kinds = [sig, mac, cmac].iter().filter(|n| **n > 0).count();
    let bad = |m: &str| Err(VaultError::bad_request(m));
    if !batch && kinds > 1 {
        return bad("provide one of 'signature', 'hmac' or 'cmac'");
    }
    if !batch && kinds == 0 {
        return bad("missing one of 'signature', 'hmac' or 'cmac' arguments to verify");
    }
    if kinds > 1 {
        return bad(
            "elements of batch_input must all provide either 'signature', 'hmac' or 'cmac'",
        );
    }
    if kinds == 0 {
        return bad("no batch_input elements have 'signature', 'hmac' or 'cmac'");
    }
    let total = items.len();
    for (n, what) in [(sig, "signature"), (mac, "hmac"), (cmac, "cmac")] {
        if n > 0 && n < total {
            return bad(&format!(
                "some elements of batch_input are missing '{what}'"
            ));
        }
    }
    if mac > 0 {
        let algorithm = match f.str_or("urlalgorithm", "") {
            "" => match f.str_or("hash_algorithm", "sha2-256") {
                "" => f.str_or("algorithm", ""),
                a => a,
            },
            url => url,
        };
        return verify_hmacs(ctx, &f, algorithm, &items, batch).await;
    }
    if cmac > 0 {
        // CMAC is Vault Enterprise; no key type here supports it.
        let p = policy(ctx, &f).await?;
        return Err(VaultError::bad_request(format!(
            "key type {} does not support CMAC verification",
            p.key_type()
        )));
    }
    super::sign::verify_signatures(ctx, &f, items, batch).await
}

async fn verify_hmacs(
    ctx: &Ctx,
    f: &Fields<'_>,
    algorithm: &str,
    items: &[HashMap<String, String>],
    batch: bool,
) -> Reply {
    let policy = policy(ctx, f).await?;
    let algorithm = HashAlgorithm::for_hmac(algorithm).map_err(engine_error)?;
    let results: Vec<VerifyHmacResult> = items
        .iter()
        .map(|item| {
            let reference = item.get("reference").cloned().unwrap_or_default();
            let outcome = (|| {
                let input = item.get("input").ok_or("missing input".to_string())?;
                let input = gobase64::decode(input)
                    .map_err(|e| Error::InputBase64(e.to_string()).to_string())?;
                let mac = item.get("hmac").ok_or("missing hmac".to_string())?;
                policy
                    .verify_hmac(algorithm, &input, mac)
                    .map_err(|e| e.to_string())
            })();
            match outcome {
                Ok(valid) => VerifyHmacResult {
                    valid,
                    error: String::new(),
                    reference,
                },
                Err(error) => VerifyHmacResult {
                    valid: false,
                    error,
                    reference,
                },
            }
        })
        .collect();
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
