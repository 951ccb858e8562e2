//! `/v1/sys/quotas/config` and `/v1/sys/quotas/rate-limit/:name`: Vault's
//! rate-limit quotas. The check itself runs in [`crate::api`], before the
//! token is looked at.

use audit_config::{AuditTopic, ComplianceAction};
use serde_json::{Number, Value, json};

use super::transit::{Reply, fields, respond};
use crate::ctx::{Body, Ctx};
use crate::family::vault::{self, Envelope, VaultError};
use crate::vault::quotas::{QuotaConfig, QuotaName, QuotaTarget, RateLimitRule, check_rate};
use crate::vault::request::{Kind, Schema};

const CONFIG: Schema = &[
    ("rate_limit_exempt_paths", Kind::StrList),
    ("enable_rate_limit_audit_logging", Kind::Bool),
    ("enable_rate_limit_response_headers", Kind::Bool),
];

const NAME: Schema = &[("name", Kind::Str)];

const RULE: Schema = &[
    ("name", Kind::Str),
    ("type", Kind::Str),
    ("path", Kind::Str),
    ("role", Kind::Str),
    ("rate", Kind::Float),
    ("interval", Kind::DurationSecs),
    ("block_interval", Kind::DurationSecs),
    ("inheritable", Kind::Bool),
];

/// Audits a change to the quotas (`audit-database`), by name.
fn quota_changed(ctx: &Ctx, action: ComplianceAction, doc: &str, name: &str) {
    crate::audit::changed(
        ctx,
        AuditTopic::Database,
        action,
        doc,
        vec![name.to_string()],
    );
}

/// `GET /v1/sys/quotas/config`.
pub(crate) async fn read_config(ctx: Ctx) -> http::Response<Body> {
    let c = ctx.state.quotas.config();
    Envelope::data(
        &ctx.request_id,
        json!({
            "enable_rate_limit_audit_logging": c.enable_rate_limit_audit_logging,
            "enable_rate_limit_response_headers": c.enable_rate_limit_response_headers,
            "rate_limit_exempt_paths": c.rate_limit_exempt_paths,
        }),
    )
    .into_response()
}

/// `POST /v1/sys/quotas/config`: replaces every setting; one not given is
/// off (or, for the exempt paths, empty), as in Vault.
pub(crate) async fn write_config(ctx: Ctx) -> http::Response<Body> {
    respond(
        async {
            let f = fields(&ctx, CONFIG)?;
            let config = QuotaConfig {
                rate_limit_exempt_paths: f
                    .list("rate_limit_exempt_paths")
                    .map(<[String]>::to_vec)
                    .unwrap_or_default(),
                enable_rate_limit_audit_logging: f
                    .bool("enable_rate_limit_audit_logging")
                    .unwrap_or(false),
                enable_rate_limit_response_headers: f
                    .bool("enable_rate_limit_response_headers")
                    .unwrap_or(false),
            };
            ctx.state.quotas.set_config(config).await?;
            quota_changed(
                &ctx,
                ComplianceAction::Update,
                "sys/quotas/config",
                "config",
            );
            Ok(vault::no_content())
        }
        .await,
    )
}

/// The name in the path; Vault's route only matches a generic name.
fn name(ctx: &Ctx) -> Result<QuotaName, VaultError> {
    let raw = ctx.param("name").unwrap_or_default();
    QuotaName::new(raw).ok_or_else(VaultError::unsupported_path)
}

/// `LIST /v1/sys/quotas/rate-limit`.
pub(crate) async fn list(ctx: Ctx) -> http::Response<Body> {
    let names = ctx.state.quotas.names();
    if names.is_empty() {
        return VaultError::not_found_empty().into_response();
    }
    Envelope::data(&ctx.request_id, json!({ "keys": names })).into_response()
}

/// A rate as Go prints a float64: `5`, not `5.0`.
fn number(rate: f64) -> Value {
    if rate.fract() == 0.0 && rate.abs() < 9.0e15 {
        Value::Number(Number::from(rate as i64))
    } else {
        Number::from_f64(rate).map_or(Value::Null, Value::Number)
    }
}

/// `GET /v1/sys/quotas/rate-limit/:name`.
pub(crate) async fn read(ctx: Ctx) -> http::Response<Body> {
    respond(
        async {
            let name = name(&ctx)?;
            fields(&ctx, NAME)?;
            let rule = ctx
                .state
                .quotas
                .get(&name)
                .ok_or_else(VaultError::not_found_empty)?;
            Ok(Envelope::data(
                &ctx.request_id,
                json!({
                    "block_interval": rule.block_interval_secs,
                    "inheritable": rule.inheritable,
                    "interval": rule.interval_secs,
                    "name": name.as_str(),
                    "path": rule.target.display(),
                    "rate": number(rule.rate),
                    "role": "",
                    "type": "rate-limit",
                }),
            )
            .into_response())
        }
        .await,
    )
}

/// Why a role was refused: keyward's auth methods (token, userpass) have
/// no roles, so every role-based quota is refused with Vault's texts.
fn role_refusal(target: &QuotaTarget) -> VaultError {
    let mount = &target.mount;
    VaultError::bad_request(if mount.starts_with("auth/") {
        format!("Mount path {mount:?} does not support use with role-based quotas")
    } else {
        format!(
            "Mount path {mount:?} is not a valid auth method and therefore unsuitable for use with role-based quotas"
        )
    })
}

/// `POST /v1/sys/quotas/rate-limit/:name`: creates or replaces a rule.
/// Every field is read anew: one not given takes its default.
pub(crate) async fn write(ctx: Ctx) -> http::Response<Body> {
    respond(write_rule(&ctx).await)
}

async fn write_rule(ctx: &Ctx) -> Reply {
    let name = name(ctx)?;
    let f = fields(ctx, RULE)?;
    let rate = check_rate(f.float("rate").unwrap_or(0.0)).map_err(VaultError::bad_request)?;
    let interval_secs = match f.secs("interval").unwrap_or(0) {
        0 => 1,
        n => n,
    };
    let block_interval_secs = f.secs("block_interval").unwrap_or(0);
    let mounts = &ctx.state.mounts;
    let target = QuotaTarget::parse(f.str_or("path", ""), |p| mounts.matching_mount(p))
        .map_err(VaultError::bad_request)?;
    if !f.str_or("role", "").is_empty() {
        return Err(role_refusal(&target));
    }
    // Inheritance is about namespaces; Vault keeps what it is given, and
    // defaults it to true only for the server-wide rule.
    let inheritable = f.bool("inheritable").unwrap_or(target.mount.is_empty());
    let rule = RateLimitRule {
        target,
        rate,
        interval_secs,
        block_interval_secs,
        inheritable,
    };
    let existed = ctx.state.quotas.put(&name, rule).await?;
    let action = if existed {
        ComplianceAction::Update
    } else {
        ComplianceAction::Create
    };
    quota_changed(ctx, action, "sys/quotas/rate-limit", name.as_str());
    Ok(vault::no_content())
}

/// `DELETE /v1/sys/quotas/rate-limit/:name`: 204, whether or not it existed.
pub(crate) async fn delete(ctx: Ctx) -> http::Response<Body> {
    respond(
        async {
            let name = name(&ctx)?;
            fields(&ctx, NAME)?;
            if ctx.state.quotas.delete(&name).await? {
                quota_changed(
                    &ctx,
                    ComplianceAction::Delete,
                    "sys/quotas/rate-limit",
                    name.as_str(),
                );
            }
            Ok(vault::no_content())
        }
        .await,
    )
}
