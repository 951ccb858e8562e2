//! `/v1/auth/token/...`: create, look up, renew and revoke Vault tokens;
//! and `/v1/auth/userpass/login/:username`, which turns an internal user's
//! password into a token whose policies are named like the user's security
//! roles (`all_access` gives `root`).

use std::sync::Arc;

use audit_config::{AuditCategory, AuditTopic, ComplianceAction};
use http::StatusCode;
use keyring_core::Timestamp;
use rbac_model::Principal;
use rbac_model::tokens::{TokenEntry, TokenRequest};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::transit::{Reply, fields, respond};
use crate::auth::{AuthOutcome, Credentials};
use crate::ctx::{Body, Ctx};
use crate::family::vault::{self, Envelope, VaultError};
use crate::vault::goparse::parse_duration_secs;
use crate::vault::policies::rfc3339;
use crate::vault::request::{Fields, Kind, Schema};

const CREATE: Schema = &[
    ("policies", Kind::StrList),
    ("meta", Kind::StrMap),
    ("no_parent", Kind::Bool),
    ("no_default_policy", Kind::Bool),
    ("renewable", Kind::Bool),
    ("ttl", Kind::Str),
    ("explicit_max_ttl", Kind::Str),
    ("display_name", Kind::Str),
    ("num_uses", Kind::Int),
    ("period", Kind::Any),
    ("type", Kind::Str),
    ("entity_alias", Kind::Any),
    ("id", Kind::Any),
    ("lease", Kind::Any),
];
const TOKEN: Schema = &[("token", Kind::Str), ("increment", Kind::DurationSecs)];
const ACCESSOR: Schema = &[("accessor", Kind::Str), ("increment", Kind::DurationSecs)];
const LOGIN: Schema = &[("username", Kind::Str), ("password", Kind::Str)];

/// Audits a change to the tokens (`audit-database`, document
/// `auth/token`): tokens are named by their display name, never by their
/// id, its hash or their accessor.
fn token_changed(ctx: &Ctx, user: Option<&str>, action: ComplianceAction, names: Vec<String>) {
    crate::audit::changed_by(ctx, user, AuditTopic::Database, action, "auth/token", names);
}

fn caller_name(ctx: &Ctx) -> Option<&str> {
    ctx.principal.as_ref().map(Principal::name)
}

/// 400 in Vault's framework wrapping.
fn wrapped400(text: &str) -> VaultError {
    VaultError::wrapped(StatusCode::BAD_REQUEST, text)
}

/// Go's short rendering of a whole number of seconds, as Vault's TTL warnings print it.
fn go_duration(secs: u64) -> String {
    if secs.is_multiple_of(3600) && secs > 0 {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) && secs > 0 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// The `auth` block Vault answers a create, a login or a renewal with.
fn auth_block(token: &str, e: &TokenEntry, now: Timestamp) -> Value {
    json!({
        "client_token": token,
        "accessor": e.accessor,
        "policies": e.policies,
        "token_policies": e.policies,
        "metadata": if e.meta.is_empty() { Value::Null } else { json!(e.meta) },
        "lease_duration": e.ttl_left(now),
        "renewable": e.renewable,
        "entity_id": "",
        "token_type": "service",
        "orphan": e.orphan,
        "mfa_requirement": null,
        "num_uses": e.num_uses,
    })
}

/// The `data` of a lookup; `id` is the token when the caller gave it, `""` by accessor.
fn lookup_data(id: &str, e: &TokenEntry, now: Timestamp) -> Value {
    json!({
        "accessor": e.accessor,
        "creation_time": e.creation_time.unix_secs(),
        "creation_ttl": e.creation_ttl,
        "display_name": e.display_name,
        "entity_id": "",
        "expire_time": e.expire_time.map(rfc3339),
        "explicit_max_ttl": e.explicit_max_ttl,
        "id": id,
        "issue_time": rfc3339(e.issue_time),
        "meta": if e.meta.is_empty() { Value::Null } else { json!(e.meta) },
        "num_uses": e.num_uses,
        "orphan": e.orphan,
        "path": e.path,
        "policies": e.policies,
        "renewable": e.renewable,
        "ttl": e.ttl_left(now),
        "type": "service",
    })
}

/// The token the request was made with, as text (for `id` and renewals).
fn presented_token(ctx: &Ctx) -> Option<SecretString> {
    match Credentials::from_headers(&ctx.headers) {
        Credentials::Token(t) => Some(t),
        _ => None,
    }
}

fn caller(ctx: &Ctx) -> Result<&Principal, VaultError> {
    ctx.principal
        .as_ref()
        .ok_or_else(VaultError::permission_denied)
}

/// The caller's own live token.
fn own_token(ctx: &Ctx) -> Result<(SecretString, Arc<TokenEntry>), VaultError> {
    let now = ctx.state.clock.now();
    let grant = caller(ctx)?
        .token_grant()
        .ok_or_else(|| VaultError::bad_request("bad token"))?;
    let token = presented_token(ctx).ok_or_else(|| VaultError::bad_request("bad token"))?;
    let entry = ctx
        .state
        .auth
        .tokens
        .lookup_id(grant.id, now)
        .or_else(|| ctx.spent_token.clone())
        .ok_or_else(|| VaultError::bad_request("bad token"))?;
    Ok((token, entry))
}

fn duration(f: &Fields<'_>, name: &str) -> Result<Option<u64>, VaultError> {
    match f.str(name).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(text) => {
            let secs = parse_duration_secs(text).map_err(VaultError::bad_request)?;
            Ok(Some(u64::try_from(secs).unwrap_or(0)))
        }
    }
}

/// `display_name` as Vault keeps it: anything but letters, digits and `-`
/// becomes `-`, and trailing dashes go.
fn sanitize_display_name(s: &str) -> String {
    let dashed: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    dashed.trim_end_matches('-').to_string()
}

async fn create(ctx: &Ctx, orphan_endpoint: bool) -> Reply {
    let f = fields(ctx, CREATE)?;
    let now = ctx.state.clock.now();
    let snapshot = ctx.state.security.current();
    let ip = ctx.conn.remote_addr.map(|a| a.ip());
    let who = caller(ctx)?;
    let caller_policies = snapshot.vault_policies(who, ip);
    let caller_root = caller_policies.iter().any(|p| p == "root");
    if f.bool("no_parent") == Some(true) && !caller_root && !orphan_endpoint {
        return Err(VaultError::bad_request(
            "root or sudo privileges required to create orphan token",
        ));
    }
    let num_uses = f.int("num_uses").unwrap_or(0);
    if num_uses < 0 {
        return Err(VaultError::bad_request("number of uses cannot be negative"));
    }
    // An empty list is no list: the token inherits, as in Vault.
    let requested: Option<Vec<String>> = f
        .list("policies")
        .filter(|l| !l.is_empty())
        .map(|l| l.iter().map(|p| p.to_lowercase()).collect());
    if !caller_root
        && let Some(req) = &requested
        && req
            .iter()
            .any(|p| p != "default" && !caller_policies.contains(p))
    {
        return Err(VaultError::bad_request(
            "child policies must be subset of parent",
        ));
    }
    let ttl = duration(&f, "ttl")?;
    let explicit_max = duration(&f, "explicit_max_ttl")?;
    let parent = who
        .token_grant()
        .and_then(|g| ctx.state.auth.tokens.lookup_id(g.id, now));
    let no_parent = orphan_endpoint || f.bool("no_parent") == Some(true);
    let mut warnings: Vec<String> = f.warnings().to_vec();
    let effective_ttl = ttl.unwrap_or(rbac_model::tokens::DEFAULT_TTL_SECS);
    if let Some(max) = explicit_max.filter(|m| *m > 0)
        && effective_ttl > max
    {
        warnings.push(format!(
            "TTL of \"{}\" exceeded the effective max_ttl of \"{}\"; TTL value is capped accordingly",
            go_duration(effective_ttl),
            go_duration(max)
        ));
    }
    if let Some(req) = &requested {
        for p in req {
            if p != "root" && !ctx.state.policies.exists(p) {
                warnings.push(format!("Policy \"{p}\" does not exist"));
            }
        }
    }
    let request = TokenRequest {
        // A caller without a token (HTTP Basic) hands out its own policies.
        policies: requested.or_else(|| parent.is_none().then(|| caller_policies.clone())),
        meta: f.map("meta").cloned().unwrap_or_default(),
        no_parent,
        no_default_policy: f.bool("no_default_policy").unwrap_or(false),
        ttl,
        explicit_max_ttl: explicit_max,
        renewable: f.bool("renewable"),
        display_name: f.str("display_name").map(sanitize_display_name),
        num_uses: u32::try_from(num_uses).unwrap_or(u32::MAX),
    };
    let parent_ref = if no_parent { None } else { parent.as_deref() };
    let (token, entry) = ctx
        .state
        .auth
        .tokens
        .create(parent_ref, request, "auth/token/create", None, now)
        .await
        .map_err(token_error)?;
    token_changed(
        ctx,
        caller_name(ctx),
        ComplianceAction::Create,
        vec![entry.display_name.clone()],
    );
    Ok(Envelope::<Value>::auth(
        &ctx.request_id,
        auth_block(token.expose_secret(), &entry, now),
    )
    .warn_all(&warnings)
    .into_response())
}

fn token_error(e: rbac_model::tokens::TokenError) -> VaultError {
    use rbac_model::tokens::TokenError;
    match e {
        TokenError::PoliciesNotSubset | TokenError::NotRenewable => {
            VaultError::bad_request(e.to_string())
        }
        TokenError::NotFound => VaultError::bad_request("token not found"),
        other => {
            tracing::error!(target: "keyward::tokens", error = %other, "token store failure");
            VaultError::wrapped(StatusCode::INTERNAL_SERVER_ERROR, &other.to_string())
        }
    }
}

/// `POST /v1/auth/token/create`.
pub(crate) async fn create_token(ctx: Ctx) -> http::Response<Body> {
    respond(create(&ctx, false).await)
}

/// `POST /v1/auth/token/create-orphan`.
pub(crate) async fn create_orphan(ctx: Ctx) -> http::Response<Body> {
    respond(create(&ctx, true).await)
}

/// `GET|POST /v1/auth/token/lookup-self`.
pub(crate) async fn lookup_self(ctx: Ctx) -> http::Response<Body> {
    respond((|| {
        let (token, entry) = own_token(&ctx)?;
        let now = ctx.state.clock.now();
        let mut data = lookup_data(token.expose_secret(), &entry, now);
        if ctx.spent_token.is_some() {
            // Vault shows a token on its last use as tainted.
            data["num_uses"] = json!(-1);
        }
        Ok(Envelope::data(&ctx.request_id, data).into_response())
    })())
}

/// `POST /v1/auth/token/lookup` `{"token"}` (no token: the caller's own).
pub(crate) async fn lookup(ctx: Ctx) -> http::Response<Body> {
    respond((|| {
        let f = fields(&ctx, TOKEN)?;
        let now = ctx.state.clock.now();
        let (token, entry) = match f.str("token").filter(|t| !t.is_empty()) {
            None => own_token(&ctx)?,
            Some(t) => {
                let token = SecretString::from(t.to_string());
                let entry = ctx
                    .state
                    .auth
                    .tokens
                    .lookup(&token, now)
                    .ok_or_else(|| VaultError::new(StatusCode::FORBIDDEN, "bad token"))?;
                (token, entry)
            }
        };
        Ok(Envelope::data(
            &ctx.request_id,
            lookup_data(token.expose_secret(), &entry, now),
        )
        .into_response())
    })())
}

fn by_accessor(ctx: &Ctx, f: &Fields<'_>) -> Result<Arc<TokenEntry>, VaultError> {
    let accessor = f
        .str("accessor")
        .filter(|a| !a.is_empty())
        .ok_or_else(|| wrapped400("missing accessor"))?;
    ctx.state
        .auth
        .tokens
        .lookup_accessor(accessor, ctx.state.clock.now())
        .ok_or_else(|| wrapped400("invalid accessor"))
}

/// `POST /v1/auth/token/lookup-accessor` `{"accessor"}`.
pub(crate) async fn lookup_accessor(ctx: Ctx) -> http::Response<Body> {
    respond((|| {
        let f = fields(&ctx, ACCESSOR)?;
        let entry = by_accessor(&ctx, &f)?;
        Ok(Envelope::data(
            &ctx.request_id,
            lookup_data("", &entry, ctx.state.clock.now()),
        )
        .into_response())
    })())
}

async fn renew_entry(
    ctx: &Ctx,
    token_text: &str,
    entry: &TokenEntry,
    increment: Option<u64>,
) -> Reply {
    let now = ctx.state.clock.now();
    let renewed = ctx
        .state
        .auth
        .tokens
        .renew(entry.id, increment, now)
        .await
        .map_err(token_error)?;
    token_changed(
        ctx,
        caller_name(ctx),
        ComplianceAction::Update,
        vec![renewed.display_name.clone()],
    );
    Ok(
        Envelope::<Value>::auth(&ctx.request_id, auth_block(token_text, &renewed, now))
            .into_response(),
    )
}

/// `POST /v1/auth/token/renew-self` `{"increment"}`.
pub(crate) async fn renew_self(ctx: Ctx) -> http::Response<Body> {
    respond(
        async {
            let f = fields(&ctx, TOKEN)?;
            let (token, entry) = own_token(&ctx)?;
            renew_entry(&ctx, token.expose_secret(), &entry, f.secs("increment")).await
        }
        .await,
    )
}

/// `POST /v1/auth/token/renew` `{"token", "increment"}`.
pub(crate) async fn renew(ctx: Ctx) -> http::Response<Body> {
    respond(
        async {
            let f = fields(&ctx, TOKEN)?;
            let text = f
                .str("token")
                .filter(|t| !t.is_empty())
                .ok_or_else(|| VaultError::bad_request("missing token ID"))?;
            let token = SecretString::from(text.to_string());
            let entry = ctx
                .state
                .auth
                .tokens
                .lookup(&token, ctx.state.clock.now())
                .ok_or_else(|| VaultError::bad_request("token not found"))?;
            renew_entry(&ctx, text, &entry, f.secs("increment")).await
        }
        .await,
    )
}

/// `POST /v1/auth/token/renew-accessor` `{"accessor", "increment"}`.
pub(crate) async fn renew_accessor(ctx: Ctx) -> http::Response<Body> {
    respond(
        async {
            let f = fields(&ctx, ACCESSOR)?;
            let entry = by_accessor(&ctx, &f)?;
            renew_entry(&ctx, "", &entry, f.secs("increment")).await
        }
        .await,
    )
}

/// Revokes a token and its children; audits it by the display name
/// `name` (of the token itself; its children are counted).
async fn revoke_id(
    ctx: &Ctx,
    id: rbac_model::tokens::TokenId,
    name: Option<String>,
) -> Result<(), VaultError> {
    let revoked = ctx
        .state
        .auth
        .tokens
        .revoke(id)
        .await
        .map_err(token_error)?;
    if revoked > 0 {
        let mut names = vec![name.unwrap_or_else(|| "token".into())];
        if revoked > 1 {
            names.push(format!("(and {} child token(s))", revoked - 1));
        }
        token_changed(ctx, caller_name(ctx), ComplianceAction::Delete, names);
    }
    Ok(())
}

/// `POST /v1/auth/token/revoke-self`: the token and its children, 204.
pub(crate) async fn revoke_self(ctx: Ctx) -> http::Response<Body> {
    respond(
        async {
            let (_, entry) = own_token(&ctx)?;
            revoke_id(&ctx, entry.id, Some(entry.display_name.clone())).await?;
            Ok(vault::no_content())
        }
        .await,
    )
}

/// `POST /v1/auth/token/revoke` `{"token"}`: 204, also for an unknown token.
pub(crate) async fn revoke(ctx: Ctx) -> http::Response<Body> {
    respond(
        async {
            let f = fields(&ctx, TOKEN)?;
            let text = f
                .str("token")
                .filter(|t| !t.is_empty())
                .ok_or_else(|| VaultError::bad_request("missing token ID"))?;
            let token = SecretString::from(text.to_string());
            let name = ctx
                .state
                .auth
                .tokens
                .lookup(&token, ctx.state.clock.now())
                .map(|e| e.display_name.clone());
            let id = rbac_model::tokens::TokenId::of(&token);
            revoke_id(&ctx, id, name).await?;
            Ok(vault::no_content())
        }
        .await,
    )
}

/// `POST /v1/auth/token/revoke-accessor` `{"accessor"}`: 204, or 200 with
/// Vault's warning when no token has the accessor.
pub(crate) async fn revoke_accessor(ctx: Ctx) -> http::Response<Body> {
    respond(
        async {
            let f = fields(&ctx, ACCESSOR)?;
            let accessor = f
                .str("accessor")
                .filter(|a| !a.is_empty())
                .ok_or_else(|| wrapped400("missing accessor"))?;
            match ctx
                .state
                .auth
                .tokens
                .lookup_accessor(accessor, ctx.state.clock.now())
            {
                Some(entry) => {
                    revoke_id(&ctx, entry.id, Some(entry.display_name.clone())).await?;
                    Ok(vault::no_content())
                }
                None => Ok(Envelope::<Value>::auth(&ctx.request_id, Value::Null)
                    .warn("No token found with this accessor")
                    .into_response()),
            }
        }
        .await,
    )
}

/// `LIST /v1/auth/token/accessors` (root-protected).
pub(crate) async fn accessors(ctx: Ctx) -> http::Response<Body> {
    let keys = ctx.state.auth.tokens.accessors(ctx.state.clock.now());
    if keys.is_empty() {
        return VaultError::not_found_empty().into_response();
    }
    Envelope::data(&ctx.request_id, json!({ "keys": keys })).into_response()
}

/// `POST /v1/auth/userpass/login/:username` `{"password"}`.
pub(crate) async fn userpass_login(ctx: Ctx) -> http::Response<Body> {
    respond(
        async {
            let f = fields(&ctx, LOGIN)?;
            let user = f.str("username").unwrap_or_default().to_string();
            let password = f
                .str("password")
                .filter(|p| !p.is_empty())
                .ok_or_else(|| VaultError::bad_request("missing password"))?;
            let state = &ctx.state;
            let generation = state.auth.generation();
            let snapshot = state.security.current();
            let ip = ctx.conn.remote_addr.map(|a| a.ip());
            let now = state.clock.now();
            let creds = Credentials::Basic {
                user: user.clone(),
                password: SecretString::from(password.to_string()),
            };
            let principal = match state
                .auth
                .authenticate(creds, &snapshot.config, ip, generation, now)
                .await
            {
                AuthOutcome::Principal(p) => p,
                _ => {
                    crate::audit::request_event(&ctx, AuditCategory::FailedLogin, Some(&user));
                    return Err(VaultError::bad_request("invalid username or password"));
                }
            };
            crate::audit::request_event(&ctx, AuditCategory::Authenticated, Some(&user));
            let policies = snapshot.vault_policies(&principal, ip);
            let request = TokenRequest {
                policies: Some(policies),
                meta: [("username".to_string(), user.clone())]
                    .into_iter()
                    .collect(),
                no_parent: true,
                ..TokenRequest::default()
            };
            let (token, entry) = state
                .auth
                .tokens
                .create(
                    None,
                    request,
                    &format!("auth/userpass/login/{user}"),
                    Some(user.clone()),
                    now,
                )
                .await
                .map_err(token_error)?;
            token_changed(
                &ctx,
                Some(&user),
                ComplianceAction::Create,
                vec![entry.display_name.clone()],
            );
            Ok(Envelope::<Value>::auth(
                &ctx.request_id,
                auth_block(token.expose_secret(), &entry, now),
            )
            .into_response())
        }
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_and_durations_as_vault_prints_them() {
        assert_eq!(sanitize_display_name("Web App!"), "Web-App");
        assert_eq!(go_duration(768 * 3600), "768h");
        assert_eq!(go_duration(1800), "30m");
        assert_eq!(go_duration(90), "90s");
    }
}
