//! The single documents: security config, tenancy config, allowlist.

use http::{Method, StatusCode};
use rbac_model::Endpoint;
use rbac_model::model::TenancyConfig;
use rbac_model::ops;

use super::{apply, change, commit, json, rest_admin};
use crate::ctx::{Body, Ctx};
use crate::family::opensearch;

/// `GET P/securityconfig`.
pub(crate) async fn get_security_config(ctx: Ctx) -> http::Response<Body> {
    let snapshot = ctx.state.security.current();
    json(&ctx, StatusCode::OK, &snapshot.config.dynamic.to_api())
}

/// `PUT P/securityconfig/config`.
pub(crate) async fn put_security_config(ctx: Ctx) -> http::Response<Body> {
    let body = ctx.body.clone();
    change(&ctx, true, move |config, _| {
        ops::put_security_config(config, &body)
    })
    .await
}

/// `PATCH P/securityconfig`.
pub(crate) async fn patch_security_config(ctx: Ctx) -> http::Response<Body> {
    let body = ctx.body.clone();
    change(&ctx, true, move |config, _| {
        ops::patch_security_config(config, &body)
    })
    .await
}

/// `GET|PUT P/tenancy/config`.
pub(crate) async fn tenancy_config(ctx: Ctx) -> http::Response<Body> {
    if ctx.method != Method::PUT {
        let snapshot = ctx.state.security.current();
        let value = serde_json::to_value(TenancyConfig::from(&snapshot.config.dynamic.kibana))
            .unwrap_or_default();
        return json(&ctx, StatusCode::OK, &value);
    }
    let state = ctx.state.clone();
    let _guard = state.security.write_lock.lock().await;
    let current = state.security.current();
    match ops::put_tenancy_config(&current.config, &ctx.body) {
        Ok((new, answer)) => {
            if new != current.config
                && let Err(resp) = commit(&ctx, &current.config, new).await
            {
                return resp;
            }
            json(
                &ctx,
                StatusCode::OK,
                &serde_json::to_value(answer).unwrap_or_default(),
            )
        }
        Err(e) => opensearch::render_error(&e),
    }
}

/// `GET|PUT|PATCH /_plugins/_security/api/allowlist`.
pub(crate) async fn allowlist(ctx: Ctx) -> http::Response<Body> {
    let admin = rest_admin(&ctx, Endpoint::Allowlist);
    let body = ctx.body.clone();
    match ctx.method {
        Method::PUT => {
            change(&ctx, admin, move |config, _| {
                ops::put_allowlist(config, &body)
            })
            .await
        }
        Method::PATCH => {
            match apply(&ctx, admin, move |config, _| {
                ops::patch_allowlist(config, &body)
            })
            .await
            {
                Ok(c) => super::changed(&ctx, &c),
                Err(resp) => resp,
            }
        }
        _ => {
            let snapshot = ctx.state.security.current();
            json(&ctx, StatusCode::OK, &snapshot.config.allowlist.to_api())
        }
    }
}
