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
        409 => "CONFLICT",
        413 => "REQUEST_ENTITY_TOO_LARGE",
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

fn text(status: StatusCode, body: &'static str) -> http::Response<Body> {
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "text/plain; charset=UTF-8")
        .body(Body::from(body))
        .unwrap_or_else(|_| http::Response::new(Body::default()))
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
        Refusal::BadBody(reason) => status_message(
            StatusCode::BAD_REQUEST,
            &format!("request body could not be read: {reason}"),
        ),
    }
}
