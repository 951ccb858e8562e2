//! The quota check as the API runs it on every `/v1` request: the answer
//! for a request over its quota (Vault's 429), the headers of one within
//! it, the audit line and the counter of refusals.

use std::borrow::Cow;

use audit_config::AuditCategory;
use http::Response;

use super::Take;
use crate::api::ConnInfo;
use crate::audit::{RequestView, Who};
use crate::ctx::Body;
use crate::family::vault::VaultError;
use crate::metrics::Metrics;
use crate::route::{Family, list_method};
use crate::state::State;

/// What the rate-limit quotas decided for a request.
pub(crate) enum Quota {
    /// No rule counts it, or its headers are off.
    NotCounted,
    /// Admitted; the answer carries the rule's headers.
    Counted(Take),
    /// Over the quota: this is the answer.
    Refused(Response<Body>),
}

/// Counts a `/v1` request from the connection's address under the
/// rate-limit quota that applies to its path, if any.
pub(crate) fn enforce(
    state: &State,
    metrics: &Metrics,
    parts: &http::request::Parts,
    conn: &ConnInfo,
    request_id: &str,
) -> Quota {
    let Some(client) = conn.remote_addr.map(|a| a.ip()) else {
        return Quota::NotCounted;
    };
    let full = parts.uri.path();
    let rel = full.strip_prefix("/v1/").unwrap_or_default();
    // Vault counts a LIST on the path with its trailing slash.
    let rel: Cow<'_, str> = if parts.method == list_method() && !rel.ends_with('/') {
        format!("{rel}/").into()
    } else {
        rel.into()
    };
    let Some(verdict) = state.quotas.check(
        &rel,
        |p| state.mounts.matching_mount(p),
        client,
        std::time::Instant::now(),
    ) else {
        return Quota::NotCounted;
    };
    if verdict.take.allowed() {
        return match verdict.headers {
            true => Quota::Counted(verdict.take),
            false => Quota::NotCounted,
        };
    }
    metrics.rate_limited();
    tracing::debug!(target: "keyward::quotas", path = %rel, client = %client, "rate limit quota exceeded");
    if verdict.audit {
        let view = RequestView {
            method: &parts.method,
            path: full,
            query: parts.uri.query(),
            headers: &parts.headers,
            remote: Some(client),
            request_id,
            secret_bodies: crate::audit::secret_bodies(Family::Vault),
        };
        state
            .audit
            .rest(AuditCategory::FailedLogin, &view, Who::default());
    }
    let mut response = VaultError::new(
        http::StatusCode::TOO_MANY_REQUESTS,
        format!("request path {rel:?}: rate limit quota exceeded"),
    )
    .into_response();
    if verdict.headers {
        headers(&mut response, verdict.take);
    }
    Quota::Refused(response)
}

/// Vault's rate-limit headers (with `enable_rate_limit_response_headers`):
/// the window's limit, what is left and when it resets, in whole seconds;
/// `Retry-After` on a refusal. A blocked client gets only `Retry-After`.
pub(crate) fn headers(response: &mut Response<Body>, take: Take) {
    let secs = |d: std::time::Duration| http::HeaderValue::from(d.as_secs());
    let headers = response.headers_mut();
    let (limit, remaining, reset, retry) = match take {
        Take::Allowed {
            limit,
            remaining,
            reset,
        } => (Some(limit), remaining, reset, None),
        Take::Exhausted {
            limit,
            reset,
            retry_after,
        } => (Some(limit), 0, reset, Some(retry_after)),
        Take::Blocked { retry_after } => (None, 0, std::time::Duration::ZERO, Some(retry_after)),
    };
    if let Some(retry) = retry {
        headers.insert(http::header::RETRY_AFTER, secs(retry));
    }
    if let Some(limit) = limit {
        headers.insert("x-ratelimit-limit", http::HeaderValue::from(limit));
        headers.insert("x-ratelimit-remaining", http::HeaderValue::from(remaining));
        headers.insert("x-ratelimit-reset", secs(reset));
    }
}
