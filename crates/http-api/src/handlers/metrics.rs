//! `GET /_admin/metrics/v2`: keyward's metrics in the Prometheus text
//! format, at ArangoDB's path. For now: the audit queue, so that a full
//! queue (events dropped rather than a request slowed down) is visible.

use std::fmt::Write as _;

use http::StatusCode;

use crate::ctx::{Body, Ctx};
use crate::family::arango;

fn metric(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    let _ = writeln!(out, "{name} {value}");
}

/// `GET /_admin/metrics/v2`.
pub(crate) async fn read(ctx: Ctx) -> http::Response<Body> {
    if let Err(e) = arango::check_database(ctx.param("db")) {
        return e.into_response();
    }
    let mut out = String::new();
    let (counts, capacity, enabled) = match ctx.state.audit.trail.counts() {
        Some((c, cap)) => (Some(c), cap as u64, 1),
        None => (None, 0, 0),
    };
    metric(
        &mut out,
        "keyward_audit_log_enabled",
        "gauge",
        "1 when audit events are written to a file (--audit-log)",
        enabled,
    );
    let c = counts.unwrap_or_default();
    metric(
        &mut out,
        "keyward_audit_events_written_total",
        "counter",
        "Audit events written to the audit log",
        c.written,
    );
    metric(
        &mut out,
        "keyward_audit_events_dropped_total",
        "counter",
        "Audit events dropped because the audit queue was full (each drop is also reported in the audit log)",
        c.dropped,
    );
    metric(
        &mut out,
        "keyward_audit_events_failed_total",
        "counter",
        "Audit events the audit log file refused (write errors)",
        c.failed,
    );
    metric(
        &mut out,
        "keyward_audit_queue_length",
        "gauge",
        "Audit events waiting for the writer",
        c.queued,
    );
    metric(
        &mut out,
        "keyward_audit_queue_capacity",
        "gauge",
        "How many audit events the queue holds before it drops",
        capacity,
    );
    http::Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")
        .body(Body::from(out))
        .unwrap_or_else(|_| http::Response::new(Body::default()))
}
