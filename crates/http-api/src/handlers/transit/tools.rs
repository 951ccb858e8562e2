//! `hash(/:algorithm)` and `random(/:source)(/:bytes)`: no key involved.

use serde_json::json;
use transit_crypto::random::{self, RandomFormat, RandomSource};
use transit_crypto::{Error, HashAlgorithm, HashFormat, gobase64};

use super::{Reply, engine_error, fields_with, respond};
use crate::ctx::{Body, Ctx};
use crate::family::vault::{Envelope, VaultError};
use crate::vault::goparse::{go_quote, parse_int};
use crate::vault::request::{Kind, Schema};

const HASH: Schema = &[
    ("input", Kind::Str),
    ("algorithm", Kind::Str),
    ("urlalgorithm", Kind::Str),
    ("format", Kind::Str),
];

/// `POST hash(/:algorithm)`.
pub(crate) async fn hash(ctx: Ctx) -> http::Response<Body> {
    respond(hash_(&ctx).await)
}

async fn hash_(ctx: &Ctx) -> Reply {
    let f = fields_with(ctx, HASH, &["urlalgorithm"], false)?;
    let input = f
        .str("input")
        .ok_or_else(|| VaultError::bad_request("input missing"))?;
    let format = f.str_or("format", "hex");
    let algorithm = match f.str_or("urlalgorithm", "") {
        "" => f.str_or("algorithm", "sha2-256"),
        url => url,
    };
    let input =
        gobase64::decode(input).map_err(|e| engine_error(Error::InputBase64(e.to_string())))?;
    let format = HashFormat::parse(format).map_err(engine_error)?;
    let algorithm = HashAlgorithm::for_hash(algorithm).map_err(engine_error)?;
    let sum = format.encode(&algorithm.digest(&input));
    Ok(Envelope::data(&ctx.request_id, json!({ "sum": sum }))
        .warn_all(f.warnings())
        .into_response())
}

const RANDOM: Schema = &[
    ("source", Kind::Str),
    ("urlbytes", Kind::Str),
    ("bytes", Kind::Int),
    ("format", Kind::Str),
];

/// `POST random`, `random/:bytes`, `random/:source`, `random/:source/:bytes`.
pub(crate) async fn random(ctx: Ctx) -> http::Response<Body> {
    respond(random_(&ctx).await)
}

fn url_bytes(text: &str) -> Result<i64, VaultError> {
    parse_int(text).map_err(|reason| {
        VaultError::bad_request(format!(
            "error parsing url-set byte count: strconv.Atoi: parsing {}: {reason}",
            go_quote(text)
        ))
    })
}

async fn random_(ctx: &Ctx) -> Reply {
    // Vault always sets both captures, so a body `source` is never used.
    let f = fields_with(ctx, RANDOM, &["source", "urlbytes"], false)?;
    let url_source = f.str_or("source", "");
    let url_count = f.str_or("urlbytes", "");
    let body_bytes = f.int("bytes").unwrap_or(32);
    let (source, bytes) = if url_source.is_empty() {
        ("platform", body_bytes)
    } else if url_count.is_empty() && RandomSource::is_valid(url_source) {
        (url_source, body_bytes)
    } else if url_count.is_empty() {
        ("platform", url_bytes(url_source)?)
    } else {
        (url_source, url_bytes(url_count)?)
    };
    let count = random::check_count(bytes).map_err(engine_error)?;
    let format = RandomFormat::parse(f.str_or("format", "base64")).map_err(engine_error)?;
    let source = RandomSource::parse(source).map_err(engine_error)?;
    let bytes = random::random_bytes(count).map_err(engine_error)?;
    let text = format.encode(bytes.expose());
    let mut envelope = Envelope::data(&ctx.request_id, json!({ "random_bytes": text.as_str() }))
        .warn_all(f.warnings());
    if let Some(w) = source.warning() {
        envelope = envelope.warn(w);
    }
    Ok(envelope.into_response())
}
