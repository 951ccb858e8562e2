//! `/v1/sys/capabilities-self`, `/v1/sys/capabilities` and
//! `/v1/sys/capabilities-accessor`: what a token may do on paths.

use http::StatusCode;
use serde_json::{Map, Value, json};

use super::transit::{Reply, fields, respond};
use crate::ctx::{Body, Ctx};
use crate::family::vault::{self, VaultError};
use crate::vault::request::{Kind, Schema};

const SCHEMA: Schema = &[
    ("token", Kind::Str),
    ("accessor", Kind::Str),
    ("path", Kind::StrList),
    ("paths", Kind::StrList),
];

/// Whose capabilities a request asks for.
enum Whose {
    Caller,
    Token,
    Accessor,
}

async fn answer(ctx: &Ctx, whose: Whose) -> Reply {
    let f = fields(ctx, SCHEMA)?;
    let now = ctx.state.clock.now();
    let tokens = &ctx.state.auth.tokens;
    let snapshot = ctx.state.security.current();
    let ip = ctx.conn.remote_addr.map(|a| a.ip());
    let policies = match whose {
        Whose::Caller => {
            let p = ctx
                .principal
                .as_ref()
                .ok_or_else(VaultError::permission_denied)?;
            snapshot.vault_policies(p, ip)
        }
        Whose::Token => {
            let token = f
                .str("token")
                .filter(|t| !t.is_empty())
                .ok_or_else(|| VaultError::bad_request("missing token"))?;
            let entry = tokens
                .lookup(&secrecy::SecretString::from(token.to_string()), now)
                .ok_or_else(|| VaultError::bad_request("bad token"))?;
            entry.policies.clone()
        }
        Whose::Accessor => {
            let accessor = f
                .str("accessor")
                .filter(|a| !a.is_empty())
                .ok_or_else(|| VaultError::bad_request("missing accessor"))?;
            let entry = tokens
                .lookup_accessor(accessor, now)
                .ok_or_else(|| VaultError::bad_request("invalid accessor"))?;
            entry.policies.clone()
        }
    };
    let single = f.list("path").map(<[String]>::to_vec).unwrap_or_default();
    let mut paths = single.clone();
    paths.extend(f.list("paths").map(<[String]>::to_vec).unwrap_or_default());
    if paths.is_empty() {
        return Err(VaultError::bad_request("paths must be supplied"));
    }
    let acl = ctx.state.policies.acl_for(&policies);
    // Vault's handler answers each path's capabilities sorted by name.
    let sorted = |path: &str| {
        let mut caps = acl.capabilities(path);
        caps.sort_unstable();
        caps
    };
    let mut data = Map::new();
    for path in &paths {
        data.insert(path.clone(), json!(sorted(path)));
    }
    // The single-path form also answers under `capabilities` (old clients).
    if single.len() == 1 && f.list("paths").is_none() {
        data.insert("capabilities".into(), json!(sorted(&single[0])));
    }
    let mut body = data.clone();
    body.insert("request_id".into(), json!(ctx.request_id));
    body.insert("lease_id".into(), json!(""));
    body.insert("renewable".into(), json!(false));
    body.insert("lease_duration".into(), json!(0));
    body.insert("data".into(), Value::Object(data));
    body.insert("wrap_info".into(), Value::Null);
    body.insert("warnings".into(), Value::Null);
    body.insert("auth".into(), Value::Null);
    Ok(vault::raw(StatusCode::OK, &body))
}

/// `POST /v1/sys/capabilities-self` `{"path"|"paths"}`.
pub(crate) async fn this_token(ctx: Ctx) -> http::Response<Body> {
    respond(answer(&ctx, Whose::Caller).await)
}

/// `POST /v1/sys/capabilities` `{"token", "path"|"paths"}`.
pub(crate) async fn of_token(ctx: Ctx) -> http::Response<Body> {
    respond(answer(&ctx, Whose::Token).await)
}

/// `POST /v1/sys/capabilities-accessor` `{"accessor", "path"|"paths"}`.
pub(crate) async fn of_accessor(ctx: Ctx) -> http::Response<Body> {
    respond(answer(&ctx, Whose::Accessor).await)
}
