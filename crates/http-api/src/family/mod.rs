//! The four API families: each one's success envelope and error body.
//!
//! Failures that happen before a handler runs (no route, wrong method, no or
//! bad credentials, missing permission, oversized or unreadable body) are
//! [`Refusal`]s, rendered here in the shape of the route's family.

pub(crate) mod arango;
pub(crate) mod atlassian;
pub(crate) mod opensearch;
pub(crate) mod vault;

use http::{Method, StatusCode};

use crate::ctx::Body;
use crate::route::Family;

/// Why the pipeline refused a request before its handler ran.
#[derive(Debug, Clone)]
pub(crate) enum Refusal {
    /// No route has this path.
    NotFound { path: String, method: Method },
    /// The path exists, the method does not.
    MethodNotAllowed {
        path: String,
        method: Method,
        allowed: Vec<Method>,
    },
    /// No credentials, or credentials that did not authenticate.
    Unauthenticated,
    /// Authenticated, but without the route's permission.
    Forbidden {
        user: String,
        permission: &'static str,
    },
    /// The body is larger than the limit.
    TooLarge { limit: usize },
    /// The store refuses writes (the reason is the store's, e.g. a full disk).
    StoreUnavailable { reason: String },
    /// The body did not arrive within the read timeout.
    BodyTimeout { timeout: std::time::Duration },
    /// The security REST API's gate refused (the reason follows
    /// `No permission to access REST API: `).
    GateDenied(String),
    /// The route needs REST admin (or the admin certificate).
    AccessDenied,
    /// The allowlist is on and does not list this method and path.
    NotAllowlisted { method: Method, path: String },
    /// The client address is blocked by an auth failure listener.
    Blocked,
    /// A query parameter the route does not read.
    UnknownParameter { path: String, param: String },
    /// The body could not be read from the connection.
    BadBody(String),
    /// The request carried the plugin's internal headers (`_opendistro_security_*`).
    BadHeaders,
}

/// The plugin's text for a request that carries its internal headers.
pub(crate) const BAD_HEADERS: &str = "Illegal parameter in http or transport request found.\nThis means that one node is trying to connect to another with \na non-node certificate (no OID or security.nodes_dn incorrect configured) or that someone \nis spoofing requests. Check your TLS certificate setup as described here: See https://opendistro.github.io/for-elasticsearch-docs/docs/troubleshoot/tls/";

/// Renders a refusal in the family's shape.
pub(crate) fn refuse(family: Family, refusal: Refusal) -> http::Response<Body> {
    // RFC 9110: a 405 lists what the resource allows.
    let allow = match &refusal {
        Refusal::MethodNotAllowed { allowed, .. } => allow_header(allowed),
        _ => None,
    };
    let mut response = match family {
        Family::Vault => vault::refuse(refusal),
        Family::OpenSearch => opensearch::refuse(refusal),
        Family::Arango => arango::refuse(refusal),
        Family::Atlassian => atlassian::refuse(refusal),
    };
    if let Some(allow) = allow
        && response.status() == http::StatusCode::METHOD_NOT_ALLOWED
    {
        response.headers_mut().insert(http::header::ALLOW, allow);
    }
    response
}

/// The `Allow` header of a 405: the methods the path has.
pub(crate) fn allow_header(allowed: &[Method]) -> Option<http::HeaderValue> {
    if allowed.is_empty() {
        return None;
    }
    // Vault's LIST travels as `GET ?list=true` over HTTP: named so.
    let mut names: Vec<&str> = allowed
        .iter()
        .map(|m| {
            if m.as_str() == "LIST" {
                "GET"
            } else {
                m.as_str()
            }
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    http::HeaderValue::from_str(&names.join(", ")).ok()
}

/// The family a path belongs to when no route matched it.
pub(crate) fn family_of_path(path: &str) -> Family {
    if path == "/v1" || path.starts_with("/v1/") {
        Family::Vault
    } else if path.starts_with("/_admin") || path.starts_with("/_db/") || path.starts_with("/_api")
    {
        Family::Arango
    } else if path.starts_with("/rest/") {
        Family::Atlassian
    } else {
        // The OpenSearch plugin paths, and anything else: OpenSearch's core
        // answers unknown paths at the root.
        Family::OpenSearch
    }
}

/// A JSON response with the given status and content type.
pub(crate) fn json_response(
    status: StatusCode,
    content_type: &'static str,
    body: &impl serde::Serialize,
) -> http::Response<Body> {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, content_type)
        .body(Body::from(bytes))
        .unwrap_or_else(|_| http::Response::new(Body::default()))
}

/// The message of [`Refusal::StoreUnavailable`], the same in every family.
pub(crate) fn store_unavailable_message(reason: &str) -> String {
    format!(
        "the store refuses writes: {reason}; free space on the data dir's disk (or fix its I/O error): reads are still served and writes resume by themselves"
    )
}

/// The message of [`Refusal::BodyTimeout`], the same in every family.
pub(crate) fn body_timeout_message(timeout: std::time::Duration) -> String {
    format!(
        "the request body did not arrive within {} ms (http_read_timeout); send it faster or raise --http-read-timeout",
        timeout.as_millis()
    )
}
