//! Who is calling (`authinfo`, `whoami`, `permissionsinfo`) and the cache.

use http::StatusCode;
use rbac_model::gate::REST_METHODS;
use serde_json::{Map, Value, json};

use super::account::requested_tenant;
use super::{caller, flag, json};
use crate::auth::client_certificate_dn;
use crate::ctx::{Body, Ctx};
use crate::family::opensearch;

/// The plugin's `User [name=..., backend_roles=[...], requestedTenant=...]`.
fn user_line(ctx: &Ctx, name: &str, backend_roles: &[String]) -> String {
    format!(
        "User [name={name}, backend_roles=[{}], requestedTenant={}]",
        backend_roles.join(", "),
        requested_tenant(ctx).unwrap_or_else(|| "null".into())
    )
}

/// `GET|POST /_plugins/_security/authinfo`.
pub(crate) async fn authinfo(ctx: Ctx) -> http::Response<Body> {
    let Some(principal) = ctx.principal.clone() else {
        return opensearch::unauthorized();
    };
    let (snapshot, roles) = caller(&ctx);
    let user = user_line(&ctx, principal.name(), principal.backend_roles());
    let mut value = json!({
        "user": user,
        "user_name": principal.name(),
        "user_requested_tenant": requested_tenant(&ctx),
        "remote_address": ctx.conn.remote_addr.map(|a| a.to_string()),
        "backend_roles": principal.backend_roles(),
        "custom_attribute_names": principal.attribute_names(),
        "roles": snapshot.evaluator.role_names(&roles),
        "tenants": snapshot.evaluator.tenants(&roles, principal.name(), &snapshot.config),
        "principal": client_certificate_dn(&ctx.conn),
        "peer_certificates": ctx.conn.peer_certificates.len().to_string(),
        "sso_logout_url": null,
    });
    if flag(&ctx, "verbose") {
        let attributes: usize = principal.attribute_names().iter().map(String::len).sum();
        let backend: usize = principal.backend_roles().iter().map(String::len).sum();
        value["size_of_user"] = json!(format!("{}b", user.len()));
        value["size_of_custom_attributes"] = json!(format!("{attributes}b"));
        value["size_of_backendroles"] = json!(format!("{backend}b"));
    }
    json(&ctx, StatusCode::OK, &value)
}

/// `GET|POST /_plugins/_security/whoami` (no credentials needed).
pub(crate) async fn whoami(ctx: Ctx) -> http::Response<Body> {
    if !ctx.conn.tls {
        return opensearch::text(StatusCode::FORBIDDEN, "No security data");
    }
    let dn = client_certificate_dn(&ctx.conn);
    let is_admin = dn
        .as_deref()
        .is_some_and(|d| ctx.state.security.admin_dns.is_admin(d));
    json(
        &ctx,
        StatusCode::OK,
        &json!({"dn": dn, "is_admin": is_admin, "is_node_certificate_request": false}),
    )
}

/// `GET P/permissionsinfo`.
pub(crate) async fn permissions_info(ctx: Ctx) -> http::Response<Body> {
    let Some(principal) = ctx.principal.clone() else {
        return opensearch::unauthorized();
    };
    let (snapshot, roles) = caller(&ctx);
    let names = snapshot.evaluator.role_names(&roles);
    let gate = &ctx.state.security.gate;
    let (has_api_access, disabled) = if principal.is_superuser() {
        (true, Default::default())
    } else {
        (gate.has_api_access(&names), gate.disabled_endpoints(&names))
    };
    let mut endpoints = Map::new();
    for (endpoint, methods) in disabled {
        let list: Vec<&str> = REST_METHODS
            .iter()
            .copied()
            .filter(|m| methods.contains(m))
            .collect();
        endpoints.insert(endpoint.as_str().to_string(), json!(list));
    }
    let value = json!({
        "user": user_line(&ctx, principal.name(), principal.backend_roles()),
        "user_name": principal.name(),
        "has_api_access": has_api_access,
        "disabled_endpoints": Value::Object(endpoints),
    });
    json(&ctx, StatusCode::OK, &value)
}

/// `DELETE P/cache`.
pub(crate) async fn flush_cache(ctx: Ctx) -> http::Response<Body> {
    ctx.state.auth.flush_cache();
    opensearch::status_message_pretty(
        StatusCode::OK,
        "Cache flushed successfully.",
        flag(&ctx, "pretty"),
    )
}

/// `DELETE /_plugins/_security/api/cache/user/{username}`.
pub(crate) async fn flush_user(ctx: Ctx) -> http::Response<Body> {
    let user = ctx.param("username").unwrap_or_default().to_string();
    ctx.state.auth.flush_user(&user);
    opensearch::status_message_pretty(
        StatusCode::OK,
        &format!("Cache invalidated for user: {user}"),
        flag(&ctx, "pretty"),
    )
}

/// The password rules Dashboards shows when none are configured (display
/// only: the server enforces what `[security]` sets).
const DISPLAY_REGEX: &str = "(?=.*[A-Z])(?=.*[^a-zA-Z\\d])(?=.*[0-9])(?=.*[a-z]).{8,}";
const DISPLAY_MESSAGE: &str = "Password should be at least 8 characters long and contain at least one uppercase letter, one lowercase letter, one digit, and one special character.";

/// `GET|POST /_plugins/_security/dashboardsinfo`.
pub(crate) async fn dashboards_info(ctx: Ctx) -> http::Response<Body> {
    let Some(principal) = ctx.principal.clone() else {
        return opensearch::unauthorized();
    };
    let snapshot = ctx.state.security.current();
    let kibana = &snapshot.config.dynamic.kibana;
    let restapi = &ctx.state.security.settings.restapi;
    let value = json!({
        "user_name": principal.name(),
        "not_fail_on_forbidden_enabled": false,
        "opensearch_dashboards_mt_enabled": kibana.multitenancy_enabled,
        "opensearch_dashboards_index": kibana.index,
        "opensearch_dashboards_server_user": kibana.server_username,
        "multitenancy_enabled": kibana.multitenancy_enabled,
        "private_tenant_enabled": kibana.private_tenant_enabled,
        "default_tenant": kibana.default_tenant,
        "preferred_tenants": kibana.preferred_tenants,
        "sign_in_options": kibana.sign_in_options,
        "password_validation_error_message": restapi
            .password_validation_error_message
            .as_deref()
            .unwrap_or(DISPLAY_MESSAGE),
        "password_validation_regex": restapi
            .password_validation_regex
            .as_deref()
            .unwrap_or(DISPLAY_REGEX),
        "api_tokens_enabled": false,
    });
    json(&ctx, StatusCode::OK, &value)
}
