//! `export/:type/:name(/:version)`, `backup/:name`, `restore(/:name)`.

use serde_json::{Map, Value, json};
use transit_crypto::{Error, ExportType};

use super::{Reply, engine_error, fields, fields_with, key_name, respond, transit};
use crate::ctx::{Body, Ctx};
use crate::family::vault::{self, Envelope, VaultError};
use crate::vault::request::{Kind, Schema};

const EXPORT: Schema = &[
    ("type", Kind::Str),
    ("name", Kind::Str),
    ("version", Kind::Str),
];

/// `GET export/:type/:name(/:version)`.
pub(crate) async fn export(ctx: Ctx) -> http::Response<Body> {
    respond(export_(&ctx).await)
}

async fn export_(ctx: &Ctx) -> Reply {
    let f = fields_with(ctx, EXPORT, &["version"], false)?;
    let export_type = ExportType::parse(f.str_or("type", "")).map_err(engine_error)?;
    let name = key_name(&f)?;
    let policy = transit(ctx)?
        .get(&name)
        .await
        .map_err(engine_error)?
        .ok_or_else(VaultError::not_found_empty)?;
    let version = f.str("version").filter(|v| !v.is_empty());
    let keys: Map<String, Value> = policy
        .export(export_type, version)
        .map_err(engine_error)?
        .into_iter()
        .map(|(v, material)| (v.to_string(), json!(material)))
        .collect();
    Ok(Envelope::data(
        &ctx.request_id,
        json!({
            "name": policy.name().as_str(),
            "type": policy.key_type().as_str(),
            "keys": keys,
        }),
    )
    .warn_all(f.warnings())
    .into_response())
}

/// `GET backup/:name`.
pub(crate) async fn backup(ctx: Ctx) -> http::Response<Body> {
    respond(backup_(&ctx).await)
}

async fn backup_(ctx: &Ctx) -> Reply {
    let f = fields(ctx, &[("name", Kind::Str)])?;
    let name = key_name(&f)?;
    let blob = transit(ctx)?.backup(&name).await.map_err(engine_error)?;
    Ok(Envelope::data(&ctx.request_id, json!({ "backup": blob }))
        .warn_all(f.warnings())
        .into_response())
}

const RESTORE: Schema = &[
    ("backup", Kind::Str),
    ("name", Kind::Str),
    ("force", Kind::Bool),
];

/// `POST restore(/:name)`: 204.
pub(crate) async fn restore(ctx: Ctx) -> http::Response<Body> {
    respond(restore_(&ctx).await)
}

async fn restore_(ctx: &Ctx) -> Reply {
    let f = fields_with(ctx, RESTORE, &["name"], false)?;
    let blob = f.str_or("backup", "");
    if blob.is_empty() {
        return Err(VaultError::bad_request("'backup' must be supplied"));
    }
    let name = f.str_or("name", "");
    if name.contains('/') {
        return Err(engine_error(Error::KeyNamePath));
    }
    let name = (!name.is_empty()).then_some(name);
    let policy = transit(ctx)?
        .restore(name, blob, f.bool("force").unwrap_or(false))
        .await
        .map_err(engine_error)?;
    super::key_changed(
        ctx,
        audit_config::ComplianceAction::Restore,
        policy.name().as_str(),
    );
    Ok(vault::no_content())
}
