//! Atlassian Data Center's AES key management (`/rest/secrets/1.0/keys/...`)
//! and keyward's secret store routes under the same prefix.
//!
//! - `POST keys/rotate`: a new AES key; every secret is re-encrypted under
//!   it in one durable step; the old key becomes inactive. 406 when a
//!   rotation cannot proceed (one is already running).
//! - `GET keys/inactive` → `{"inactiveKeys":[...]}`; `DELETE keys/inactive`
//!   deletes every inactive key no secret uses.
//! - keyward's extension: `GET secrets` (the names), `POST secrets` (many
//!   at once, one durable write), `PUT|GET|DELETE secrets/{name}`.
//!
//! Every answer but the reads is `{"message": ..., "status": ...}`. Secret
//! values are never logged or audited: events name the secrets only.

use std::collections::BTreeMap;

use audit_config::{AuditTopic, ComplianceAction};
use base64::Engine;
use http::StatusCode;
use keyring_core::{SecretName, SecretsError};
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use crate::audit;
use crate::ctx::{Body, Ctx};
use crate::family::atlassian::{self, message};
use crate::route::{
    DELETE, Family, GET, POST, PUT, Permission, SECRETS_INACTIVE, SECRETS_READ, SECRETS_ROTATE,
    SECRETS_WRITE, Table, handler,
};

const PREFIX: &str = "/rest/secrets/1.0";

/// The largest secret value (bytes of UTF-8).
pub(crate) const MAX_VALUE_BYTES: usize = 64 * 1024;

/// The most names one compliance event lists; the rest are counted.
const MAX_NAMES_PER_EVENT: usize = 1000;

/// Registers the routes.
pub(crate) fn routes(t: &mut Table) {
    let at = |p: &str| format!("{PREFIX}{p}");
    t.add(
        Family::Atlassian,
        POST,
        &at("/keys/rotate"),
        Permission::Cluster(SECRETS_ROTATE),
        "Rotate the AES key: a new key, every secret re-encrypted under it in one durable step; the old key becomes inactive",
        handler(rotate),
    );
    t.add(
        Family::Atlassian,
        GET,
        &at("/keys/inactive"),
        Permission::Cluster(SECRETS_INACTIVE),
        "The inactive AES keys: {\"inactiveKeys\":[...]}",
        handler(inactive),
    );
    t.add(
        Family::Atlassian,
        DELETE,
        &at("/keys/inactive"),
        Permission::Cluster(SECRETS_INACTIVE),
        "Delete every inactive AES key no secret uses",
        handler(delete_inactive),
    );
    t.add(
        Family::Atlassian,
        GET,
        &at("/secrets"),
        Permission::Cluster(SECRETS_READ),
        "keyward extension: the names of the stored secrets",
        handler(list),
    );
    t.add(
        Family::Atlassian,
        POST,
        &at("/secrets"),
        Permission::Cluster(SECRETS_WRITE),
        "keyward extension: store many secrets at once ({\"secrets\":{name: value}}), in one durable write",
        handler(import),
    );
    t.add(
        Family::Atlassian,
        GET,
        &at("/secrets/{name}"),
        Permission::Cluster(SECRETS_READ),
        "keyward extension: a secret's value",
        handler(read),
    );
    t.add(
        Family::Atlassian,
        PUT,
        &at("/secrets/{name}"),
        Permission::Cluster(SECRETS_WRITE),
        "keyward extension: store a secret ({\"value\": \"...\"}), encrypted under the active AES key",
        handler(write),
    );
    t.add(
        Family::Atlassian,
        DELETE,
        &at("/secrets/{name}"),
        Permission::Cluster(SECRETS_WRITE),
        "keyward extension: delete a secret",
        handler(delete),
    );
}

fn bad_request(text: &str) -> http::Response<Body> {
    message(StatusCode::BAD_REQUEST, "BAD_REQUEST", text)
}

/// A failure of the store: the server's, logged with its cause.
fn failed(what: &str, e: &keyring_core::Error) -> http::Response<Body> {
    tracing::error!(target: "keyward::secrets", error = %e, "{what} failed");
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        "ERROR",
        &format!("{what} failed: {e}"),
    )
}

fn names_for_event(mut names: Vec<String>) -> Vec<String> {
    if names.len() > MAX_NAMES_PER_EVENT {
        let more = names.len() - MAX_NAMES_PER_EVENT;
        names.truncate(MAX_NAMES_PER_EVENT);
        names.push(format!("(and {more} more)"));
    }
    names
}

/// A refusal on the way to an answer (boxed: a response is large).
type Refused = Box<http::Response<Body>>;

fn name(ctx: &Ctx) -> Result<SecretName, Refused> {
    let raw = ctx.param("name").unwrap_or_default();
    let decoded = crate::ctx::percent_decode(raw).unwrap_or_else(|| raw.to_string());
    SecretName::new(&decoded).ok_or_else(|| {
        Box::new(bad_request(&format!(
            "{decoded:?} is not a valid secret name: 1 to 256 characters from A-Z a-z 0-9 . _ -"
        )))
    })
}

/// `POST keys/rotate`.
async fn rotate(ctx: Ctx) -> http::Response<Body> {
    let now = ctx.state.clock.now();
    match ctx.state.secrets.rotate(now).await {
        Ok(Ok(r)) => {
            tracing::info!(target: "keyward::secrets", new_key = r.new_key.as_str(), old_key = r.old_key.as_str(), secrets = r.re_encrypted, "AES key rotated");
            audit::changed(
                &ctx,
                AuditTopic::Document,
                ComplianceAction::Rotate,
                "secrets/keys",
                vec![r.new_key.as_str().into(), r.old_key.as_str().into()],
            );
            message(
                StatusCode::OK,
                "SUCCESS",
                &format!(
                    "The AES key was rotated: {} is the active key, {} is inactive; {} secret(s) re-encrypted.",
                    r.new_key.as_str(),
                    r.old_key.as_str(),
                    r.re_encrypted
                ),
            )
        }
        Ok(Err(SecretsError::RotationInProgress)) => message(
            StatusCode::NOT_ACCEPTABLE,
            "ROTATION_IN_PROGRESS",
            "Key rotation cannot occur now: another rotation is in progress. Try again when it has finished.",
        ),
        Err(e) => failed("key rotation", &e),
    }
}

/// `GET keys/inactive`.
async fn inactive(ctx: Ctx) -> http::Response<Body> {
    let keys: Vec<String> = ctx
        .state
        .secrets
        .inactive_keys()
        .iter()
        .map(|k| k.as_str().to_string())
        .collect();
    atlassian::json(StatusCode::OK, &json!({ "inactiveKeys": keys }))
}

/// `DELETE keys/inactive`.
async fn delete_inactive(ctx: Ctx) -> http::Response<Body> {
    match ctx.state.secrets.delete_inactive_keys().await {
        Ok(deleted) if deleted.is_empty() => message(
            StatusCode::OK,
            "SUCCESS",
            "There are no inactive keys to delete.",
        ),
        Ok(deleted) => {
            let names: Vec<String> = deleted.iter().map(|k| k.as_str().to_string()).collect();
            audit::changed(
                &ctx,
                AuditTopic::Document,
                ComplianceAction::Delete,
                "secrets/keys",
                names.clone(),
            );
            message(
                StatusCode::OK,
                "SUCCESS",
                &format!(
                    "Deleted {} inactive key(s): {}.",
                    names.len(),
                    names.join(", ")
                ),
            )
        }
        Err(e) => failed("deleting the inactive keys", &e),
    }
}

/// `GET secrets`.
async fn list(ctx: Ctx) -> http::Response<Body> {
    atlassian::json(
        StatusCode::OK,
        &json!({ "secrets": ctx.state.secrets.names() }),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct One {
    value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Many {
    secrets: BTreeMap<String, String>,
}

/// The body as `T`; a caller's mistake is a 400 that says what is wrong
/// (serde's messages quote keys, never values).
fn body<'a, T: Deserialize<'a>>(ctx: &'a Ctx, shape: &str) -> Result<T, Refused> {
    if ctx.body.is_empty() {
        return Err(Box::new(bad_request(&format!(
            "a JSON body is required: {shape}"
        ))));
    }
    serde_json::from_slice(&ctx.body).map_err(|e| {
        let reason = match e.classify() {
            serde_json::error::Category::Data => "a body of the wrong shape",
            _ => "a body that is not JSON",
        };
        Box::new(bad_request(&format!(
            "{reason} (line {}, column {}); expected {shape}",
            e.line(),
            e.column()
        )))
    })
}

fn check_value(name: &str, value: &str) -> Result<(), Refused> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(Box::new(bad_request(&format!(
            "the value of {name:?} is {} bytes; the limit is {MAX_VALUE_BYTES}",
            value.len()
        ))));
    }
    Ok(())
}

/// `PUT secrets/{name}`.
async fn write(ctx: Ctx) -> http::Response<Body> {
    let name = match name(&ctx) {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let one: One = match body(&ctx, "{\"value\": \"...\"}") {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let value = Zeroizing::new(one.value);
    if let Err(r) = check_value(name.as_str(), &value) {
        return *r;
    }
    match ctx.state.secrets.put(&name, value.as_bytes()).await {
        Ok(replaced) => {
            let (status, word, action, verb) = if replaced {
                (
                    StatusCode::OK,
                    "UPDATED",
                    ComplianceAction::Update,
                    "updated",
                )
            } else {
                (
                    StatusCode::CREATED,
                    "CREATED",
                    ComplianceAction::Create,
                    "created",
                )
            };
            audit::changed(
                &ctx,
                AuditTopic::Document,
                action,
                "secrets",
                vec![name.as_str().into()],
            );
            message(status, word, &format!("Secret '{name}' {verb}."))
        }
        Err(e) => failed("storing the secret", &e),
    }
}

/// `POST secrets`: many secrets in one durable write.
async fn import(ctx: Ctx) -> http::Response<Body> {
    let many: Many = match body(&ctx, "{\"secrets\": {\"name\": \"value\", ...}}") {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let mut items = Vec::with_capacity(many.secrets.len());
    for (n, v) in many.secrets {
        let v = Zeroizing::new(v);
        let Some(name) = SecretName::new(&n) else {
            return bad_request(&format!(
                "{n:?} is not a valid secret name: 1 to 256 characters from A-Z a-z 0-9 . _ -"
            ));
        };
        if let Err(r) = check_value(&n, &v) {
            return *r;
        }
        items.push((name, Zeroizing::new(v.as_bytes().to_vec())));
    }
    if items.is_empty() {
        return bad_request("\"secrets\" is empty: nothing to store");
    }
    let names: Vec<String> = items.iter().map(|(n, _)| n.as_str().to_string()).collect();
    match ctx.state.secrets.put_many(&items).await {
        Ok(replaced) => {
            audit::changed(
                &ctx,
                AuditTopic::Document,
                ComplianceAction::Update,
                "secrets",
                names_for_event(names),
            );
            message(
                StatusCode::OK,
                "SUCCESS",
                &format!(
                    "Stored {} secret(s): {} created, {replaced} replaced.",
                    items.len(),
                    items.len() - replaced
                ),
            )
        }
        Err(e) => failed("storing the secrets", &e),
    }
}

/// `GET secrets/{name}`.
async fn read(ctx: Ctx) -> http::Response<Body> {
    let name = match name(&ctx) {
        Ok(n) => n,
        Err(r) => return *r,
    };
    match ctx.state.secrets.get(&name).await {
        Ok(Some(value)) => {
            let body = match std::str::from_utf8(&value) {
                Ok(text) => json!({"name": name.as_str(), "value": text}),
                Err(_) => json!({
                    "name": name.as_str(),
                    "value_base64": base64::engine::general_purpose::STANDARD.encode(&value[..]),
                }),
            };
            atlassian::json(StatusCode::OK, &body)
        }
        Ok(None) => message(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!("No secret named '{name}'."),
        ),
        Err(e) => failed("reading the secret", &e),
    }
}

/// `DELETE secrets/{name}`.
async fn delete(ctx: Ctx) -> http::Response<Body> {
    let name = match name(&ctx) {
        Ok(n) => n,
        Err(r) => return *r,
    };
    match ctx.state.secrets.delete(&name).await {
        Ok(true) => {
            audit::changed(
                &ctx,
                AuditTopic::Document,
                ComplianceAction::Delete,
                "secrets",
                vec![name.as_str().into()],
            );
            message(
                StatusCode::OK,
                "DELETED",
                &format!("Secret '{name}' deleted."),
            )
        }
        Ok(false) => message(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!("No secret named '{name}'."),
        ),
        Err(e) => failed("deleting the secret", &e),
    }
}
