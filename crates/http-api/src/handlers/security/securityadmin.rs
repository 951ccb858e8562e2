//! keyward's securityadmin: one whole configuration type in or out, hashes
//! included, for `keyward securityadmin --export/--import`. Only the admin
//! certificate and the root token reach it.

use http::{Method, StatusCode};
use rbac_model::ConfigType;
use rbac_model::yaml::CONFIG_VERSION;
use serde_json::json;

use super::{commit, json};
use crate::ctx::{Body, Ctx};
use crate::family::opensearch;

/// `GET|PUT /_plugins/_security/api/securityadmin/{config_type}`.
pub(crate) async fn document(ctx: Ctx) -> http::Response<Body> {
    let name = ctx.param("config_type").unwrap_or_default();
    let Some(ty) = ConfigType::parse(name) else {
        return opensearch::status_message(
            StatusCode::NOT_FOUND,
            &format!(
                "{name} is not a configuration type; use one of internalusers, roles, rolesmapping, actiongroups, tenants, nodesdn, allowlist, config"
            ),
        );
    };
    if ctx.method != Method::PUT {
        let snapshot = ctx.state.security.current();
        let mut doc = snapshot.config.type_to_value(ty);
        doc["_meta"] = json!({"type": ty.as_str(), "config_version": CONFIG_VERSION});
        return json(&ctx, StatusCode::OK, &doc);
    }
    let value = match rbac_model::json::parse_strict(&ctx.body) {
        Ok(v) => v,
        Err(e) => return opensearch::render_error(&rbac_model::Error::Invalid(e)),
    };
    let state = ctx.state.clone();
    let _guard = state.security.write_lock.lock().await;
    let current = state.security.current();
    let mut new = current.config.clone();
    if let Err(e) = new.set_type_from_value(ty, value) {
        return opensearch::status_message(StatusCode::BAD_REQUEST, &e.to_string());
    }
    if let Err(resp) = commit(&ctx, &current.config, new).await {
        return resp;
    }
    // securityadmin reloads every node's configuration and caches.
    state.auth.flush_cache();
    opensearch::status_message(StatusCode::OK, &format!("'{}' updated.", ty.as_str()))
}
