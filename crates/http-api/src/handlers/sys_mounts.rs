//! `/v1/sys/mounts`: mount, list, read and unmount secrets engines.

use audit_config::{AuditTopic, ComplianceAction};
use http::StatusCode;
use serde_json::{Map, Value, json};

use crate::ctx::{Body, Ctx};
use crate::family::vault::{self, VaultError};
use crate::vault::mounts::Mount;
use crate::vault::request::{Fields, Kind, Schema, Source};

/// The fields Vault shows for a mount.
fn entry(ctx: &Ctx, m: &Mount) -> Value {
    json!({
        "accessor": m.entry.accessor,
        "config": {"default_lease_ttl": 0, "force_no_cache": false, "max_lease_ttl": 0},
        "deprecation_status": "supported",
        "description": m.entry.description,
        "external_entropy_access": false,
        "local": false,
        "options": {},
        "plugin_version": "",
        "running_plugin_version": format!("v{}+builtin.keyward", ctx.state.config.version),
        "running_sha256": "",
        "seal_wrap": false,
        "type": m.entry.kind,
        "uuid": m.entry.uuid,
    })
}

/// Vault's sys answers carry their fields twice: at the top level (old
/// clients) and in `data`.
fn top_level_and_data(ctx: &Ctx, data: Map<String, Value>) -> http::Response<Body> {
    let mut body = data.clone();
    body.insert("request_id".into(), json!(ctx.request_id));
    body.insert("lease_id".into(), json!(""));
    body.insert("renewable".into(), json!(false));
    body.insert("lease_duration".into(), json!(0));
    body.insert("data".into(), Value::Object(data));
    body.insert("wrap_info".into(), Value::Null);
    body.insert("warnings".into(), Value::Null);
    body.insert("auth".into(), Value::Null);
    vault::raw(StatusCode::OK, &body)
}

/// `GET /v1/sys/mounts`.
pub(crate) async fn list(ctx: Ctx) -> http::Response<Body> {
    let mut data = Map::new();
    for m in ctx.state.mounts.all() {
        data.insert(m.path.clone(), entry(&ctx, &m));
    }
    top_level_and_data(&ctx, data)
}

fn path_param(ctx: &Ctx) -> &str {
    ctx.param("path").unwrap_or_default()
}

/// `GET /v1/sys/mounts/:path`.
pub(crate) async fn read(ctx: Ctx) -> http::Response<Body> {
    match ctx.state.mounts.get(path_param(&ctx)) {
        Some(m) => match entry(&ctx, &m) {
            Value::Object(map) => top_level_and_data(&ctx, map),
            _ => VaultError::bad_request("invalid mount").into_response(),
        },
        None => VaultError::bad_request(format!(
            "No secret engine mount at {}/",
            path_param(&ctx).trim_matches('/')
        ))
        .into_response(),
    }
}

const MOUNT_FIELDS: Schema = &[
    ("path", Kind::Str),
    ("type", Kind::Str),
    ("description", Kind::Str),
    ("config", Kind::Any),
    ("options", Kind::Any),
    ("local", Kind::Bool),
    ("seal_wrap", Kind::Bool),
    ("external_entropy_access", Kind::Bool),
    ("plugin_name", Kind::Str),
    ("plugin_version", Kind::Str),
];

/// `POST /v1/sys/mounts/:path` `{"type":"transit"}`: 204.
pub(crate) async fn mount(ctx: Ctx) -> http::Response<Body> {
    let src = Source {
        from_query: false,
        query: None,
        content_type: ctx.content_type(),
        body: &ctx.body,
        captures: &[],
        plain_errors: false,
    };
    let fields = match Fields::parse(&src, MOUNT_FIELDS) {
        Ok(f) => f,
        Err(e) => return e.into_response(),
    };
    let kind = fields.str("type");
    let description = fields.str_or("description", "");
    match ctx
        .state
        .mounts
        .mount(path_param(&ctx), kind, description)
        .await
    {
        Ok(()) => {
            mount_changed(&ctx, ComplianceAction::Mount);
            vault::no_content()
        }
        Err(e) => e.into_response(),
    }
}

/// `DELETE /v1/sys/mounts/:path`: 204, also when nothing is mounted there.
pub(crate) async fn unmount(ctx: Ctx) -> http::Response<Body> {
    let existed = ctx.state.mounts.get(path_param(&ctx)).is_some();
    match ctx.state.mounts.unmount(path_param(&ctx)).await {
        Ok(()) => {
            if existed {
                mount_changed(&ctx, ComplianceAction::Unmount);
            }
            vault::no_content()
        }
        Err(e) => e.into_response(),
    }
}

/// Audits a change of the mount table (`audit-database`).
fn mount_changed(ctx: &Ctx, action: ComplianceAction) {
    crate::audit::changed(
        ctx,
        AuditTopic::Database,
        action,
        "sys/mounts",
        vec![path_param(ctx).trim_matches('/').to_string()],
    );
}
