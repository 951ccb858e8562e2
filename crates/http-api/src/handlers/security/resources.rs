//! The CRUD resources: internal users, roles, role mappings, action groups,
//! tenants and nodes DN, one generic set of handlers.

use http::{Method, StatusCode};
use rbac_model::Endpoint;
use rbac_model::model::{ConfigType, Entity, InternalUser, NodesDn};
use rbac_model::ops::{self, Rules, STATIC_NODES_DN};
use serde_json::{Value, json};

use super::{change, flag, json, query, rest_admin};
use crate::ctx::{Body, Ctx};
use crate::family::opensearch;

fn endpoint<T: Entity>() -> Endpoint {
    match T::TYPE {
        ConfigType::InternalUsers => Endpoint::InternalUsers,
        ConfigType::Roles => Endpoint::Roles,
        ConfigType::RolesMapping => Endpoint::RolesMapping,
        ConfigType::ActionGroups => Endpoint::ActionGroups,
        ConfigType::Tenants => Endpoint::Tenants,
        ConfigType::NodesDn => Endpoint::NodesDn,
        ConfigType::Allowlist => Endpoint::Allowlist,
        ConfigType::Config => Endpoint::Config,
    }
}

fn name(ctx: &Ctx) -> String {
    ctx.param("name").unwrap_or_default().to_string()
}

/// `GET P/<res>`.
pub(crate) async fn get_all<T: Rules>(ctx: Ctx) -> http::Response<Body> {
    let admin = rest_admin(&ctx, endpoint::<T>());
    let snapshot = ctx.state.security.current();
    let mut all = ops::get_all::<T>(&snapshot.config, admin);
    if T::TYPE == InternalUser::TYPE {
        filter_users(&mut all, &snapshot.config, query(&ctx, "filterBy"));
    }
    if T::TYPE == NodesDn::TYPE && flag(&ctx, "show_all") {
        all[STATIC_NODES_DN] = json!({"nodes_dn": ctx.state.security.settings.nodes_dn});
    }
    json(&ctx, StatusCode::OK, &all)
}

/// `filterBy`: `internal` (not service accounts), `service`, anything else all.
fn filter_users(all: &mut Value, config: &rbac_model::SecurityConfig, filter: Option<&str>) {
    let want_service = match filter {
        Some("internal") => false,
        Some("service") => true,
        _ => return,
    };
    if let Value::Object(map) = all {
        map.retain(|name, _| {
            let service = config
                .internal_users
                .get(name)
                .and_then(|u| u.attributes.get("service"))
                .is_some_and(|s| s.eq_ignore_ascii_case("true"));
            service == want_service
        });
    }
}

/// `GET P/<res>/{name}`.
pub(crate) async fn get_one<T: Rules>(ctx: Ctx) -> http::Response<Body> {
    let admin = rest_admin(&ctx, endpoint::<T>());
    let snapshot = ctx.state.security.current();
    match ops::get_one::<T>(&snapshot.config, &name(&ctx), admin) {
        Ok(v) => json(&ctx, StatusCode::OK, &v),
        Err(e) => opensearch::render_error(&e),
    }
}

/// `PUT P/<res>/{name}`.
pub(crate) async fn put<T: Rules>(ctx: Ctx) -> http::Response<Body> {
    let admin = rest_admin(&ctx, endpoint::<T>());
    let (name, body) = (name(&ctx), ctx.body.clone());
    change(&ctx, admin, move |config, caller| {
        ops::put::<T>(config, &name, &body, caller)
    })
    .await
}

/// `DELETE P/<res>/{name}`.
pub(crate) async fn delete<T: Rules>(ctx: Ctx) -> http::Response<Body> {
    let admin = rest_admin(&ctx, endpoint::<T>());
    let name = name(&ctx);
    change(&ctx, admin, move |config, caller| {
        ops::delete::<T>(config, &name, caller)
    })
    .await
}

/// `PATCH P/<res>/{name}`.
pub(crate) async fn patch_one<T: Rules>(ctx: Ctx) -> http::Response<Body> {
    let admin = rest_admin(&ctx, endpoint::<T>());
    let (name, body) = (name(&ctx), ctx.body.clone());
    change(&ctx, admin, move |config, caller| {
        ops::patch_one::<T>(config, &name, &body, caller)
    })
    .await
}

/// `PATCH P/<res>`.
pub(crate) async fn patch_all<T: Rules>(ctx: Ctx) -> http::Response<Body> {
    let admin = rest_admin(&ctx, endpoint::<T>());
    let body = ctx.body.clone();
    change(&ctx, admin, move |config, caller| {
        ops::patch_all::<T>(config, &body, caller)
    })
    .await
}

/// `GET|PATCH P/<res>` on one route.
pub(crate) async fn collection<T: Rules>(ctx: Ctx) -> http::Response<Body> {
    if ctx.method == Method::PATCH {
        patch_all::<T>(ctx).await
    } else {
        get_all::<T>(ctx).await
    }
}

/// `GET|PUT|DELETE|PATCH P/<res>/{name}` on one route.
pub(crate) async fn entity<T: Rules>(ctx: Ctx) -> http::Response<Body> {
    match ctx.method {
        Method::PUT => put::<T>(ctx).await,
        Method::DELETE => delete::<T>(ctx).await,
        Method::PATCH => patch_one::<T>(ctx).await,
        _ => get_one::<T>(ctx).await,
    }
}
