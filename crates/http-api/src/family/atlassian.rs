//! The Atlassian Data Center body: `{"message": "...", "status": "..."}`.

use http::StatusCode;
use serde::Serialize;

use super::{Refusal, json_response};
use crate::ctx::Body;

const CONTENT_TYPE: &str = "application/json";

/// `{"message": ..., "status": ...}` with the status as an upper-case word.
pub(crate) fn message(
    status: StatusCode,
    status_word: &str,
    message: &str,
) -> http::Response<Body> {
    #[derive(Serialize)]
    struct M<'a> {
        message: &'a str,
        status: &'a str,
    }
    json_response(
        status,
        CONTENT_TYPE,
        &M {
            message,
            status: status_word,
        },
    )
}

/// A JSON answer (the reads: inactive keys, secrets).
pub(crate) fn json(status: StatusCode, body: &serde_json::Value) -> http::Response<Body> {
    json_response(status, CONTENT_TYPE, body)
}

pub(crate) fn refuse(refusal: Refusal) -> http::Response<Body> {
    match refusal {
        Refusal::NotFound { path, .. } => message(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!("no resource at {path}"),
        ),
        Refusal::MethodNotAllowed {
            method, allowed, ..
        } => {
            let allowed: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
            message(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                &format!(
                    "method {method} is not allowed here; allowed: {}",
                    allowed.join(", ")
                ),
            )
        }
        Refusal::GateDenied(reason) => message(StatusCode::FORBIDDEN, "FORBIDDEN", &reason),
        Refusal::AccessDenied => message(StatusCode::FORBIDDEN, "FORBIDDEN", "Access denied"),
        Refusal::NotAllowlisted { method, path } => message(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            &format!("{method} {path} API not allowlisted"),
        ),
        Refusal::UnknownParameter { param, .. } => message(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            &format!("unknown parameter {param}"),
        ),
        Refusal::Unauthenticated | Refusal::Blocked => message(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "authentication required: send HTTP Basic credentials or a token",
        ),
        Refusal::Forbidden { permission, .. } => message(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            &format!("this needs the permission {permission}"),
        ),
        Refusal::TooLarge { limit } => message(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            &format!("request body is larger than the limit of {limit} bytes"),
        ),
        Refusal::StoreUnavailable { reason } => message(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            &super::store_unavailable_message(&reason),
        ),
        Refusal::BodyTimeout { timeout } => message(
            StatusCode::REQUEST_TIMEOUT,
            "REQUEST_TIMEOUT",
            &super::body_timeout_message(timeout),
        ),
        Refusal::BadBody(reason) => message(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            &format!("request body could not be read: {reason}"),
        ),
        Refusal::BadHeaders => message(StatusCode::FORBIDDEN, "FORBIDDEN", super::BAD_HEADERS),
    }
}
