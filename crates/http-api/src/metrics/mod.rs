//! What the server does, counted in memory: requests per API family and
//! status (with latency histograms), transit operations per key type,
//! authentication outcomes, rotations, rate-limit refusals. Gauges (cache sizes, tokens, the
//! audit queue, TLS reloads, the store's write latency) are read from
//! their owners when scraped. `/v1/sys/metrics` renders them in Vault's
//! JSON form or, with `?format=prometheus`, in Prometheus text
//! (`docs/metrics.md`).
//!
//! Counting is on the request path, so it takes no lock: every series is a
//! fixed slot of atomics, found by index (family × status, operation × key
//! type, method × outcome). A request histogram's slot is allocated the
//! first time its (family, status) pair is seen, through a `OnceLock`.

mod histogram;
mod render;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use transit_crypto::KeyType;

use crate::route::Family;
pub(crate) use histogram::{AtomicHistogram, Histogram};
pub(crate) use render::{Sample, prometheus, vault_json};

const FAMILIES: [Family; 4] = [
    Family::Vault,
    Family::OpenSearch,
    Family::Arango,
    Family::Atlassian,
];
/// HTTP statuses are 100 to 999.
const STATUSES: usize = 900;

const AUTH_METHODS: [&str; 5] = ["token", "basic", "certificate", "none", "malformed"];
const AUTH_OUTCOMES: [&str; 3] = ["success", "failure", "blocked"];

/// What was rotated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RotationKind {
    /// A transit key, through `POST .../keys/:name/rotate`.
    TransitKey,
    /// A transit key whose `auto_rotate_period` passed.
    TransitKeyAuto,
    /// The encryption-at-rest user keys (`POST /_admin/server/encryption`).
    EncryptionAtRest,
    /// The secret store's AES key (`POST /rest/secrets/1.0/keys/rotate`).
    SecretsAesKey,
}

impl RotationKind {
    const ALL: [RotationKind; 4] = [
        RotationKind::TransitKey,
        RotationKind::TransitKeyAuto,
        RotationKind::EncryptionAtRest,
        RotationKind::SecretsAesKey,
    ];

    fn label(self) -> &'static str {
        match self {
            RotationKind::TransitKey => "transit_key",
            RotationKind::TransitKeyAuto => "transit_key_auto",
            RotationKind::EncryptionAtRest => "encryption_at_rest",
            RotationKind::SecretsAesKey => "secrets_aes_key",
        }
    }
}

fn family_index(family: Family) -> usize {
    FAMILIES.iter().position(|f| *f == family).unwrap_or(0)
}

fn key_type_index(key_type: KeyType) -> usize {
    KeyType::ALL
        .iter()
        .position(|t| *t == key_type)
        .unwrap_or(0)
}

/// Every counter and histogram the server keeps. Lives as long as the API
/// (a snapshot restore does not reset it).
pub(crate) struct Metrics {
    started: Instant,
    /// Family × status.
    requests: Vec<OnceLock<Box<AtomicHistogram>>>,
    /// The transit operations (the first path segment after the mount)
    /// counted per key type; fixed when the API is built.
    operations: Vec<String>,
    /// Operation × key type.
    transit: Vec<AtomicU64>,
    /// Method × outcome.
    auth: Vec<AtomicU64>,
    rotations: [AtomicU64; RotationKind::ALL.len()],
    /// Requests refused by a rate-limit quota.
    rate_limited: AtomicU64,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Counters for these transit operations (duplicates are ignored).
    pub(crate) fn new<S: Into<String>>(operations: impl IntoIterator<Item = S>) -> Self {
        let mut ops: Vec<String> = Vec::new();
        for op in operations {
            let op = op.into();
            if !ops.contains(&op) {
                ops.push(op);
            }
        }
        Metrics {
            started: Instant::now(),
            requests: (0..FAMILIES.len() * STATUSES)
                .map(|_| OnceLock::new())
                .collect(),
            transit: (0..ops.len() * KeyType::ALL.len())
                .map(|_| AtomicU64::new(0))
                .collect(),
            operations: ops,
            auth: (0..AUTH_METHODS.len() * AUTH_OUTCOMES.len())
                .map(|_| AtomicU64::new(0))
                .collect(),
            rotations: Default::default(),
            rate_limited: AtomicU64::new(0),
        }
    }

    /// One answered request.
    pub(crate) fn request(&self, family: Family, status: u16, seconds: f64) {
        let status = usize::from(status).clamp(100, 999) - 100;
        self.requests[family_index(family) * STATUSES + status]
            .get_or_init(Box::default)
            .observe(seconds);
    }

    /// One successful transit operation (`encrypt`, `sign`, ...) on a key
    /// of `key_type`. An operation the table did not name is not counted.
    pub(crate) fn transit(&self, operation: &str, key_type: KeyType) {
        if let Some(op) = self.operations.iter().position(|o| *o == operation) {
            self.transit[op * KeyType::ALL.len() + key_type_index(key_type)].fetch_add(1, Relaxed);
        }
    }

    /// One authentication attempt: `method` token / basic / certificate /
    /// none / malformed, `outcome` success / failure / blocked.
    pub(crate) fn auth(&self, method: &'static str, outcome: &'static str) {
        let m = AUTH_METHODS.iter().position(|x| *x == method);
        let o = AUTH_OUTCOMES.iter().position(|x| *x == outcome);
        if let (Some(m), Some(o)) = (m, o) {
            self.auth[m * AUTH_OUTCOMES.len() + o].fetch_add(1, Relaxed);
        }
    }

    /// `n` rotations of `kind`.
    pub(crate) fn rotations(&self, kind: RotationKind, n: u64) {
        let i = RotationKind::ALL
            .iter()
            .position(|k| *k == kind)
            .unwrap_or(0);
        self.rotations[i].fetch_add(n, Relaxed);
    }

    /// One request refused by a rate-limit quota.
    pub(crate) fn rate_limited(&self) {
        self.rate_limited.fetch_add(1, Relaxed);
    }

    /// Every series, counters and histograms first, then `gauges`. Counters
    /// that never moved are left out, except rotations and authentication
    /// outcomes of the main methods, which are always there so that a rate
    /// can be computed from the first scrape.
    pub(crate) fn samples(&self, gauges: Vec<Sample>) -> Vec<Sample> {
        let mut out = Vec::new();
        for (f, family) in FAMILIES.iter().enumerate() {
            for status in 0..STATUSES {
                if let Some(h) = self.requests[f * STATUSES + status].get() {
                    out.push(Sample::histogram(
                        "http_request_duration_seconds",
                        "Requests answered, by API family and status, and how long they took",
                        vec![
                            ("family", family.label().to_string()),
                            ("status", (status + 100).to_string()),
                        ],
                        h.snapshot(),
                    ));
                }
            }
        }
        for (o, operation) in self.operations.iter().enumerate() {
            for (t, key_type) in KeyType::ALL.iter().enumerate() {
                let n = self.transit[o * KeyType::ALL.len() + t].load(Relaxed);
                if n > 0 {
                    out.push(Sample::counter(
                        "transit_operations_total",
                        "Successful transit operations, by operation and key type",
                        vec![
                            ("operation", operation.to_string()),
                            ("key_type", key_type.as_str().to_string()),
                        ],
                        n,
                    ));
                }
            }
        }
        for (m, method) in AUTH_METHODS.iter().enumerate() {
            for (o, outcome) in AUTH_OUTCOMES.iter().enumerate() {
                let n = self.auth[m * AUTH_OUTCOMES.len() + o].load(Relaxed);
                let always = m < 2 && o < 2;
                if n > 0 || always {
                    out.push(Sample::counter(
                        "auth_attempts_total",
                        "Authentication attempts, by method and outcome",
                        vec![
                            ("method", method.to_string()),
                            ("outcome", outcome.to_string()),
                        ],
                        n,
                    ));
                }
            }
        }
        for (i, kind) in RotationKind::ALL.iter().enumerate() {
            out.push(Sample::counter(
                "rotations_total",
                "Key rotations, by kind",
                vec![("kind", kind.label().to_string())],
                self.rotations[i].load(Relaxed),
            ));
        }
        out.push(Sample::counter(
            "rate_limit_refusals_total",
            "Requests refused with 429 by a Vault rate-limit quota",
            vec![],
            self.rate_limited.load(Relaxed),
        ));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<u64> {
        samples
            .iter()
            .find(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.iter().any(|(k2, v2)| k2 == k && v2 == v))
            })
            .map(|s| match &s.value {
                render::Series::Counter(n) => *n,
                render::Series::Histogram(h) => h.count,
                _ => 0,
            })
    }

    #[test]
    fn counts_land_in_their_slots_from_many_threads() {
        let m = Metrics::new(["encrypt", "sign", "encrypt"]);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        m.request(Family::Vault, 200, 0.001);
                        m.transit("encrypt", KeyType::Aes256Gcm96);
                        m.auth("token", "success");
                    }
                });
            }
        });
        m.request(Family::Arango, 404, 0.3);
        m.request(Family::Vault, 1200, 0.3);
        m.transit("sign", KeyType::Ed25519);
        m.transit("unknown-op", KeyType::Ed25519);
        m.auth("basic", "blocked");
        m.rotations(RotationKind::SecretsAesKey, 2);
        let samples = m.samples(Vec::new());
        let req = "http_request_duration_seconds";
        assert_eq!(
            value(&samples, req, &[("family", "vault"), ("status", "200")]),
            Some(4000)
        );
        assert_eq!(
            value(&samples, req, &[("family", "arango"), ("status", "404")]),
            Some(1)
        );
        assert_eq!(
            value(&samples, req, &[("family", "vault"), ("status", "999")]),
            Some(1)
        );
        let ops = "transit_operations_total";
        assert_eq!(
            value(
                &samples,
                ops,
                &[("operation", "encrypt"), ("key_type", "aes256-gcm96")]
            ),
            Some(4000)
        );
        assert_eq!(
            value(
                &samples,
                ops,
                &[("operation", "sign"), ("key_type", "ed25519")]
            ),
            Some(1)
        );
        assert_eq!(value(&samples, ops, &[("operation", "unknown-op")]), None);
        let auth = "auth_attempts_total";
        assert_eq!(
            value(
                &samples,
                auth,
                &[("method", "token"), ("outcome", "success")]
            ),
            Some(4000)
        );
        assert_eq!(
            value(
                &samples,
                auth,
                &[("method", "basic"), ("outcome", "failure")]
            ),
            Some(0),
            "always listed"
        );
        assert_eq!(
            value(
                &samples,
                auth,
                &[("method", "basic"), ("outcome", "blocked")]
            ),
            Some(1)
        );
        let rot = "rotations_total";
        assert_eq!(
            value(&samples, rot, &[("kind", "secrets_aes_key")]),
            Some(2)
        );
        assert_eq!(
            value(&samples, rot, &[("kind", "encryption_at_rest")]),
            Some(0)
        );
    }
}
