//! ArangoDB's envelopes and error body.
//!
//! Success ("ok" style): `{"error":false,"code":200,"result":...}`.
//! Errors: `{"error":true,"code":N,"errorNum":N,"errorMessage":"..."}`.

use http::StatusCode;
use serde::Serialize;
use serde_json::Value;

use super::{Refusal, json_response};
use crate::ctx::Body;

pub(crate) const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// ArangoDB error numbers used by keyward.
pub(crate) mod error_num {
    pub(crate) const FORBIDDEN: u32 = 11;
    pub(crate) const CANNOT_READ_FILE: u32 = 34;
    pub(crate) const DISABLED: u32 = 36;
    pub(crate) const BAD_PARAMETER: u32 = 400;
    pub(crate) const HTTP_FORBIDDEN: u32 = 403;
    pub(crate) const CORRUPTED_JSON: u32 = 600;
    pub(crate) const SUPERFLUOUS_SUFFICES: u32 = 601;
    pub(crate) const NOT_FOUND: u32 = 404;
    pub(crate) const METHOD_NOT_ALLOWED: u32 = 405;
    pub(crate) const REQUEST_TIMEOUT: u32 = 408;
    pub(crate) const SERVICE_UNAVAILABLE: u32 = 503;
    pub(crate) const INTERNAL: u32 = 4;
    pub(crate) const DATABASE_NOT_FOUND: u32 = 1228;
}

/// An error answered in ArangoDB's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ArangoError {
    pub(crate) status: StatusCode,
    pub(crate) error_num: u32,
    pub(crate) message: String,
}

impl ArangoError {
    pub(crate) fn new(status: StatusCode, error_num: u32, message: impl Into<String>) -> Self {
        ArangoError {
            status,
            error_num,
            message: message.into(),
        }
    }

    pub(crate) fn into_response(self) -> http::Response<Body> {
        #[derive(Serialize)]
        struct E<'a> {
            error: bool,
            code: u16,
            #[serde(rename = "errorNum")]
            error_num: u32,
            #[serde(rename = "errorMessage")]
            error_message: &'a str,
        }
        json_response(
            self.status,
            CONTENT_TYPE,
            &E {
                error: true,
                code: self.status.as_u16(),
                error_num: self.error_num,
                error_message: &self.message,
            },
        )
    }
}

/// `200 {"error":false,"code":200,"result":...}`.
pub(crate) fn ok(result: Value) -> http::Response<Body> {
    #[derive(Serialize)]
    struct Ok {
        error: bool,
        code: u16,
        result: Value,
    }
    json_response(
        StatusCode::OK,
        CONTENT_TYPE,
        &Ok {
            error: false,
            code: 200,
            result,
        },
    )
}

/// `200` with the payload itself, no envelope ("raw" style: the log API).
pub(crate) fn raw(result: &impl Serialize) -> http::Response<Body> {
    json_response(StatusCode::OK, CONTENT_TYPE, result)
}

/// Only the `_system` database exists; a request for another one is
/// answered as ArangoDB answers an authorized caller asking for an unknown database.
pub(crate) fn check_database(db: Option<&str>) -> Result<(), ArangoError> {
    match db {
        None | Some("_system") => Ok(()),
        Some(_) => Err(ArangoError::new(
            StatusCode::NOT_FOUND,
            error_num::DATABASE_NOT_FOUND,
            "database not found",
        )),
    }
}

pub(crate) fn refuse(refusal: Refusal) -> http::Response<Body> {
    use error_num::*;
    let err = match refusal {
        Refusal::NotFound { .. } => {
            ArangoError::new(StatusCode::NOT_FOUND, NOT_FOUND, "unknown path")
        }
        // `/_admin/server/tls` answers any method but GET and POST with 403.
        Refusal::MethodNotAllowed { path, .. } if path.ends_with("/_admin/server/tls") => {
            ArangoError::new(StatusCode::FORBIDDEN, FORBIDDEN, "forbidden")
        }
        Refusal::MethodNotAllowed { .. } => ArangoError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            METHOD_NOT_ALLOWED,
            "method not supported",
        ),
        Refusal::GateDenied(reason) => ArangoError::new(StatusCode::FORBIDDEN, FORBIDDEN, reason),
        Refusal::AccessDenied => ArangoError::new(StatusCode::FORBIDDEN, FORBIDDEN, "forbidden"),
        Refusal::NotAllowlisted { method, path } => ArangoError::new(
            StatusCode::FORBIDDEN,
            FORBIDDEN,
            format!("{method} {path} API not allowlisted"),
        ),
        Refusal::UnknownParameter { param, .. } => ArangoError::new(
            StatusCode::BAD_REQUEST,
            BAD_PARAMETER,
            format!("unknown parameter {param}"),
        ),
        Refusal::Unauthenticated | Refusal::Blocked => ArangoError::new(
            StatusCode::UNAUTHORIZED,
            FORBIDDEN,
            "not authorized to execute this request",
        ),
        Refusal::Forbidden { permission, .. } if permission == crate::route::TLS_RELOAD => {
            ArangoError::new(
                StatusCode::FORBIDDEN,
                FORBIDDEN,
                "only superusers may reload TLS data",
            )
        }
        // The log API answers its permission failures with errorNum 403.
        Refusal::Forbidden { permission, .. } if permission == crate::route::LOG_LEVEL => {
            ArangoError::new(
                StatusCode::FORBIDDEN,
                HTTP_FORBIDDEN,
                "you need admin rights for log operations",
            )
        }
        Refusal::Forbidden { .. } => {
            ArangoError::new(StatusCode::FORBIDDEN, FORBIDDEN, "forbidden")
        }
        Refusal::TooLarge { limit } => ArangoError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            BAD_PARAMETER,
            format!("request body is larger than the limit of {limit} bytes"),
        ),
        Refusal::StoreUnavailable { reason } => ArangoError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            SERVICE_UNAVAILABLE,
            super::store_unavailable_message(&reason),
        ),
        Refusal::BodyTimeout { timeout } => ArangoError::new(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
            super::body_timeout_message(timeout),
        ),
        Refusal::BadBody(reason) => ArangoError::new(
            StatusCode::BAD_REQUEST,
            BAD_PARAMETER,
            format!("request body could not be read: {reason}"),
        ),
        Refusal::BadHeaders => {
            ArangoError::new(StatusCode::FORBIDDEN, FORBIDDEN, super::BAD_HEADERS)
        }
    };
    err.into_response()
}
