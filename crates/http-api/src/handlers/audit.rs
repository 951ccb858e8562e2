//! The plugin's audit configuration API: `GET P/audit`, `PUT P/audit/config`,
//! `PATCH P/audit` (both prefixes). Other methods are 405, as OpenSearch's
//! router answers them.
//!
//! The configuration is stored in the barrier and swapped into the audit
//! trail at once; `_readonly` paths (the `[audit] readonly` setting) may be
//! changed only by a superuser (root token or admin certificate).

use audit_config::{AuditTopic, ComplianceAction, ConfigError};
use http::StatusCode;
use rbac_model::{Endpoint, ValidationFailure};

use super::security::{json, rest_admin};
use crate::audit;
use crate::ctx::{Body, Ctx};
use crate::family::opensearch;
use crate::route::{Admin, GET, PATCH, PUT, Permission, Table, handler};

/// Registers the routes.
pub(crate) fn routes(t: &mut Table) {
    let p = Permission::SecurityApi(Endpoint::Audit, Admin::No);
    t.add_opensearch(
        GET,
        "/api/audit",
        p,
        "The audit configuration: _readonly paths and config (enabled, audit, compliance)",
        handler(get),
    );
    t.add_opensearch(
        PUT,
        "/api/audit/config",
        p,
        "Replace the audit configuration (keys enabled, audit, compliance; absent keys take the model's defaults)",
        handler(put),
    );
    t.add_opensearch(
        PATCH,
        "/api/audit",
        p,
        "Patch the audit configuration (JSON Patch, paths under /config)",
        handler(patch),
    );
}

/// `GET P/audit`.
async fn get(ctx: Ctx) -> http::Response<Body> {
    let doc = ctx.state.audit.document();
    json(
        &ctx,
        StatusCode::OK,
        &serde_json::to_value(&doc).unwrap_or_default(),
    )
}

fn refused(e: ConfigError) -> http::Response<Body> {
    match e {
        ConfigError::InvalidKeys(keys) => opensearch::render_error(&rbac_model::Error::Invalid(
            ValidationFailure::InvalidConfiguration {
                invalid_keys: keys.split(',').map(str::to_string).collect(),
                missing_mandatory_keys: Vec::new(),
                specify_one_of: Vec::new(),
            },
        )),
        ConfigError::Unparsable(_) => {
            opensearch::render_error(&rbac_model::Error::Invalid(ValidationFailure::unparseable()))
        }
        ConfigError::ReadOnly => opensearch::status_message(StatusCode::CONFLICT, &e.to_string()),
        ConfigError::Patch(m) => opensearch::status_message(StatusCode::BAD_REQUEST, &m),
        ConfigError::UnknownPath(_) => {
            opensearch::status_message(StatusCode::BAD_REQUEST, &e.to_string())
        }
    }
}

enum Kind {
    Put,
    Patch,
}

async fn change(ctx: Ctx, kind: Kind) -> http::Response<Body> {
    let admin = rest_admin(&ctx, Endpoint::Audit);
    let body = match kind {
        Kind::Put if ctx.body.is_empty() => {
            return opensearch::render_error(&rbac_model::Error::Invalid(
                ValidationFailure::body_required(),
            ));
        }
        Kind::Put => rbac_model::json::parse_strict(&ctx.body),
        Kind::Patch => match rbac_model::ops::parse_patch(&ctx.body) {
            Ok(p) => Ok(serde_json::to_value(p).unwrap_or_default()),
            Err(e) => return opensearch::render_error(&e),
        },
    };
    let body = match body {
        Ok(b) => b,
        Err(e) => return opensearch::render_error(&rbac_model::Error::Invalid(e)),
    };
    let state = ctx.state.clone();
    let _guard = state.audit.write_lock.lock().await;
    let doc = state.audit.document();
    let outcome = match kind {
        Kind::Put => doc.replace(&body, admin),
        Kind::Patch => doc.patch(&body, admin),
    };
    let new = match outcome {
        Ok(new) => new,
        Err(e) => return refused(e),
    };
    let message = match (&kind, &new) {
        (Kind::Put, _) => "'config' updated.",
        (Kind::Patch, Some(_)) => "Resource updated.",
        (Kind::Patch, None) => "No updates required",
    };
    if let Some(config) = new {
        if let Err(e) = state.audit.store_config(&state.barrier, &config).await {
            tracing::error!(target: "keyward::audit", error = %e, "storing the audit configuration failed");
            return opensearch::status_message(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("Error {e}"),
            );
        }
        // Audited under the configuration before the change, so a change
        // that turns auditing off is itself in the audit log.
        audit::changed(
            &ctx,
            AuditTopic::Service,
            ComplianceAction::Update,
            "audit",
            vec!["config".into()],
        );
        state.audit.apply_config(&config);
    }
    opensearch::status_message_pretty(
        StatusCode::OK,
        message,
        super::security::flag(&ctx, "pretty"),
    )
}

/// `PUT P/audit/config`.
async fn put(ctx: Ctx) -> http::Response<Body> {
    change(ctx, Kind::Put).await
}

/// `PATCH P/audit`.
async fn patch(ctx: Ctx) -> http::Response<Body> {
    change(ctx, Kind::Patch).await
}
