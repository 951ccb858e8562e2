//! `GET /v1/sys/metrics`: the server's metrics in Vault's JSON form, or in
//! Prometheus text with `?format=prometheus`. Needs `read` on `sys/metrics`
//! unless the server runs with `--unauthenticated-metrics-access`.

use http::StatusCode;

use crate::ctx::{Body, Ctx};
use crate::family::vault::{self, VaultError};
use crate::metrics::{Sample, prometheus, vault_json};

/// The gauges read from their owners at scrape time.
fn gauges(ctx: &Ctx) -> Vec<Sample> {
    let state = &ctx.state;
    let (hits, misses) = state.auth.cache_counts();
    let stats = state.barrier.write_stats();
    let mounts = state.mounts.all();
    let transit_keys: usize = mounts.iter().map(|m| m.transit.cached_keys()).sum();
    let (transit_hits, transit_misses) = mounts
        .iter()
        .map(|m| m.transit.cache_counts())
        .fold((0, 0), |(h, m), (h2, m2)| (h + h2, m + m2));
    let mut out = vec![
        Sample::gauge(
            "auth_cache_entries",
            "Basic logins in the auth cache",
            vec![],
            state.auth.cached() as f64,
        ),
        Sample::counter(
            "auth_cache_hits_total",
            "Basic logins served from the cache (since the store was last loaded)",
            vec![],
            hits,
        ),
        Sample::counter(
            "auth_cache_misses_total",
            "Basic logins checked with bcrypt (since the store was last loaded)",
            vec![],
            misses,
        ),
        Sample::gauge(
            "vault_tokens",
            "Live Vault tokens in the in-memory index",
            vec![],
            state.auth.tokens.len() as f64,
        ),
        Sample::gauge(
            "vault_acl_cache_entries",
            "Compiled ACLs cached by policy set",
            vec![],
            state.policies.compiled_len() as f64,
        ),
        Sample::gauge(
            "transit_keys_cached",
            "Transit keys held in memory, over every mount",
            vec![],
            transit_keys as f64,
        ),
        Sample::counter(
            "transit_cache_hits_total",
            "Transit key lookups answered from memory (since the store was last loaded)",
            vec![],
            transit_hits,
        ),
        Sample::counter(
            "transit_cache_misses_total",
            "Transit key lookups that read storage: only with a bounded cache-config size (since the store was last loaded)",
            vec![],
            transit_misses,
        ),
        Sample::gauge(
            "transit_mounts",
            "Transit mounts",
            vec![],
            mounts.len() as f64,
        ),
        Sample::summary(
            "storage_write_duration_seconds",
            "Durable writes to the store and how long they took",
            vec![],
            stats.writes + stats.failures,
            stats.seconds_total,
        ),
        Sample::gauge(
            "storage_write_duration_seconds_max",
            "The longest write to the store",
            vec![],
            stats.seconds_max,
        ),
        Sample::counter(
            "storage_write_failures_total",
            "Writes the store refused (a full disk, an I/O error)",
            vec![],
            stats.failures,
        ),
    ];
    out.extend(audit(ctx));
    out.extend(tls(ctx));
    out
}

/// The audit queue, read from the sink's atomics.
fn audit(ctx: &Ctx) -> Vec<Sample> {
    let (counts, capacity, enabled) = match ctx.state.audit.trail.counts() {
        Some((c, cap)) => (c, cap as f64, 1.0),
        None => (Default::default(), 0.0, 0.0),
    };
    vec![
        Sample::gauge(
            "audit_log_enabled",
            "1 when audit events are written to a file (--audit-log)",
            vec![],
            enabled,
        ),
        Sample::counter(
            "audit_events_written_total",
            "Audit events written to the audit log",
            vec![],
            counts.written,
        ),
        Sample::counter(
            "audit_events_dropped_total",
            "Audit events dropped because the audit queue was full",
            vec![],
            counts.dropped,
        ),
        Sample::counter(
            "audit_events_failed_total",
            "Audit events the audit log file refused (write errors)",
            vec![],
            counts.failed,
        ),
        Sample::gauge(
            "audit_queue_length",
            "Audit events waiting for the writer",
            vec![],
            counts.queued as f64,
        ),
        Sample::gauge(
            "audit_queue_capacity",
            "How many audit events the queue holds before it drops",
            vec![],
            capacity,
        ),
    ]
}

/// TLS reloads of each listener (SIGHUP, ArangoDB's POST, the plugin's
/// reloadcerts), read from the listeners' atomics.
fn tls(ctx: &Ctx) -> Vec<Sample> {
    let mut out = Vec::new();
    for (listener, tls) in [
        ("http", &ctx.state.tls),
        ("transport", &ctx.state.transport_tls),
    ] {
        let Some(tls) = tls else { continue };
        let (reloaded, failed) = tls.reload_counts();
        for (outcome, n) in [("success", reloaded), ("failure", failed)] {
            out.push(Sample::counter(
                "tls_reloads_total",
                "TLS certificate reloads, by listener and outcome (a failed reload keeps the old certificates serving)",
                vec![("listener", listener.to_string()), ("outcome", outcome.to_string())],
                n,
            ));
        }
    }
    out
}

/// Vault's `Timestamp`: `2006-01-02 15:04:05 +0000 UTC`, to the second.
fn go_time(unix: i64) -> String {
    crate::vault::policies::rfc3339(keyring_core::Timestamp::from_unix_secs(unix))
        .replacen('T', " ", 1)
        .trim_end_matches('Z')
        .to_string()
        + " +0000 UTC"
}

/// `GET /v1/sys/metrics[?format=prometheus]`.
pub(crate) async fn read(ctx: Ctx) -> http::Response<Body> {
    let format = crate::handlers::security::query(&ctx, "format").unwrap_or("");
    let samples = ctx.life.metrics.samples(gauges(&ctx));
    match format {
        "" | "json" => vault::raw(
            StatusCode::OK,
            &vault_json(&samples, &go_time(ctx.state.clock.now().unix_secs())),
        ),
        "prometheus" => http::Response::builder()
            .status(StatusCode::OK)
            .header(
                http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )
            .body(Body::from(prometheus(&samples)))
            .unwrap_or_else(|_| {
                VaultError::bad_request("cannot render the metrics").into_response()
            }),
        other => VaultError::bad_request(format!("metric response format \"{other}\" unknown"))
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn vault_timestamp_shape() {
        assert_eq!(
            super::go_time(1_795_761_370),
            "2026-11-27 06:36:10 +0000 UTC"
        );
    }
}
