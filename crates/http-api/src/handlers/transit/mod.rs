//! The transit engine's routes, relative to a mount. Each handler parses
//! the request into typed values ([`crate::vault::request`]), calls
//! `transit-crypto`, and answers in Vault's envelope.

pub(crate) mod batch;
pub(crate) mod byok;
pub(crate) mod certs;
pub(crate) mod crypt;
pub(crate) mod export;
pub(crate) mod keys;
pub(crate) mod mac;
pub(crate) mod settings;
pub(crate) mod sign;
pub(crate) mod tools;

use std::sync::Arc;

use http::Method;
use transit_crypto::{KeyName, Transit};

use crate::ctx::{Body, Ctx};
use crate::family::vault::VaultError;
use crate::route::list_method;
use crate::vault::request::{Fields, Schema, Source};

/// What a handler body returns.
pub(crate) type Reply = Result<http::Response<Body>, VaultError>;

/// Renders a reply.
pub(crate) fn respond(reply: Reply) -> http::Response<Body> {
    reply.unwrap_or_else(VaultError::into_response)
}

/// The request's fields by `schema`. `optional` names the captures of
/// Vault's optional trailing URL parameters: Vault sets them (empty) even
/// when the URL has none, replacing a body value of the same name.
pub(crate) fn fields_with<'c>(
    ctx: &'c Ctx,
    schema: Schema,
    optional: &[&str],
    plain_errors: bool,
) -> Result<Fields<'c>, VaultError> {
    let mut captures = ctx.params.clone();
    for name in optional {
        if !captures.iter().any(|(k, _)| k == name) {
            captures.push((name.to_string(), String::new()));
        }
    }
    let list = ctx.method == list_method();
    let from_query = matches!(ctx.method, Method::GET | Method::DELETE | Method::HEAD);
    let src = Source {
        from_query: from_query || list,
        // A LIST carries no data (Vault drops the query of a list).
        query: if list { None } else { ctx.query() },
        content_type: ctx.content_type(),
        body: &ctx.body,
        captures: &captures,
        plain_errors,
    };
    Fields::parse(&src, schema)
}

/// The request's fields by `schema`.
pub(crate) fn fields<'c>(ctx: &'c Ctx, schema: Schema) -> Result<Fields<'c>, VaultError> {
    fields_with(ctx, schema, &[], false)
}

/// The mount's engine.
pub(crate) fn transit(ctx: &Ctx) -> Result<Arc<Transit>, VaultError> {
    ctx.mount
        .as_ref()
        .map(|m| m.transit.clone())
        .ok_or_else(VaultError::unsupported_path)
}

/// Audits a change to a transit key (`audit-collection`), named
/// `<mount path><key>` (`transit/orders`).
pub(crate) fn key_changed(ctx: &Ctx, action: audit_config::ComplianceAction, key: &str) {
    let mount = ctx.mount.as_ref().map_or("", |m| m.path.as_str());
    crate::audit::changed(
        ctx,
        audit_config::AuditTopic::Collection,
        action,
        "transit/keys",
        vec![format!("{mount}{key}")],
    );
}

/// The `{name}` capture (the router has checked it against Vault's rule).
pub(crate) fn key_name(fields: &Fields<'_>) -> Result<KeyName, VaultError> {
    fields
        .str("name")
        .and_then(KeyName::parse)
        .ok_or_else(VaultError::unsupported_path)
}

/// A transit engine error in Vault's shape.
pub(crate) fn engine_error(e: transit_crypto::Error) -> VaultError {
    VaultError::from_transit(&e)
}

/// Go's `base64.StdEncoding.DecodeString`, for optional fields: empty is
/// nothing.
pub(crate) fn decode_optional(
    text: &str,
) -> Result<Vec<u8>, transit_crypto::gobase64::CorruptInput> {
    if text.is_empty() {
        Ok(Vec::new())
    } else {
        transit_crypto::gobase64::decode(text)
    }
}
