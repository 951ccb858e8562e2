//! `keys/:name/csr`, `keys/:name/set-certificate` and
//! `byok-export/:destination/:source(/:version)`, as OpenBao 2.7.2 answers
//! them.

use serde_json::{Map, Value, json};
use transit_crypto::{Error, KeyName};

use super::{Reply, engine_error, fields, fields_with, key_name, respond, transit};
use crate::ctx::{Body, Ctx};
use crate::family::vault::{Envelope, VaultError};
use crate::vault::request::{Kind, Schema};

const CSR: Schema = &[
    ("name", Kind::Str),
    ("version", Kind::Int),
    ("csr", Kind::Str),
];

/// `POST keys/:name/csr`: `{name, type, csr}`.
pub(crate) async fn csr(ctx: Ctx) -> http::Response<Body> {
    respond(csr_(&ctx).await)
}

async fn csr_(ctx: &Ctx) -> Reply {
    let f = fields(ctx, CSR)?;
    let name = key_name(&f)?;
    let policy = transit(ctx)?
        .get(&name)
        .await
        .map_err(engine_error)?
        .ok_or_else(|| engine_error(Error::CertKeyNotFound(name.to_string())))?;
    let csr = policy
        .create_csr(f.int("version"), f.str_or("csr", ""))
        .map_err(engine_error)?;
    Ok(Envelope::data(
        &ctx.request_id,
        json!({
            "name": policy.name().as_str(),
            "type": policy.key_type().as_str(),
            "csr": csr,
        }),
    )
    .warn_all(f.warnings())
    .into_response())
}

const SET_CERTIFICATE: Schema = &[
    ("name", Kind::Str),
    ("version", Kind::Int),
    ("certificate_chain", Kind::Str),
];

/// `POST keys/:name/set-certificate`: `{name, type, certificate_chain}`
/// with the chain as it was sent.
pub(crate) async fn set_certificate(ctx: Ctx) -> http::Response<Body> {
    respond(set_certificate_(&ctx).await)
}

async fn set_certificate_(ctx: &Ctx) -> Reply {
    let f = fields(ctx, SET_CERTIFICATE)?;
    let name = key_name(&f)?;
    let chain = f.str_or("certificate_chain", "");
    let version = f.int("version");
    let (policy, ()) = transit(ctx)?
        .update(&name, Error::CertKeyNotFound(name.to_string()), |p, _| {
            Ok((p.with_certificate_chain(version, chain)?, true, ()))
        })
        .await
        .map_err(engine_error)?;
    super::key_changed(
        ctx,
        audit_config::ComplianceAction::Config,
        policy.name().as_str(),
    );
    Ok(Envelope::data(
        &ctx.request_id,
        json!({
            "name": policy.name().as_str(),
            "type": policy.key_type().as_str(),
            "certificate_chain": chain,
        }),
    )
    .warn_all(f.warnings())
    .into_response())
}

const BYOK_EXPORT: Schema = &[
    ("destination", Kind::Str),
    ("source", Kind::Str),
    ("version", Kind::Str),
    ("hash", Kind::Str),
];

/// `GET byok-export/:destination/:source(/:version)`: `{name, type, keys}`
/// with each version wrapped for the destination key.
pub(crate) async fn byok_export(ctx: Ctx) -> http::Response<Body> {
    respond(byok_export_(&ctx).await)
}

async fn byok_export_(ctx: &Ctx) -> Reply {
    let f = fields_with(ctx, BYOK_EXPORT, &["version"], false)?;
    let capture = |field: &str| {
        f.str(field)
            .and_then(KeyName::parse)
            .ok_or_else(VaultError::unsupported_path)
    };
    let (destination, source) = (capture("destination")?, capture("source")?);
    let engine = transit(ctx)?;
    let dst = engine.get(&destination).await.map_err(engine_error)?;
    let src = engine.get(&source).await.map_err(engine_error)?;
    let keys: Map<String, Value> = transit_crypto::byok_export(
        dst.as_deref(),
        src.as_deref(),
        f.str("version"),
        f.str_or("hash", "SHA256"),
    )
    .map_err(engine_error)?
    .into_iter()
    .map(|(v, blob)| (v.to_string(), json!(blob)))
    .collect();
    let src = src.ok_or_else(|| engine_error(Error::ByokNoSource))?;
    Ok(Envelope::data(
        &ctx.request_id,
        json!({
            "name": src.name().as_str(),
            "type": src.key_type().as_str(),
            "keys": keys,
        }),
    )
    .warn_all(f.warnings())
    .into_response())
}
