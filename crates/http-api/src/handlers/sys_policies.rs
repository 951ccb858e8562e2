//! `/v1/sys/policies/acl/...` and the older `/v1/sys/policy/...`: ACL
//! policies in HCL or JSON.

use audit_config::{AuditTopic, ComplianceAction};
use http::StatusCode;
use serde_json::{Map, Value, json};

use super::transit::{Reply, fields, respond};
use crate::ctx::{Body, Ctx};
use crate::family::vault::{self, Envelope, VaultError};
use crate::vault::request::{Kind, Schema};

const NAME: Schema = &[("name", Kind::Str)];
const WRITE: Schema = &[
    ("name", Kind::Str),
    ("policy", Kind::Str),
    ("rules", Kind::Str),
];

fn name(ctx: &Ctx) -> String {
    ctx.param("name").unwrap_or_default().to_lowercase()
}

/// Audits a change to an ACL policy (`audit-database`, document
/// `sys/policies/acl`), by name.
fn policy_changed(ctx: &Ctx, action: ComplianceAction, name: &str) {
    crate::audit::changed(
        ctx,
        AuditTopic::Database,
        action,
        "sys/policies/acl",
        vec![name.to_string()],
    );
}

/// Vault's sys answers with the fields both at the top and in `data`.
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

/// `LIST /v1/sys/policies/acl`.
pub(crate) async fn list_acl(ctx: Ctx) -> http::Response<Body> {
    Envelope::data(
        &ctx.request_id,
        json!({ "keys": ctx.state.policies.names() }),
    )
    .into_response()
}

/// `GET /v1/sys/policies/acl/:name`: `{name, policy}`, as Vault answers.
pub(crate) async fn read_acl(ctx: Ctx) -> http::Response<Body> {
    match ctx.state.policies.get(&name(&ctx)) {
        Some(p) => Envelope::data(
            &ctx.request_id,
            json!({ "name": p.policy.name().as_str(), "policy": p.policy.raw() }),
        )
        .into_response(),
        None => VaultError::not_found_empty().into_response(),
    }
}

/// `PUT /v1/sys/policies/acl/:name` `{"policy": "..."}`: 204.
pub(crate) async fn write_acl(ctx: Ctx) -> http::Response<Body> {
    respond(write(&ctx, "policy").await)
}

/// `PUT /v1/sys/policy/:name` `{"policy"|"rules": "..."}`: 204.
pub(crate) async fn write_legacy(ctx: Ctx) -> http::Response<Body> {
    respond(write(&ctx, "rules").await)
}

async fn write(ctx: &Ctx, alternative: &str) -> Reply {
    let f = fields(ctx, WRITE)?;
    let text = f
        .str("policy")
        .filter(|t| !t.is_empty())
        .or_else(|| f.str(alternative))
        .unwrap_or_default();
    let name = name(ctx);
    let existed = ctx.state.policies.exists(&name);
    ctx.state
        .policies
        .put(&name, text, ctx.state.clock.now())
        .await?;
    let action = if existed {
        ComplianceAction::Update
    } else {
        ComplianceAction::Create
    };
    policy_changed(ctx, action, &name);
    Ok(vault::no_content())
}

/// `DELETE /v1/sys/policies/acl/:name` and `/v1/sys/policy/:name`: 204.
pub(crate) async fn delete(ctx: Ctx) -> http::Response<Body> {
    respond(
        async {
            fields(&ctx, NAME)?;
            let name = name(&ctx);
            let existed = ctx.state.policies.exists(&name);
            ctx.state.policies.delete(&name).await?;
            if existed {
                policy_changed(&ctx, ComplianceAction::Delete, &name);
            }
            Ok(vault::no_content())
        }
        .await,
    )
}

/// `GET /v1/sys/policy`: the names as `keys` and `policies`.
pub(crate) async fn list_legacy(ctx: Ctx) -> http::Response<Body> {
    let names = ctx.state.policies.names();
    let mut data = Map::new();
    data.insert("keys".into(), json!(names));
    data.insert("policies".into(), json!(names));
    top_level_and_data(&ctx, data)
}

/// `GET /v1/sys/policy/:name`: `{name, rules}`.
pub(crate) async fn read_legacy(ctx: Ctx) -> http::Response<Body> {
    match ctx.state.policies.get(&name(&ctx)) {
        Some(p) => {
            let mut data = Map::new();
            data.insert("name".into(), json!(p.policy.name().as_str()));
            data.insert("rules".into(), json!(p.policy.raw()));
            top_level_and_data(&ctx, data)
        }
        None => VaultError::not_found_empty().into_response(),
    }
}
