//! The OpenSearch Security plugin's bodies.
//!
//! Authentication failures are plain text (`Unauthorized`, with
//! `WWW-Authenticate: Basic realm="OpenSearch Security"`); API answers are
//! `{"status":"<RestStatus>","message":"..."}`; unknown paths and methods are
//! answered by OpenSearch's core in its own shapes.

use http::StatusCode;
use serde::Serialize;

use super::{Refusal, json_response};
use crate::ctx::Body;

pub(crate) const CONTENT_TYPE: &str = "application/json; charset=UTF-8";

/// The Java `RestStatus` name of a status code.
pub(crate) fn rest_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        200 => "OK",
        201 => "CREATED",
        400 => "BAD_REQUEST",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        408 => "REQUEST_TIMEOUT",
        409 => "CONFLICT",
        412 => "PRECONDITION_FAILED",
        413 => "REQUEST_ENTITY_TOO_LARGE",
        429 => "TOO_MANY_REQUESTS",
        501 => "NOT_IMPLEMENTED",
        503 => "SERVICE_UNAVAILABLE",
        _ => "INTERNAL_SERVER_ERROR",
    }
}

/// `{"status": "<RestStatus>", "message": "..."}`.
pub(crate) fn status_message(status: StatusCode, message: &str) -> http::Response<Body> {
    #[derive(Serialize)]
    struct M<'a> {
        status: &'static str,
        message: &'a str,
    }
    json_response(
        status,
        CONTENT_TYPE,
        &M {
            status: rest_status(status),
            message,
        },
    )
}

/// A plain-text answer, as the plugin's authentication layer gives them.
pub(crate) fn text(status: StatusCode, body: &str) -> http::Response<Body> {
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "text/plain; charset=UTF-8")
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|_| http::Response::new(Body::default()))
}

/// Writes `"key" : value`, as OpenSearch's `?pretty` does.
struct OpenSearchPretty(serde_json::ser::PrettyFormatter<'static>);

impl serde_json::ser::Formatter for OpenSearchPretty {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b" : ")
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// A JSON answer; `pretty` as `?pretty` asks.
pub(crate) fn json<T: Serialize + ?Sized>(
    status: StatusCode,
    value: &T,
    pretty: bool,
) -> http::Response<Body> {
    let bytes = if pretty {
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(
            &mut out,
            OpenSearchPretty(serde_json::ser::PrettyFormatter::with_indent(b"  ")),
        );
        match serde::Serialize::serialize(value, &mut ser) {
            Ok(()) => out,
            Err(_) => serde_json::to_vec(value).unwrap_or_default(),
        }
    } else {
        serde_json::to_vec(value).unwrap_or_default()
    };
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, CONTENT_TYPE)
        .body(Body::from(bytes))
        .unwrap_or_else(|_| http::Response::new(Body::default()))
}

/// `{"status": ..., "message": ...}`, pretty with `?pretty`.
pub(crate) fn status_message_pretty(
    status: StatusCode,
    message: &str,
    pretty: bool,
) -> http::Response<Body> {
    json(
        status,
        &serde_json::json!({"status": rest_status(status), "message": message}),
        pretty,
    )
}

/// OpenSearch core's error envelope.
pub(crate) fn core_error(status: StatusCode, kind: &str, reason: &str) -> http::Response<Body> {
    json_response(
        status,
        CONTENT_TYPE,
        &serde_json::json!({
            "error": {
                "root_cause": [{"type": kind, "reason": reason}],
                "type": kind,
                "reason": reason,
            },
            "status": status.as_u16(),
        }),
    )
}

/// OpenSearch core's error envelope for an exception with a cause, as a
/// wrapped Java exception renders: `caused_by` holds the cause.
pub(crate) fn core_error_caused(
    status: StatusCode,
    kind: &str,
    reason: &str,
    cause: (&str, &str),
) -> http::Response<Body> {
    json_response(
        status,
        CONTENT_TYPE,
        &serde_json::json!({
            "error": {
                "root_cause": [{"type": kind, "reason": reason}],
                "type": kind,
                "reason": reason,
                "caused_by": {"type": cause.0, "reason": cause.1},
            },
            "status": status.as_u16(),
        }),
    )
}

/// A refusal of the identity model, in the plugin's body for it.
pub(crate) fn render_error(e: &rbac_model::Error) -> http::Response<Body> {
    use rbac_model::{Error, ValidationFailure};
    match e {
        Error::Invalid(v) => {
            let mut body = serde_json::Map::new();
            body.insert("status".into(), "error".into());
            body.insert("reason".into(), v.reason().into());
            match v {
                ValidationFailure::InvalidConfiguration {
                    invalid_keys,
                    missing_mandatory_keys,
                    specify_one_of,
                } => {
                    for (k, list) in [
                        ("invalid_keys", invalid_keys),
                        ("missing_mandatory_keys", missing_mandatory_keys),
                        ("specify_one_of", specify_one_of),
                    ] {
                        if !list.is_empty() {
                            body.insert(k.into(), serde_json::json!({"keys": list.join(",")}));
                        }
                    }
                }
                ValidationFailure::WrongDatatype(fields) => {
                    for (k, msg) in fields {
                        body.insert(k.clone(), msg.clone().into());
                    }
                }
                ValidationFailure::Reason(_) => {}
            }
            json_response(
                StatusCode::BAD_REQUEST,
                CONTENT_TYPE,
                &serde_json::Value::Object(body),
            )
        }
        Error::BadRequest(m) => status_message(StatusCode::BAD_REQUEST, m),
        Error::NotFound(m) => status_message(StatusCode::NOT_FOUND, m),
        Error::Forbidden(m) => status_message(StatusCode::FORBIDDEN, m),
        Error::Malformed(m) => core_error(StatusCode::BAD_REQUEST, "illegal_argument_exception", m),
        other => status_message(StatusCode::INTERNAL_SERVER_ERROR, &format!("Error {other}")),
    }
}

/// The 401 challenge of the basic authenticator.
pub(crate) fn unauthorized() -> http::Response<Body> {
    let mut resp = text(StatusCode::UNAUTHORIZED, "Unauthorized");
    resp.headers_mut().insert(
        http::header::WWW_AUTHENTICATE,
        http::HeaderValue::from_static("Basic realm=\"OpenSearch Security\""),
    );
    resp
}

/// The deprecation warning the legacy `/_opendistro/_security` paths carry.
pub(crate) const LEGACY_WARNING: &str = "299 OpenSearch-keyward \"[_opendistro/_security] is a deprecated endpoint path. Please use _plugins/_security instead.\"";

pub(crate) fn refuse(refusal: Refusal) -> http::Response<Body> {
    match refusal {
        Refusal::NotFound { path, method } => json_response(
            StatusCode::BAD_REQUEST,
            CONTENT_TYPE,
            &serde_json::json!({
                "error": format!("no handler found for uri [{path}] and method [{method}]"),
            }),
        ),
        Refusal::MethodNotAllowed {
            path,
            method,
            allowed,
        } => {
            let allowed: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
            json_response(
                StatusCode::METHOD_NOT_ALLOWED,
                CONTENT_TYPE,
                &serde_json::json!({
                    "error": format!(
                        "Incorrect HTTP method for uri [{path}] and method [{method}], allowed: [{}]",
                        allowed.join(", ")
                    ),
                    "status": 405,
                }),
            )
        }
        Refusal::Unauthenticated => unauthorized(),
        Refusal::Blocked => text(StatusCode::UNAUTHORIZED, "Authentication finally failed"),
        Refusal::GateDenied(reason) => status_message(
            StatusCode::FORBIDDEN,
            &format!("No permission to access REST API: {reason}"),
        ),
        Refusal::AccessDenied => status_message(StatusCode::FORBIDDEN, "Access denied"),
        Refusal::NotAllowlisted { method, path } => json_response(
            StatusCode::FORBIDDEN,
            CONTENT_TYPE,
            &serde_json::json!({
                "error": format!("{method} {path} API not allowlisted"),
                "status": "FORBIDDEN",
            }),
        ),
        Refusal::UnknownParameter { path, param } => core_error(
            StatusCode::BAD_REQUEST,
            "illegal_argument_exception",
            &format!("request [{path}] contains unrecognized parameter: [{param}]"),
        ),
        Refusal::Forbidden { user, permission } => json_response(
            StatusCode::FORBIDDEN,
            CONTENT_TYPE,
            &serde_json::json!({
                "error": {
                    "root_cause": [{
                        "type": "security_exception",
                        "reason": format!("no permissions for [{permission}] and User [name={user}]"),
                    }],
                    "type": "security_exception",
                    "reason": format!("no permissions for [{permission}] and User [name={user}]"),
                },
                "status": 403,
            }),
        ),
        Refusal::TooLarge { limit } => status_message(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("request body is larger than the limit of {limit} bytes"),
        ),
        Refusal::StoreUnavailable { reason } => status_message(
            StatusCode::SERVICE_UNAVAILABLE,
            &super::store_unavailable_message(&reason),
        ),
        Refusal::BodyTimeout { timeout } => status_message(
            StatusCode::REQUEST_TIMEOUT,
            &super::body_timeout_message(timeout),
        ),
        Refusal::BadBody(reason) => status_message(
            StatusCode::BAD_REQUEST,
            &format!("request body could not be read: {reason}"),
        ),
        Refusal::BadHeaders => core_error(StatusCode::FORBIDDEN, "exception", super::BAD_HEADERS),
    }
}
