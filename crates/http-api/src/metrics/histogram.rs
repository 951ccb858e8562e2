//! A latency histogram with Prometheus' default buckets: atomics for the
//! request path, a plain copy for rendering.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Upper bounds of the buckets, in seconds (Prometheus' defaults).
pub(crate) const BOUNDS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Observations of one series: bucket counts (not cumulative), sum, min, max.
#[derive(Debug, Clone, Default)]
pub(crate) struct Histogram {
    buckets: [u64; BOUNDS.len()],
    pub(crate) count: u64,
    pub(crate) sum: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

/// The same, updated without a lock: times are kept in nanoseconds.
#[derive(Debug)]
pub(crate) struct AtomicHistogram {
    buckets: [AtomicU64; BOUNDS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
    min_nanos: AtomicU64,
    max_nanos: AtomicU64,
}

impl Default for AtomicHistogram {
    fn default() -> Self {
        AtomicHistogram {
            buckets: Default::default(),
            count: AtomicU64::new(0),
            sum_nanos: AtomicU64::new(0),
            min_nanos: AtomicU64::new(u64::MAX),
            max_nanos: AtomicU64::new(0),
        }
    }
}

impl AtomicHistogram {
    /// Adds one observation of `seconds`.
    pub(crate) fn observe(&self, seconds: f64) {
        if let Some(i) = BOUNDS.iter().position(|b| seconds <= *b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        let nanos = (seconds * 1e9) as u64;
        self.sum_nanos.fetch_add(nanos, Relaxed);
        self.min_nanos.fetch_min(nanos, Relaxed);
        self.max_nanos.fetch_max(nanos, Relaxed);
        self.count.fetch_add(1, Relaxed);
    }

    /// A copy (each field read once; a scrape racing a request may see
    /// the request in some fields and not yet in others).
    pub(crate) fn snapshot(&self) -> Histogram {
        let count = self.count.load(Relaxed);
        let min = self.min_nanos.load(Relaxed);
        Histogram {
            buckets: std::array::from_fn(|i| self.buckets[i].load(Relaxed)),
            count,
            sum: self.sum_nanos.load(Relaxed) as f64 / 1e9,
            min: if min == u64::MAX {
                0.0
            } else {
                min as f64 / 1e9
            },
            max: self.max_nanos.load(Relaxed) as f64 / 1e9,
        }
    }
}

impl Histogram {
    /// Adds one observation of `seconds`.
    #[cfg(test)]
    pub(crate) fn observe(&mut self, seconds: f64) {
        if let Some(i) = BOUNDS.iter().position(|b| seconds <= *b) {
            self.buckets[i] += 1;
        }
        if self.count == 0 || seconds < self.min {
            self.min = seconds;
        }
        if seconds > self.max {
            self.max = seconds;
        }
        self.count += 1;
        self.sum += seconds;
    }

    /// `(le, cumulative count)` for every bound, as Prometheus wants them
    /// (`+Inf` is `count`).
    pub(crate) fn cumulative(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        let mut running = 0;
        BOUNDS.iter().zip(self.buckets).map(move |(b, n)| {
            running += n;
            (*b, running)
        })
    }

    /// The mean, or 0 without observations.
    pub(crate) fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_stats_add_up() {
        let mut h = Histogram::default();
        let a = AtomicHistogram::default();
        assert_eq!(a.snapshot().min, 0.0, "no observation: min 0");
        for s in [0.001, 0.004, 0.02, 0.3, 20.0] {
            h.observe(s);
            a.observe(s);
        }
        for h in [h, a.snapshot()] {
            let cumulative: Vec<u64> = h.cumulative().map(|(_, n)| n).collect();
            assert_eq!(cumulative[0], 2, "two at or under 5 ms");
            assert_eq!(cumulative[2], 3, "three at or under 25 ms");
            assert_eq!(*cumulative.last().unwrap(), 4, "20 s only in +Inf");
            assert_eq!(h.count, 5);
            assert!((h.sum - 20.325).abs() < 1e-6);
            assert!((h.min - 0.001).abs() < 1e-9 && (h.max - 20.0).abs() < 1e-9);
            assert!((h.mean() - 4.065).abs() < 1e-6);
        }
    }
}
