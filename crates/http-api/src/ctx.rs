//! What a handler receives: the parsed request, the caller and the shared state.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, Uri};
use rbac_model::Principal;

use crate::api::ConnInfo;
use crate::state::State;
use crate::vault::mounts::Mount;

/// The body of every response [`crate::Api::handle`] gives: the whole
/// answer in memory.
pub type Body = http_body_util::Full<Bytes>;

/// What a handler returns.
pub(crate) type HandlerFuture = Pin<Box<dyn Future<Output = http::Response<Body>> + Send>>;

/// One request, as a handler sees it. The body is read (within the size
/// limit) but not parsed: each handler parses it into its typed request.
// Some fields are read only by the handlers of the capability issues.
#[allow(dead_code)]
pub(crate) struct Ctx {
    pub(crate) state: Arc<State>,
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) headers: HeaderMap,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) body: Bytes,
    pub(crate) principal: Option<Principal>,
    pub(crate) conn: ConnInfo,
    pub(crate) request_id: String,
    /// The Vault mount a mount-relative route was reached through.
    pub(crate) mount: Option<Arc<Mount>>,
    /// The caller's token when this request spent its last use: revoked
    /// already, but this request may still see it, as in Vault.
    pub(crate) spent_token: Option<Arc<rbac_model::tokens::TokenEntry>>,
    /// The API's state holder, for the one handler that replaces the state
    /// (a snapshot restore).
    pub(crate) life: Arc<crate::api::Lifecycle>,
}

impl Ctx {
    /// The query string, if any.
    pub(crate) fn query(&self) -> Option<&str> {
        self.uri.query()
    }

    /// The `Content-Type` header, if readable.
    pub(crate) fn content_type(&self) -> Option<&str> {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }

    /// A path parameter of the route (`{name}` in the pattern), percent-decoded.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes `%XX` escapes; `None` when an escape is malformed or the result
/// is not UTF-8.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn decodes_escapes() {
        assert_eq!(percent_decode("a%2Fb%20c").as_deref(), Some("a/b c"));
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
        assert_eq!(percent_decode("bad%2"), None);
        assert_eq!(percent_decode("bad%zz"), None);
        assert_eq!(percent_decode("%ff"), None);
    }
}
