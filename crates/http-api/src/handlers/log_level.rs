//! ArangoDB's log level API: `GET`, `PUT` and `DELETE /_admin/log/level`
//! (and under `/_db/{db}/`). Raw bodies, no envelope, as ArangoDB answers.
//!
//! The topics are ArangoDB's; the `audit-*` topics decide which audit
//! events are written (an event is written while its topic is at INFO or
//! more verbose), and some ordinary topics govern keyward's own log lines
//! (`audit_config::TRACING_TARGETS`). Changes are all or nothing; levels
//! are not persisted: a restart (or `DELETE`) brings back the startup values.

use std::collections::BTreeMap;

use audit_config::{APPENDER, AuditTopic, ComplianceAction, LevelChange, LogLevels};
use http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::audit;
use crate::ctx::{Body, Ctx};
use crate::family::arango::{self, ArangoError, error_num};
use crate::route::{LOG_LEVEL, Permission, Table, handler};

const METHODS: &[Method] = &[Method::GET, Method::PUT, Method::DELETE];

/// Registers the routes.
pub(crate) fn routes(t: &mut Table) {
    let p = Permission::Cluster(LOG_LEVEL);
    t.add_arango(
        METHODS,
        "/_admin/log/level",
        p,
        "Log levels of every topic, the audit-* topics included: GET reads, PUT sets (a string: the global level; an object: topics), DELETE resets to the startup levels",
        handler(level),
    );
    t.add_arango(
        METHODS,
        "/_admin/log/level/{*suffix}",
        p,
        "Refused with errorNum 601 (superfluous URL suffices), as ArangoDB answers",
        handler(superfluous),
    );
}

/// `?withAppenders=true` (only `true`, in any case, as ArangoDB reads it).
fn with_appenders(ctx: &Ctx) -> bool {
    ctx.query()
        .map(crate::vault::request::parse_urlencoded)
        .unwrap_or_default()
        .iter()
        .any(|(k, v)| k == "withAppenders" && v.eq_ignore_ascii_case("true"))
}

fn levels_map(levels: &LogLevels) -> BTreeMap<&str, &'static str> {
    levels
        .topics()
        .iter()
        .map(|(t, l)| (t.as_str(), l.as_str()))
        .collect()
}

fn answer(levels: &LogLevels, appenders: bool) -> http::Response<Body> {
    let map = levels_map(levels);
    if appenders {
        arango::raw(&json!({"global": map, "appenders": {APPENDER: map}}))
    } else {
        arango::raw(&map)
    }
}

fn bad(message: impl Into<String>) -> http::Response<Body> {
    ArangoError::new(StatusCode::BAD_REQUEST, error_num::BAD_PARAMETER, message).into_response()
}

/// An object of topic → level, values that are not strings kept as `None`
/// (refused by `LogLevels::apply` with ArangoDB's text).
fn changes(map: &Map<String, Value>) -> Vec<LevelChange> {
    map.iter()
        .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string)))
        .collect()
}

/// What a PUT body asks for.
enum Request {
    Global(String),
    Topics(Vec<LevelChange>),
    WithAppenders {
        global: Vec<LevelChange>,
        appenders: Vec<(String, Vec<LevelChange>)>,
    },
}

fn parse(body: &[u8], appenders: bool) -> Result<Request, ArangoError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ArangoError::new(
            StatusCode::BAD_REQUEST,
            error_num::CORRUPTED_JSON,
            format!("VPackError error: {e}"),
        )
    })?;
    let bad = |message: String| {
        ArangoError::new(StatusCode::BAD_REQUEST, error_num::BAD_PARAMETER, message)
    };
    let expecting = || bad("Failed to update log levels: Expecting type Object".into());
    match (value, appenders) {
        (Value::String(s), false) => Ok(Request::Global(s)),
        (Value::Object(map), false) => Ok(Request::Topics(changes(&map))),
        (Value::Object(map), true) => {
            let global = match map.get("global") {
                None => Vec::new(),
                Some(Value::Object(g)) => changes(g),
                Some(_) => return Err(expecting()),
            };
            let appenders = match map.get("appenders") {
                None => Vec::new(),
                Some(Value::Object(a)) => a
                    .iter()
                    .map(|(name, v)| match v {
                        Value::Object(m) => Ok((name.clone(), changes(m))),
                        _ => Err(expecting()),
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err(expecting()),
            };
            if let Some(k) = map.keys().find(|k| *k != "global" && *k != "appenders") {
                return Err(bad(format!(
                    "Failed to update log levels: Unexpected attribute {k}"
                )));
            }
            Ok(Request::WithAppenders { global, appenders })
        }
        _ => Err(expecting()),
    }
}

/// The topics whose level differs between two states.
fn changed_topics(old: &LogLevels, new: &LogLevels) -> Vec<String> {
    let mut names = audit::changed_names(old.topics(), new.topics());
    if old.global() != new.global() && !names.iter().any(|n| n == "general") {
        names.push("general".into());
    }
    names
}

/// `GET|PUT|DELETE /_admin/log/level`.
async fn level(ctx: Ctx) -> http::Response<Body> {
    if let Err(e) = arango::check_database(ctx.param("db")) {
        return e.into_response();
    }
    let appenders = with_appenders(&ctx);
    let audit_state = &ctx.state.audit;
    if ctx.method == Method::GET {
        return answer(&audit_state.trail.levels(), appenders);
    }
    let request = if ctx.method == Method::PUT {
        match parse(&ctx.body, appenders) {
            Ok(r) => Some(r),
            Err(e) => return e.into_response(),
        }
    } else {
        None
    };
    let after = {
        let _guard = audit_state
            .levels_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let before = audit_state.trail.levels();
        let mut next = (*before).clone();
        let outcome = match &request {
            None => {
                next.reset();
                Ok(())
            }
            Some(Request::Global(s)) => {
                next.set_global(s);
                Ok(())
            }
            Some(Request::Topics(c)) => next.apply(c),
            Some(Request::WithAppenders { global, appenders }) => {
                next.apply_with_appenders(global, appenders)
            }
        };
        if let Err(e) = outcome {
            return bad(e.to_string());
        }
        // Recorded under the levels before the change, so a change that
        // silences `audit-service` is itself still in the audit log.
        let topics = changed_topics(&before, &next);
        if request.is_none() || !topics.is_empty() {
            let action = if request.is_none() {
                ComplianceAction::Reset
            } else {
                ComplianceAction::Update
            };
            tracing::info!(target: "keyward::audit", topics = ?topics, "log levels changed");
            audit::changed(&ctx, AuditTopic::Service, action, "log-levels", topics);
        }
        audit_state.set_levels(next.clone());
        next
    };
    answer(&after, appenders)
}

/// `/_admin/log/level/<anything>`: 400, errorNum 601.
async fn superfluous(ctx: Ctx) -> http::Response<Body> {
    if let Err(e) = arango::check_database(ctx.param("db")) {
        return e.into_response();
    }
    ArangoError::new(
        StatusCode::BAD_REQUEST,
        error_num::SUPERFLUOUS_SUFFICES,
        "superfluous URL suffices",
    )
    .into_response()
}
