//! What the server does, counted in memory: requests per API family and
//! status (with latency histograms), transit operations per key type,
//! authentication outcomes, rotations. Gauges (cache sizes, tokens, the
//! store's write latency) are read from their owners when scraped.
//! `/v1/sys/metrics` renders them in Vault's JSON form or, with
//! `?format=prometheus`, in Prometheus text (`docs/metrics.md`).

mod histogram;
mod render;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

pub(crate) use histogram::Histogram;
pub(crate) use render::{Sample, prometheus, vault_json};

/// Every counter and histogram the server keeps. Lives as long as the API
/// (a snapshot restore does not reset it).
#[derive(Debug)]
pub(crate) struct Metrics {
    started: Instant,
    requests: Mutex<BTreeMap<(&'static str, u16), Histogram>>,
    transit: Mutex<BTreeMap<(String, &'static str), u64>>,
    auth: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    rotations: Mutex<BTreeMap<&'static str, u64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            requests: Mutex::default(),
            transit: Mutex::default(),
            auth: Mutex::default(),
            rotations: Mutex::default(),
        }
    }
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K, by: u64) {
    *map.lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(key)
        .or_default() += by;
}

impl Metrics {
    /// One answered request.
    pub(crate) fn request(&self, family: &'static str, status: u16, seconds: f64) {
        self.requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((family, status))
            .or_default()
            .observe(seconds);
    }

    /// One successful transit operation (`encrypt`, `sign`, ...) on a key of `key_type`.
    pub(crate) fn transit(&self, operation: &str, key_type: &'static str) {
        bump(&self.transit, (operation.to_string(), key_type), 1);
    }

    /// One authentication attempt: `method` basic / token / certificate,
    /// `outcome` success / failure / blocked.
    pub(crate) fn auth(&self, method: &'static str, outcome: &'static str) {
        bump(&self.auth, (method, outcome), 1);
    }

    /// `n` rotations of `kind` (transit_key, transit_key_auto,
    /// encryption_at_rest, ...).
    pub(crate) fn rotations(&self, kind: &'static str, n: u64) {
        if n > 0 {
            bump(&self.rotations, kind, n);
        }
    }

    /// Every series, counters and histograms first, then `gauges`.
    pub(crate) fn samples(&self, gauges: Vec<Sample>) -> Vec<Sample> {
        let mut out = Vec::new();
        for ((family, status), h) in self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            out.push(Sample::histogram(
                "http_request_duration_seconds",
                "Requests answered, by API family and status, and how long they took",
                vec![
                    ("family", family.to_string()),
                    ("status", status.to_string()),
                ],
                h.clone(),
            ));
        }
        for ((operation, key_type), n) in self
            .transit
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            out.push(Sample::counter(
                "transit_operations_total",
                "Successful transit operations, by operation and key type",
                vec![
                    ("operation", operation.clone()),
                    ("key_type", key_type.to_string()),
                ],
                *n,
            ));
        }
        for ((method, outcome), n) in self.auth.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            out.push(Sample::counter(
                "auth_attempts_total",
                "Authentication attempts, by method and outcome",
                vec![
                    ("method", method.to_string()),
                    ("outcome", outcome.to_string()),
                ],
                *n,
            ));
        }
        for (kind, n) in self
            .rotations
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            out.push(Sample::counter(
                "rotations_total",
                "Key rotations, by kind",
                vec![("kind", kind.to_string())],
                *n,
            ));
        }
        out.push(Sample::gauge(
            "uptime_seconds",
            "Seconds since the server started",
            vec![],
            self.started.elapsed().as_secs_f64(),
        ));
        out.extend(gauges);
        out
    }
}
