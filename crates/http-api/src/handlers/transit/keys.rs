//! `keys`, `keys/:name`, `keys/:name/{config,rotate,trim}`.

use serde_json::{Map, Value, json};
use transit_crypto::{ConfigChange, Error, KeyOptions, Policy, Stamp, gotime};

use audit_config::ComplianceAction;

use super::{Reply, engine_error, fields, key_changed, key_name, respond, transit};
use crate::ctx::{Body, Ctx};
use crate::family::vault::{self, Envelope, VaultError};
use crate::vault::request::{Kind, Schema};

fn stamp(s: Stamp) -> Value {
    json!({"time": gotime::format_rfc3339_nano(s.time), "version": s.version})
}

/// The key object of Vault's read, create, config, rotate and trim answers.
pub(crate) fn key_object(p: &Policy) -> Map<String, Value> {
    key_object_for(p, &[])
}

/// The key object; `context` selects the derived public keys of a derived
/// ed25519 key.
pub(crate) fn key_object_for(p: &Policy, context: &[u8]) -> Map<String, Value> {
    let t = p.key_type();
    let mut m = Map::new();
    m.insert("name".into(), json!(p.name().as_str()));
    m.insert("type".into(), json!(t.as_str()));
    m.insert("derived".into(), json!(p.derived()));
    m.insert("deletion_allowed".into(), json!(p.deletion_allowed()));
    m.insert(
        "min_available_version".into(),
        json!(p.min_available_version()),
    );
    m.insert(
        "min_decryption_version".into(),
        json!(p.min_decryption_version()),
    );
    m.insert(
        "min_encryption_version".into(),
        json!(p.min_encryption_version()),
    );
    m.insert("latest_version".into(), json!(p.latest_version()));
    m.insert("exportable".into(), json!(p.exportable()));
    m.insert(
        "allow_plaintext_backup".into(),
        json!(p.allow_plaintext_backup()),
    );
    m.insert("supports_encryption".into(), json!(t.supports_encryption()));
    m.insert("supports_decryption".into(), json!(t.supports_decryption()));
    m.insert("supports_signing".into(), json!(t.supports_signing()));
    m.insert("supports_derivation".into(), json!(t.supports_derivation()));
    m.insert(
        "auto_rotate_period".into(),
        json!(p.auto_rotate_period().secs()),
    );
    m.insert("imported_key".into(), json!(p.imported()));
    if p.key_size() != 0 {
        m.insert("key_size".into(), json!(p.key_size()));
    }
    if p.imported() {
        m.insert(
            "imported_key_allow_rotation".into(),
            json!(p.allow_imported_key_rotation()),
        );
    }
    if let Some(b) = p.backup_info() {
        m.insert("backup_info".into(), stamp(b));
    }
    if let Some(r) = p.restore_info() {
        m.insert("restore_info".into(), stamp(r));
    }
    if p.derived() {
        m.insert("kdf".into(), json!(p.kdf().as_str()));
        if p.kdf() == transit_crypto::Kdf::HmacSha256Counter {
            m.insert("kdf_mode".into(), json!(p.kdf().as_str()));
        }
        m.insert("convergent_encryption".into(), json!(p.convergent()));
        if p.convergent() {
            // Every version records its own scheme; the policy says -1.
            m.insert("convergent_encryption_version".into(), json!(-1));
        }
    }
    // Symmetric keys list their versions with creation times; `hmac` keys
    // have no `keys` field at all, as in Vault.
    if t.supports_signing() {
        // Asymmetric keys: each version's public key, in Vault's formats.
        let keys: Map<String, Value> = p
            .public_keys(context)
            .into_iter()
            .map(|k| {
                (
                    k.version.to_string(),
                    json!({
                        "certificate_chain": k.certificate_chain,
                        "creation_time": gotime::format_rfc3339_nano(k.created),
                        "name": t.version_key_name(),
                        "public_key": k.public_key,
                    }),
                )
            })
            .collect();
        m.insert("keys".into(), Value::Object(keys));
    } else if t.supports_encryption() {
        let keys: Map<String, Value> = p
            .versions()
            .map(|(v, created)| (v.to_string(), json!(created.unix_secs())))
            .collect();
        m.insert("keys".into(), Value::Object(keys));
    }
    m
}

fn key_reply(ctx: &Ctx, p: &Policy, warnings: &[String]) -> http::Response<Body> {
    Envelope::data(&ctx.request_id, Value::Object(key_object(p)))
        .warn_all(warnings)
        .into_response()
}

/// `LIST keys`: the names, or 404 with no message when there are none.
pub(crate) async fn list(ctx: Ctx) -> http::Response<Body> {
    respond(list_(&ctx).await)
}

async fn list_(ctx: &Ctx) -> Reply {
    let names = transit(ctx)?.list().await.map_err(engine_error)?;
    if names.is_empty() {
        return Err(VaultError::not_found_empty());
    }
    Ok(Envelope::data(&ctx.request_id, json!({ "keys": names })).into_response())
}

const CREATE: Schema = &[
    ("name", Kind::Str),
    ("type", Kind::Str),
    ("derived", Kind::Bool),
    ("convergent_encryption", Kind::Bool),
    ("exportable", Kind::Bool),
    ("allow_plaintext_backup", Kind::Bool),
    ("context", Kind::Str),
    ("auto_rotate_period", Kind::DurationSecs),
    ("key_size", Kind::Int),
    ("managed_key_name", Kind::Str),
    ("managed_key_id", Kind::Str),
];

/// `POST keys/:name`: create, or return the existing key unchanged.
pub(crate) async fn create(ctx: Ctx) -> http::Response<Body> {
    respond(create_(&ctx).await)
}

async fn create_(ctx: &Ctx) -> Reply {
    let f = fields(ctx, CREATE)?;
    let name = key_name(&f)?;
    let options = KeyOptions::from_request(
        f.str_or("type", "aes256-gcm96"),
        f.bool("derived").unwrap_or(false),
        f.bool("convergent_encryption").unwrap_or(false),
        f.bool("exportable").unwrap_or(false),
        f.bool("allow_plaintext_backup").unwrap_or(false),
        f.secs("auto_rotate_period").unwrap_or(0),
        f.int("key_size").unwrap_or(0),
    )
    .map_err(engine_error)?;
    let (policy, created) = transit(ctx)?
        .create(&name, &options)
        .await
        .map_err(engine_error)?;
    if created {
        key_changed(ctx, ComplianceAction::Create, name.as_str());
    }
    Ok(key_reply(ctx, &policy, f.warnings()))
}

const READ: Schema = &[("name", Kind::Str), ("context", Kind::Str)];

/// `GET keys/:name`.
pub(crate) async fn read(ctx: Ctx) -> http::Response<Body> {
    respond(read_(&ctx).await)
}

async fn read_(ctx: &Ctx) -> Reply {
    let f = fields(ctx, READ)?;
    let name = key_name(&f)?;
    let policy = transit(ctx)?
        .get(&name)
        .await
        .map_err(engine_error)?
        .ok_or_else(VaultError::not_found_empty)?;
    // The context selects the public keys of a derived ed25519 key; a bad
    // one is refused on every key, as Vault refuses it.
    let context = super::decode_optional(f.str_or("context", ""))
        .map_err(|_| VaultError::bad_request("failed to base64-decode context"))?;
    Ok(Envelope::data(
        &ctx.request_id,
        Value::Object(key_object_for(&policy, &context)),
    )
    .warn_all(f.warnings())
    .into_response())
}

/// `DELETE keys/:name`: 204.
pub(crate) async fn delete(ctx: Ctx) -> http::Response<Body> {
    respond(delete_(&ctx).await)
}

async fn delete_(ctx: &Ctx) -> Reply {
    let f = fields(ctx, &[("name", Kind::Str)])?;
    let name = key_name(&f)?;
    transit(ctx)?.delete(&name).await.map_err(engine_error)?;
    key_changed(ctx, ComplianceAction::Delete, name.as_str());
    Ok(vault::no_content())
}

const CONFIG: Schema = &[
    ("name", Kind::Str),
    ("min_decryption_version", Kind::Int),
    ("min_encryption_version", Kind::Int),
    ("deletion_allowed", Kind::Bool),
    ("exportable", Kind::Bool),
    ("allow_plaintext_backup", Kind::Bool),
    ("auto_rotate_period", Kind::DurationSecs),
];

/// `POST keys/:name/config`.
pub(crate) async fn config(ctx: Ctx) -> http::Response<Body> {
    respond(config_(&ctx).await)
}

async fn config_(ctx: &Ctx) -> Reply {
    let f = fields(ctx, CONFIG)?;
    let name = key_name(&f)?;
    let change = ConfigChange {
        min_decryption_version: f.int("min_decryption_version"),
        min_encryption_version: f.int("min_encryption_version"),
        deletion_allowed: f.bool("deletion_allowed"),
        exportable: f.bool("exportable"),
        allow_plaintext_backup: f.bool("allow_plaintext_backup"),
        auto_rotate_period_secs: f.secs("auto_rotate_period"),
    };
    let (policy, warning) = transit(ctx)?
        .update(&name, Error::ConfigKeyNotFound(name.to_string()), |p, _| {
            let c = p.configured(&change)?;
            Ok((c.policy, c.changed, c.warning))
        })
        .await
        .map_err(engine_error)?;
    key_changed(ctx, ComplianceAction::Config, name.as_str());
    let mut warnings = f.warnings().to_vec();
    warnings.extend(warning);
    Ok(key_reply(ctx, &policy, &warnings))
}

/// `POST keys/:name/rotate`.
pub(crate) async fn rotate(ctx: Ctx) -> http::Response<Body> {
    respond(rotate_(&ctx).await)
}

const ROTATE: Schema = &[
    ("name", Kind::Str),
    ("managed_key_name", Kind::Str),
    ("managed_key_id", Kind::Str),
];

async fn rotate_(ctx: &Ctx) -> Reply {
    let f = fields(ctx, ROTATE)?;
    let name = key_name(&f)?;
    let policy = transit(ctx)?.rotate(&name).await.map_err(engine_error)?;
    key_changed(ctx, ComplianceAction::Rotate, name.as_str());
    Ok(key_reply(ctx, &policy, f.warnings()))
}

/// `POST keys/:name/trim`.
pub(crate) async fn trim(ctx: Ctx) -> http::Response<Body> {
    respond(trim_(&ctx).await)
}

async fn trim_(ctx: &Ctx) -> Reply {
    let f = fields(
        ctx,
        &[("name", Kind::Str), ("min_available_version", Kind::Int)],
    )?;
    let name = key_name(&f)?;
    let requested = f.int("min_available_version");
    let (policy, ()) = transit(ctx)?
        .update(&name, Error::TrimKeyNotFound, |p, _| {
            Ok((p.trimmed(requested)?, true, ()))
        })
        .await
        .map_err(engine_error)?;
    key_changed(ctx, ComplianceAction::Trim, name.as_str());
    Ok(key_reply(ctx, &policy, f.warnings()))
}
