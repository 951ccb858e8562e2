//! Mount-wide settings: `cache-config` and `config/keys`.

use serde_json::json;

use super::{Reply, engine_error, fields, respond, transit};
use crate::ctx::{Body, Ctx};
use crate::family::vault::Envelope;
use crate::vault::request::Kind;

/// `GET cache-config`.
pub(crate) async fn cache_read(ctx: Ctx) -> http::Response<Body> {
    respond(cache_read_(&ctx).await)
}

async fn cache_read_(ctx: &Ctx) -> Reply {
    let size = transit(ctx)?.cache_size();
    Ok(Envelope::data(&ctx.request_id, json!({ "size": size })).into_response())
}

/// `POST cache-config` `{"size": N}`: 0 (every key) or at least 10.
pub(crate) async fn cache_write(ctx: Ctx) -> http::Response<Body> {
    respond(cache_write_(&ctx).await)
}

async fn cache_write_(ctx: &Ctx) -> Reply {
    let f = fields(ctx, &[("size", Kind::Int)])?;
    let size = transit(ctx)?
        .set_cache_size(f.int("size").unwrap_or(0))
        .await
        .map_err(engine_error)?;
    Ok(Envelope::data(&ctx.request_id, json!({ "size": size }))
        .warn_all(f.warnings())
        .into_response())
}

/// `GET config/keys`.
pub(crate) async fn keys_read(ctx: Ctx) -> http::Response<Body> {
    respond(keys_read_(&ctx).await)
}

async fn keys_read_(ctx: &Ctx) -> Reply {
    let disable = transit(ctx)?.disable_upsert();
    Ok(Envelope::data(&ctx.request_id, json!({ "disable_upsert": disable })).into_response())
}

/// `POST config/keys` `{"disable_upsert": bool}`.
pub(crate) async fn keys_write(ctx: Ctx) -> http::Response<Body> {
    respond(keys_write_(&ctx).await)
}

async fn keys_write_(ctx: &Ctx) -> Reply {
    let f = fields(ctx, &[("disable_upsert", Kind::Bool)])?;
    let engine = transit(ctx)?;
    if let Some(disable) = f.bool("disable_upsert") {
        engine
            .set_disable_upsert(disable)
            .await
            .map_err(engine_error)?;
    }
    Ok(Envelope::data(
        &ctx.request_id,
        json!({ "disable_upsert": engine.disable_upsert() }),
    )
    .warn_all(f.warnings())
    .into_response())
}
