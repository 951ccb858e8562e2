//! `P/account`: any authenticated caller reads its account and changes its
//! own password.

use http::{Method, StatusCode};
use rbac_model::PrincipalKind;
use rbac_model::ops;
use serde_json::json;

use super::{caller, change, json};
use crate::ctx::{Body, Ctx};

/// The tenant the caller asked for with `securitytenant` / `security_tenant`.
pub(crate) fn requested_tenant(ctx: &Ctx) -> Option<String> {
    ["securitytenant", "security_tenant"]
        .iter()
        .find_map(|h| ctx.headers.get(*h))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `GET|PUT P/account`.
pub(crate) async fn account(ctx: Ctx) -> http::Response<Body> {
    let Some(principal) = ctx.principal.clone() else {
        return crate::family::opensearch::unauthorized();
    };
    let is_internal = *principal.kind() == PrincipalKind::InternalUser;
    if ctx.method == Method::PUT {
        let body = ctx.body.clone();
        let name = principal.name().to_string();
        return change(&ctx, false, move |config, caller| {
            ops::change_own_password(config, &name, is_internal, &body, caller)
        })
        .await;
    }
    let (snapshot, roles) = caller(&ctx);
    let entry = snapshot
        .config
        .internal_users
        .get(principal.name())
        .filter(|_| is_internal);
    let value = json!({
        "user_name": principal.name(),
        "is_reserved": entry.is_some_and(|u| u.reserved),
        "is_hidden": entry.is_some_and(|u| u.hidden),
        "is_internal_user": entry.is_some(),
        "user_requested_tenant": requested_tenant(&ctx),
        "backend_roles": principal.backend_roles(),
        "custom_attribute_names": principal.attribute_names(),
        "tenants": snapshot.evaluator.tenants(&roles, principal.name(), &snapshot.config),
        "roles": snapshot.evaluator.role_names(&roles),
    });
    json(&ctx, StatusCode::OK, &value)
}
