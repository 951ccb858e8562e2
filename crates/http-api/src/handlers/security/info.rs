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
