//! Audit events, in one place: the request pipeline reports each outcome
//! (failed login, authenticated, missing or granted privileges, bad
//! headers) with [`Audit::rest`], handlers report every change they made
//! with [`changed`], the server its own changes with [`Audit::local`].
//!
//! Whether an event is wanted is decided first and cheaply (category,
//! user, path, the level of its ArangoDB topic); only a wanted event is
//! built, and it is queued for the audit writer thread, never written here.
//! Events carry names, never secrets: bodies are redacted
//! ([`audit_config::redact_body`]) and credentials headers never keep their
//! values.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use audit_config::{
    AuditCategory, AuditConfig, AuditDocument, AuditEvent, AuditFilter, AuditSink, AuditTopic,
    AuditTrail, ComplianceAction, Deferred, LogLevels, NodeIdentity, Origin,
};
use bytes::Bytes;
use http::{HeaderMap, Method};
use keyring_core::{Barrier, Clock};

use crate::Error;
use crate::ctx::Ctx;

/// Where the audit configuration is stored (the plugin's `audit` document).
const CONFIG_PATH: &str = "sys/audit/config";

/// What the server applies when the log levels change (keyward's own log
/// targets; see [`LogLevels::tracing_directives`]).
pub type LogLevelsHook = Arc<dyn Fn(&LogLevels) + Send + Sync>;

/// Audit settings of the API (the `[audit]` table).
#[derive(Debug, Clone, Default)]
pub struct AuditSettings {
    /// `_readonly`: JSON pointers into the audit configuration that only a
    /// superuser (root token, admin certificate) may change. Empty by
    /// default, as the plugin ships it.
    pub readonly: Vec<String>,
}

/// The audit state of the API.
pub(crate) struct Audit {
    pub(crate) trail: AuditTrail,
    pub(crate) readonly: Vec<String>,
    /// Serializes changes of the audit configuration.
    pub(crate) write_lock: tokio::sync::Mutex<()>,
    /// Serializes changes of the log levels.
    pub(crate) levels_lock: std::sync::Mutex<()>,
    hook: Option<LogLevelsHook>,
}

impl Audit {
    /// Loads the stored audit configuration (storing the shipped one at
    /// first start).
    pub(crate) async fn open(
        barrier: &Barrier,
        settings: &AuditSettings,
        sink: Option<Arc<AuditSink>>,
        hook: Option<LogLevelsHook>,
        node: NodeIdentity,
        clock: Arc<dyn Clock>,
    ) -> Result<Audit, Error> {
        AuditConfig::check_readonly_paths(&settings.readonly).map_err(|e| Error::Record {
            path: "[audit] readonly".into(),
            reason: e.to_string(),
        })?;
        let config = match barrier.get(CONFIG_PATH).await? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Record {
                path: CONFIG_PATH.into(),
                reason: e.to_string(),
            })?,
            None => {
                let shipped = AuditConfig::shipped();
                store(barrier, &shipped).await?;
                shipped
            }
        };
        let levels = LogLevels::default();
        if let Some(hook) = &hook {
            hook(&levels);
        }
        Ok(Audit {
            trail: AuditTrail::new(&config, levels, sink, node, clock),
            readonly: settings.readonly.clone(),
            write_lock: tokio::sync::Mutex::new(()),
            levels_lock: std::sync::Mutex::new(()),
            hook,
        })
    }

    /// The document `GET P/audit` answers with.
    pub(crate) fn document(&self) -> AuditDocument {
        AuditDocument::new(self.readonly.clone(), self.trail.filter().config().clone())
    }

    /// Persists a new configuration (the caller holds `write_lock`, and
    /// swaps it in with [`Audit::apply_config`] once the change is audited).
    pub(crate) async fn store_config(
        &self,
        barrier: &Barrier,
        config: &AuditConfig,
    ) -> Result<(), keyring_core::Error> {
        store(barrier, config).await
    }

    /// Swaps in a stored configuration.
    pub(crate) fn apply_config(&self, config: &AuditConfig) {
        self.trail.set_config(config);
    }

    /// Swaps in new log levels and applies them to the server's own log
    /// targets (the caller holds `levels_lock`).
    pub(crate) fn set_levels(&self, levels: LogLevels) {
        if let Some(hook) = &self.hook {
            hook(&levels);
        }
        self.trail.set_levels(levels);
    }

    /// A request event: written when the configuration wants `category`
    /// for `user` on this path and its topic is open. `body` is attached
    /// (redacted) when `log_request_body` is on.
    pub(crate) fn rest(&self, category: AuditCategory, req: &RequestView<'_>, who: Who<'_>) {
        if !self.trail.wants_rest(category, who.user, req.path) {
            return;
        }
        let filter = self.trail.filter();
        let mut e = AuditEvent::new(category, category.rest_topic(), self.trail.now());
        e.audit_request_id = Some(req.request_id.to_string());
        e.audit_request_remote_address = req.remote;
        e.audit_rest_request_method = Some(req.method.as_str().to_string());
        e.audit_rest_request_path = Some(req.path.to_string());
        e.audit_request_effective_user = who.user.map(str::to_string);
        e.audit_request_effective_user_is_admin = Some(who.is_admin);
        e.audit_request_privilege = who.privilege;
        // Headers, parameters and the body are described (and redacted) by
        // the writer thread: here they are only captured (reference counts).
        let body = if filter.log_request_body() {
            who.body.filter(|b| !b.is_empty()).cloned()
        } else {
            None
        };
        e.defer(Box::new(RequestFields {
            filter,
            headers: req.headers.clone(),
            query: req.query.map(str::to_string),
            body,
            secret_bodies: req.secret_bodies,
        }));
        self.trail.record(e);
    }

    /// A change the server made itself (a signal, a timer): origin `LOCAL`.
    pub(crate) fn local(
        &self,
        topic: AuditTopic,
        action: ComplianceAction,
        doc_id: &str,
        resources: Vec<String>,
    ) {
        if !self.trail.wants_config_write(topic, None) {
            return;
        }
        let mut e = AuditEvent::config_write(topic, action, doc_id, resources, self.trail.now());
        e.audit_request_origin = Origin::Local;
        self.trail.record(e);
    }

    /// A TLS handshake that failed (SSL_EXCEPTION), before any request.
    pub(crate) fn tls_failure(&self, remote: Option<IpAddr>, reason: &str) {
        let category = AuditCategory::SslException;
        if !self.trail.wants_rest(category, None, "") {
            return;
        }
        let mut e = AuditEvent::new(category, category.rest_topic(), self.trail.now());
        e.audit_request_remote_address = remote;
        e.audit_request_exception_stacktrace = Some(reason.to_string());
        self.trail.record(e);
    }
}

async fn store(barrier: &Barrier, config: &AuditConfig) -> Result<(), keyring_core::Error> {
    let bytes = serde_json::to_vec(config).unwrap_or_default();
    barrier.put(CONFIG_PATH, &bytes).await
}

/// Who a request event is about.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Who<'a> {
    /// The effective user (the name given for a failed login, `<NONE>` without one).
    pub(crate) user: Option<&'a str>,
    /// Root token or admin certificate.
    pub(crate) is_admin: bool,
    /// The permission checked.
    pub(crate) privilege: Option<&'static str>,
    /// The request body, when it has been read.
    pub(crate) body: Option<&'a Bytes>,
}

/// What the pipeline knows about a request, borrowed.
pub(crate) struct RequestView<'a> {
    pub(crate) method: &'a Method,
    pub(crate) path: &'a str,
    pub(crate) query: Option<&'a str>,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) remote: Option<IpAddr>,
    pub(crate) request_id: &'a str,
    /// True for the APIs whose bodies carry secrets in their values
    /// (Vault, the secret store): only descriptive strings of their bodies
    /// are logged.
    pub(crate) secret_bodies: bool,
}

/// Bodies larger than this are not parsed for the audit log; the event
/// says how large the body was instead.
const MAX_LOGGED_BODY: usize = 64 * 1024;

/// What the writer thread turns into an event's headers, parameters and
/// body, captured under the configuration of the moment of the request.
struct RequestFields {
    filter: Arc<AuditFilter>,
    headers: HeaderMap,
    query: Option<String>,
    body: Option<Bytes>,
    secret_bodies: bool,
}

impl Deferred for RequestFields {
    fn complete(self: Box<Self>, e: &mut AuditEvent) {
        let filter = &self.filter;
        let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in &self.headers {
            let value = String::from_utf8_lossy(value.as_bytes());
            if let Some(v) = filter.header(name.as_str(), &value) {
                headers
                    .entry(name.as_str().to_string())
                    .or_default()
                    .push(v.to_string());
            }
        }
        if !headers.is_empty() {
            e.audit_rest_request_headers = Some(headers);
        }
        if let Some(q) = &self.query {
            let params: BTreeMap<String, String> = crate::vault::request::parse_urlencoded(q)
                .into_iter()
                .filter(|(k, _)| filter.logs_param(k))
                .map(|(k, v)| {
                    // Vault reads request data from the query too.
                    if self.secret_bodies && k != "list" {
                        (k, audit_config::REDACTED.to_string())
                    } else {
                        (k, v)
                    }
                })
                .collect();
            if !params.is_empty() {
                e.audit_rest_request_params = Some(params);
            }
        }
        if let Some(body) = &self.body {
            e.audit_request_body = if body.len() > MAX_LOGGED_BODY {
                Some(format!("<{} bytes, not logged>", body.len()))
            } else if self.secret_bodies {
                audit_config::redact_body_strict(body)
            } else {
                audit_config::redact_body(body)
            };
        }
    }
}

/// A compliance event for a change the request in `ctx` made: `action` on
/// the `resources` (names) of `doc_id`, filed under `topic`.
pub(crate) fn changed(
    ctx: &Ctx,
    topic: AuditTopic,
    action: ComplianceAction,
    doc_id: &str,
    resources: Vec<String>,
) {
    let user = ctx.principal.as_ref().map(|p| p.name());
    changed_by(ctx, user, topic, action, doc_id, resources);
}

/// [`changed`] with the effective user given (a login acts for the user
/// it names before there is a principal).
pub(crate) fn changed_by(
    ctx: &Ctx,
    user: Option<&str>,
    topic: AuditTopic,
    action: ComplianceAction,
    doc_id: &str,
    resources: Vec<String>,
) {
    let trail = &ctx.state.audit.trail;
    if !trail.wants_config_write(topic, user) {
        return;
    }
    let mut e = AuditEvent::config_write(topic, action, doc_id, resources, trail.now());
    e.audit_request_id = Some(ctx.request_id.clone());
    e.audit_request_remote_address = ctx.conn.remote_addr.map(|a| a.ip());
    e.audit_request_effective_user = user.map(str::to_string);
    e.audit_request_effective_user_is_admin =
        Some(ctx.principal.as_ref().is_some_and(|p| p.is_superuser()));
    e.audit_rest_request_method = Some(ctx.method.as_str().to_string());
    e.audit_rest_request_path = Some(ctx.uri.path().to_string());
    trail.record(e);
}

/// A REST event a handler decides on itself (a login through
/// `/v1/auth/userpass/login/:user`, whose route needs no credentials):
/// `category` for `user`, with the request in `ctx` (the body attached,
/// redacted, when `log_request_body` is on).
pub(crate) fn request_event(ctx: &Ctx, category: AuditCategory, user: Option<&str>) {
    let family = crate::family::family_of_path(ctx.uri.path());
    let view = RequestView {
        method: &ctx.method,
        path: ctx.uri.path(),
        query: ctx.uri.query(),
        headers: &ctx.headers,
        remote: ctx.conn.remote_addr.map(|a| a.ip()),
        request_id: &ctx.request_id,
        secret_bodies: secret_bodies(family),
    };
    let who = Who {
        user,
        is_admin: false,
        privilege: None,
        body: Some(&ctx.body),
    };
    ctx.state.audit.rest(category, &view, who);
}

/// True for the API families whose bodies and query values carry secrets
/// (Vault: plaintexts, tokens, passwords; the secret store: values): only
/// descriptive strings of their bodies are logged.
pub(crate) fn secret_bodies(family: crate::route::Family) -> bool {
    use crate::route::Family;
    matches!(family, Family::Vault | Family::Atlassian)
}

/// The names that differ between two maps (added, changed or removed).
pub(crate) fn changed_names<V: PartialEq>(
    old: &BTreeMap<String, V>,
    new: &BTreeMap<String, V>,
) -> Vec<String> {
    let mut names: Vec<String> = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .chain(old.keys().filter(|k| !new.contains_key(*k)).cloned())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::changed_names;
    use std::collections::BTreeMap;

    #[test]
    fn names_of_what_changed() {
        let old: BTreeMap<String, u8> = [("a".into(), 1), ("b".into(), 2)].into();
        let new: BTreeMap<String, u8> = [("b".into(), 3), ("c".into(), 4)].into();
        assert_eq!(changed_names(&old, &new), vec!["a", "b", "c"]);
        assert!(changed_names(&old, &old).is_empty());
    }
}
