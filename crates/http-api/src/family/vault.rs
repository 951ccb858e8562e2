//! Vault's envelope and error body.
//!
//! Success: `{"request_id","lease_id","renewable","lease_duration","data",
//! "wrap_info","warnings","auth"}`. Errors: `{"errors": [...]}`. A missing,
//! unknown or revoked token is `403 {"errors":["permission denied"]}`, as
//! Vault and OpenBao answer it, so Vault clients see what they expect.

use http::StatusCode;
use serde::Serialize;
use serde_json::Value;

use super::{Refusal, json_response};
use crate::ctx::Body;

const CONTENT_TYPE: &str = "application/json";

/// An error answered in Vault's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VaultError {
    pub(crate) status: StatusCode,
    pub(crate) errors: Vec<String>,
}

impl VaultError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        VaultError {
            status,
            errors: vec![message.into()],
        }
    }

    /// 400 with a message.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 403 permission denied, as Vault answers a bad token.
    pub(crate) fn permission_denied() -> Self {
        Self::new(StatusCode::FORBIDDEN, "permission denied")
    }

    /// Vault's wrapping of framework errors: `1 error occurred:\n\t* <msg>\n\n`.
    pub(crate) fn wrapped(status: StatusCode, message: &str) -> Self {
        Self::new(status, format!("1 error occurred:\n\t* {message}\n\n"))
    }

    /// 404 with no message, as Vault answers a read of nothing.
    pub(crate) fn not_found_empty() -> Self {
        VaultError {
            status: StatusCode::NOT_FOUND,
            errors: Vec::new(),
        }
    }

    /// 404 for a path no route of a mount matches.
    pub(crate) fn unsupported_path() -> Self {
        Self::wrapped(StatusCode::NOT_FOUND, "unsupported path")
    }

    /// A transit engine error: the caller's mistakes are 400 with Vault's
    /// text (also those Vault answers with 500), a missing key on a read is
    /// 404 with no message, and failures of the server are 500.
    pub(crate) fn from_transit(e: &transit_crypto::Error) -> Self {
        use transit_crypto::ErrorKind;
        match e.kind() {
            ErrorKind::Invalid | ErrorKind::InvalidVault500 => Self::bad_request(e.to_string()),
            ErrorKind::NotFound => Self::not_found_empty(),
            ErrorKind::Internal => {
                tracing::error!(target: "keyward::transit", error = %e, "transit engine failure");
                Self::wrapped(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
            }
        }
    }

    pub(crate) fn into_response(self) -> http::Response<Body> {
        #[derive(Serialize)]
        struct Errors {
            errors: Vec<String>,
        }
        with_vault_headers(json_response(
            self.status,
            CONTENT_TYPE,
            &Errors {
                errors: self.errors,
            },
        ))
    }
}

/// A successful answer in Vault's envelope. `data` is any serializable
/// value, so hot paths render typed results without building JSON trees.
#[derive(Debug, Serialize)]
pub(crate) struct Envelope<D: Serialize = Value> {
    request_id: String,
    lease_id: &'static str,
    renewable: bool,
    lease_duration: u64,
    data: Option<D>,
    wrap_info: Option<Value>,
    warnings: Option<Vec<String>>,
    auth: Option<Value>,
}

impl<D: Serialize> Envelope<D> {
    pub(crate) fn data(request_id: &str, data: D) -> Self {
        Envelope {
            request_id: request_id.to_string(),
            lease_id: "",
            renewable: false,
            lease_duration: 0,
            data: Some(data),
            wrap_info: None,
            warnings: None,
            auth: None,
        }
    }

    /// An answer with `data: null` and an `auth` block (logins, token create).
    pub(crate) fn auth(request_id: &str, auth: Value) -> Self {
        Envelope {
            request_id: request_id.to_string(),
            lease_id: "",
            renewable: false,
            lease_duration: 0,
            data: None,
            wrap_info: None,
            warnings: None,
            auth: Some(auth),
        }
    }

    /// Adds one warning.
    pub(crate) fn warn(mut self, warning: impl Into<String>) -> Self {
        self.warnings
            .get_or_insert_with(Vec::new)
            .push(warning.into());
        self
    }

    /// Adds warnings (none: `warnings` stays `null`).
    pub(crate) fn warn_all(mut self, warnings: &[String]) -> Self {
        for w in warnings {
            self = self.warn(w.clone());
        }
        self
    }

    pub(crate) fn into_response(self) -> http::Response<Body> {
        with_vault_headers(json_response(StatusCode::OK, CONTENT_TYPE, &self))
    }
}

/// Appends `s` as a JSON string (escaped).
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str("\"\""),
    }
}

/// Appends `s` as a JSON string without escaping: only for texts made of
/// base64 and `vault:v<N>:` characters, which need none (the hot path of
/// ciphertexts skips serde's escape scan).
pub(crate) fn push_plain_str(out: &mut String, s: &str) {
    debug_assert!(
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=:".contains(&b)),
        "not a base64 text"
    );
    out.push('"');
    out.push_str(s);
    out.push('"');
}

/// Vault's envelope written by hand around data the caller renders as JSON
/// straight into it (batch results, ciphertexts: written once, not built as
/// a tree, serialized and copied).
pub(crate) struct EnvelopeWriter {
    out: String,
}

impl EnvelopeWriter {
    /// Starts the envelope; `size_hint` is the expected data length.
    pub(crate) fn new(request_id: &str, size_hint: usize) -> Self {
        let mut out = String::with_capacity(size_hint + 256);
        out.push_str("{\"request_id\":");
        push_json_str(&mut out, request_id);
        out.push_str(",\"lease_id\":\"\",\"renewable\":false,\"lease_duration\":0,\"data\":");
        EnvelopeWriter { out }
    }

    /// Where the data's JSON goes.
    pub(crate) fn data(&mut self) -> &mut String {
        &mut self.out
    }

    /// Ends the envelope. `status` is not always 200: batch results keep the
    /// success envelope with an error status (Vault's `RespondWithStatusCode`).
    pub(crate) fn finish(
        mut self,
        warnings: &[String],
        status: StatusCode,
    ) -> http::Response<Body> {
        self.out.push_str(",\"wrap_info\":null,\"warnings\":");
        if warnings.is_empty() {
            self.out.push_str("null");
        } else {
            self.out
                .push_str(&serde_json::to_string(warnings).unwrap_or_else(|_| "null".into()));
        }
        self.out.push_str(",\"auth\":null}");
        let resp = http::Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, CONTENT_TYPE)
            .body(Body::from(self.out))
            .unwrap_or_else(|_| http::Response::new(Body::default()));
        with_vault_headers(resp)
    }
}

/// [`EnvelopeWriter`] for data written by `write_data`.
pub(crate) fn raw_envelope_with(
    request_id: &str,
    warnings: &[String],
    status: StatusCode,
    size_hint: usize,
    write_data: impl FnOnce(&mut String),
) -> http::Response<Body> {
    let mut w = EnvelopeWriter::new(request_id, size_hint);
    write_data(w.data());
    w.finish(warnings, status)
}

/// [`raw_envelope_with`] around data already rendered.
pub(crate) fn raw_envelope(
    request_id: &str,
    data_json: &str,
    warnings: &[String],
    status: StatusCode,
) -> http::Response<Body> {
    raw_envelope_with(request_id, warnings, status, data_json.len(), |out| {
        out.push_str(data_json)
    })
}

/// A raw JSON answer with Vault's headers (health has no envelope).
pub(crate) fn raw(status: StatusCode, body: &impl Serialize) -> http::Response<Body> {
    with_vault_headers(json_response(status, CONTENT_TYPE, body))
}

/// 204 with Vault's headers and no body.
pub(crate) fn no_content() -> http::Response<Body> {
    let mut resp = http::Response::new(Body::default());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(CONTENT_TYPE),
    );
    with_vault_headers(resp)
}

fn with_vault_headers(mut resp: http::Response<Body>) -> http::Response<Body> {
    resp.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    resp
}

pub(crate) fn refuse(refusal: Refusal) -> http::Response<Body> {
    let err = match refusal {
        Refusal::NotFound { path, method } => {
            if path.starts_with("/v1/sys/") || path.starts_with("/v1/auth/") {
                VaultError::wrapped(StatusCode::NOT_FOUND, "unsupported path")
            } else {
                let mut route = path.trim_start_matches("/v1/").to_string();
                // A list is routed with a trailing slash, as Vault shows it.
                if method.as_str() == "LIST" && !route.ends_with('/') {
                    route.push('/');
                }
                VaultError::new(
                    StatusCode::NOT_FOUND,
                    format!("no handler for route \"{route}\". route entry not found."),
                )
            }
        }
        // `sys/health` is served by Vault's HTTP layer, not its logical
        // router: a wrong method there is a bare 405.
        Refusal::MethodNotAllowed { path, .. } if path == "/v1/sys/health" => VaultError {
            status: StatusCode::METHOD_NOT_ALLOWED,
            errors: Vec::new(),
        },
        Refusal::MethodNotAllowed { .. } => {
            VaultError::wrapped(StatusCode::METHOD_NOT_ALLOWED, "unsupported operation")
        }
        Refusal::Unauthenticated | Refusal::Blocked => VaultError::permission_denied(),
        Refusal::GateDenied(_) | Refusal::AccessDenied | Refusal::NotAllowlisted { .. } => {
            VaultError::wrapped(StatusCode::FORBIDDEN, "permission denied")
        }
        Refusal::UnknownParameter { param, .. } => {
            VaultError::bad_request(format!("unknown parameter {param}"))
        }
        Refusal::Forbidden { .. } | Refusal::BadHeaders => {
            VaultError::wrapped(StatusCode::FORBIDDEN, "permission denied")
        }
        Refusal::TooLarge { .. } => VaultError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "http: request body too large",
        ),
        Refusal::StoreUnavailable { reason } => VaultError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            super::store_unavailable_message(&reason),
        ),
        Refusal::BodyTimeout { timeout } => VaultError::new(
            StatusCode::REQUEST_TIMEOUT,
            super::body_timeout_message(timeout),
        ),
        Refusal::BadBody(reason) => {
            VaultError::bad_request(format!("error reading request body: {reason}"))
        }
    };
    err.into_response()
}
