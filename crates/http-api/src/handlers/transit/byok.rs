//! BYOK: `wrapping_key`, `keys/:name/import`, `keys/:name/import_version`.

use serde_json::json;
use transit_crypto::{Error, ImportOptions, ImportSource, RotatePeriod};

use super::{Reply, engine_error, fields, key_name, respond, transit};
use crate::ctx::{Body, Ctx};
use crate::family::vault::{self, Envelope};
use crate::vault::request::{Fields, Kind, Schema};

/// `GET wrapping_key`: the mount's RSA-4096 public key, made on first use.
pub(crate) async fn wrapping_key(ctx: Ctx) -> http::Response<Body> {
    respond(wrapping_key_(&ctx).await)
}

async fn wrapping_key_(ctx: &Ctx) -> Reply {
    let key = transit(ctx)?.wrapping_key().await.map_err(engine_error)?;
    Ok(Envelope::data(&ctx.request_id, json!({"public_key": key.public_pem()})).into_response())
}

/// `ciphertext` (with `hash_function`) when given at all, else `public_key`.
fn source<'f>(f: &'f Fields<'_>) -> ImportSource<'f> {
    if f.has("ciphertext") {
        ImportSource::Ciphertext {
            ciphertext: f.str_or("ciphertext", ""),
            hash_function: f.str_or("hash_function", "SHA256"),
        }
    } else {
        ImportSource::PublicKey(f.str_or("public_key", ""))
    }
}

const IMPORT: Schema = &[
    ("name", Kind::Str),
    ("type", Kind::Str),
    ("hash_function", Kind::Str),
    ("ciphertext", Kind::Str),
    ("public_key", Kind::Str),
    ("allow_rotation", Kind::Bool),
    ("derived", Kind::Bool),
    ("context", Kind::Str),
    ("exportable", Kind::Bool),
    ("allow_plaintext_backup", Kind::Bool),
    ("auto_rotate_period", Kind::DurationSecs),
    // Refused when given at all, as Vault refuses it.
    ("convergent_encryption", Kind::Str),
];

/// `POST keys/:name/import`: 204.
pub(crate) async fn import(ctx: Ctx) -> http::Response<Body> {
    respond(import_(&ctx).await)
}

async fn import_(ctx: &Ctx) -> Reply {
    let f = fields(ctx, IMPORT)?;
    let name = key_name(&f)?;
    if f.has("convergent_encryption") {
        return Err(engine_error(Error::ImportConvergent));
    }
    let period = f.secs("auto_rotate_period").unwrap_or(0);
    let allow_rotation = f.bool("allow_rotation").unwrap_or(false);
    if period > 0 && !allow_rotation {
        return Err(engine_error(Error::ImportRotationRequired));
    }
    let key_type =
        ImportOptions::parse_type(f.str_or("type", "aes256-gcm96")).map_err(engine_error)?;
    let options = ImportOptions {
        key_type,
        derived: f.bool("derived").unwrap_or(false),
        exportable: f.bool("exportable").unwrap_or(false),
        allow_plaintext_backup: f.bool("allow_plaintext_backup").unwrap_or(false),
        auto_rotate_period: RotatePeriod::from_secs(period).map_err(engine_error)?,
        allow_rotation,
    };
    transit(ctx)?
        .import(&name, &options, source(&f))
        .await
        .map_err(engine_error)?;
    Ok(vault::no_content())
}

const IMPORT_VERSION: Schema = &[
    ("name", Kind::Str),
    ("hash_function", Kind::Str),
    ("ciphertext", Kind::Str),
    ("public_key", Kind::Str),
    ("version", Kind::Int),
];

/// `POST keys/:name/import_version`: 204.
pub(crate) async fn import_version(ctx: Ctx) -> http::Response<Body> {
    respond(import_version_(&ctx).await)
}

async fn import_version_(ctx: &Ctx) -> Reply {
    let f = fields(ctx, IMPORT_VERSION)?;
    let name = key_name(&f)?;
    transit(ctx)?
        .import_version(&name, source(&f), f.int("version"))
        .await
        .map_err(engine_error)?;
    Ok(vault::no_content())
}
