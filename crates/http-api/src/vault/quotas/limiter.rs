//! The buckets that enforce rate-limit quotas: one per (rule, client IP),
//! in fixed windows, as Vault's `go-limiter` memory store counts them.
//!
//! A window starts with a client's first request under the rule (or the
//! first after its last window ended) and admits `tokens` requests. A refused client of a
//! rule with a block interval stays refused for that long, whatever the
//! windows do. Buckets idle for longer than their window (and not blocked)
//! are swept, so memory follows the clients of the last interval, not every
//! address ever seen.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often, at most, stale buckets are swept.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// What a rule allows, as the limiter needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Allowance {
    /// Requests admitted per window.
    pub(crate) tokens: u64,
    /// The window.
    pub(crate) interval: Duration,
    /// How long a client that went over stays refused (zero: until the
    /// window ends).
    pub(crate) block: Duration,
}

/// The limiter's answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Take {
    /// Admitted; `remaining` more are in this window, which ends in `reset`.
    Allowed {
        limit: u64,
        remaining: u64,
        reset: Duration,
    },
    /// Refused: the window's requests are spent. Retry in `retry_after`.
    Exhausted {
        limit: u64,
        reset: Duration,
        retry_after: Duration,
    },
    /// Refused: the client is blocked for `retry_after` more.
    Blocked { retry_after: Duration },
}

impl Take {
    /// True when the request may go on.
    pub(crate) fn allowed(&self) -> bool {
        matches!(self, Take::Allowed { .. })
    }
}

#[derive(Debug)]
struct Bucket {
    window_start: Instant,
    used: u64,
    blocked_until: Option<Instant>,
    /// The rule's allowance when the bucket was made: a rule that changes
    /// starts its clients afresh (see [`Limiter::forget`]).
    allowance: Allowance,
}

#[derive(Debug)]
struct Buckets {
    map: HashMap<(Arc<str>, IpAddr), Bucket>,
    last_sweep: Option<Instant>,
}

/// Every bucket of every rule.
#[derive(Debug)]
pub(crate) struct Limiter {
    buckets: Mutex<Buckets>,
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter {
            buckets: Mutex::new(Buckets {
                map: HashMap::new(),
                last_sweep: None,
            }),
        }
    }
}

fn interval_of(a: Allowance) -> Duration {
    a.interval.max(Duration::from_millis(1))
}

impl Limiter {
    /// Counts one request of `client` under the rule `rule` at `now`.
    pub(crate) fn take(&self, rule: &Arc<str>, a: Allowance, client: IpAddr, now: Instant) -> Take {
        let mut guard = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let buckets = &mut *guard;
        if buckets
            .last_sweep
            .is_none_or(|t| now.saturating_duration_since(t) >= SWEEP_EVERY)
        {
            buckets.map.retain(|_, b| !stale(b, now));
            buckets.last_sweep = Some(now);
        }
        let bucket = buckets
            .map
            .entry((rule.clone(), client))
            .or_insert_with(|| Bucket {
                window_start: now,
                used: 0,
                blocked_until: None,
                allowance: a,
            });
        if bucket.allowance != a {
            *bucket = Bucket {
                window_start: now,
                used: 0,
                blocked_until: None,
                allowance: a,
            };
        }
        if let Some(until) = bucket.blocked_until {
            if now < until {
                return Take::Blocked {
                    retry_after: until - now,
                };
            }
            bucket.blocked_until = None;
        }
        let interval = interval_of(a);
        let elapsed = now.saturating_duration_since(bucket.window_start);
        if elapsed >= interval {
            // A new window starts with the first request after the last one
            // ended (so a swept bucket and a kept one count the same).
            bucket.window_start = now;
            bucket.used = 0;
        }
        let reset = (bucket.window_start + interval).saturating_duration_since(now);
        if bucket.used < a.tokens {
            bucket.used += 1;
            return Take::Allowed {
                limit: a.tokens,
                remaining: a.tokens - bucket.used,
                reset,
            };
        }
        if !a.block.is_zero() {
            bucket.blocked_until = Some(now + a.block);
            return Take::Exhausted {
                limit: a.tokens,
                reset,
                retry_after: a.block,
            };
        }
        Take::Exhausted {
            limit: a.tokens,
            reset,
            retry_after: reset,
        }
    }

    /// Drops the buckets of `rule` (it changed or was deleted): its clients
    /// start afresh, as in Vault, where a rewritten rule is a new limiter.
    pub(crate) fn forget(&self, rule: &str) {
        self.buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .map
            .retain(|(name, _), _| &**name != rule);
    }

    /// How many buckets are held (for tests and metrics).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.buckets.lock().map(|b| b.map.len()).unwrap_or_default()
    }
}

fn stale(b: &Bucket, now: Instant) -> bool {
    let blocked = b.blocked_until.is_some_and(|until| now < until);
    !blocked && now.saturating_duration_since(b.window_start) >= interval_of(b.allowance)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> Arc<str> {
        Arc::from("r")
    }

    const A: Allowance = Allowance {
        tokens: 2,
        interval: Duration::from_secs(1),
        block: Duration::ZERO,
    };

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn a_window_admits_its_tokens_then_refuses_until_it_ends() {
        let l = Limiter::default();
        let t0 = Instant::now();
        let r = rule();
        assert_eq!(
            l.take(&r, A, ip(1), t0),
            Take::Allowed {
                limit: 2,
                remaining: 1,
                reset: Duration::from_secs(1)
            }
        );
        assert!(
            l.take(&r, A, ip(1), t0 + Duration::from_millis(100))
                .allowed()
        );
        let refused = l.take(&r, A, ip(1), t0 + Duration::from_millis(400));
        assert_eq!(
            refused,
            Take::Exhausted {
                limit: 2,
                reset: Duration::from_millis(600),
                retry_after: Duration::from_millis(600)
            }
        );
        // Another client has its own bucket.
        assert!(
            l.take(&r, A, ip(2), t0 + Duration::from_millis(400))
                .allowed()
        );
        // The next window starts with the next request.
        match l.take(&r, A, ip(1), t0 + Duration::from_millis(1_300)) {
            Take::Allowed {
                remaining, reset, ..
            } => {
                assert_eq!(remaining, 1);
                assert_eq!(reset, Duration::from_secs(1));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_block_interval_outlasts_the_window() {
        let l = Limiter::default();
        let a = Allowance {
            block: Duration::from_secs(3),
            ..A
        };
        let t0 = Instant::now();
        let r = rule();
        l.take(&r, a, ip(1), t0);
        l.take(&r, a, ip(1), t0);
        assert_eq!(
            l.take(&r, a, ip(1), t0),
            Take::Exhausted {
                limit: 2,
                reset: Duration::from_secs(1),
                retry_after: Duration::from_secs(3)
            }
        );
        assert_eq!(
            l.take(&r, a, ip(1), t0 + Duration::from_secs(2)),
            Take::Blocked {
                retry_after: Duration::from_secs(1)
            }
        );
        assert!(l.take(&r, a, ip(1), t0 + Duration::from_secs(3)).allowed());
    }

    #[test]
    fn zero_tokens_refuse_everything() {
        let l = Limiter::default();
        let a = Allowance { tokens: 0, ..A };
        assert!(!l.take(&rule(), a, ip(1), Instant::now()).allowed());
    }

    #[test]
    fn stale_buckets_are_swept_and_a_changed_rule_starts_afresh() {
        let l = Limiter::default();
        let t0 = Instant::now();
        let r = rule();
        for last in 1..=50 {
            l.take(&r, A, ip(last), t0);
        }
        assert_eq!(l.len(), 50);
        l.take(&r, A, ip(1), t0 + Duration::from_secs(5));
        assert_eq!(l.len(), 1, "the other 49 windows ended long ago");

        l.take(&r, A, ip(1), t0 + Duration::from_secs(5));
        assert!(!l.take(&r, A, ip(1), t0 + Duration::from_secs(5)).allowed());
        let wider = Allowance { tokens: 5, ..A };
        assert!(
            l.take(&r, wider, ip(1), t0 + Duration::from_secs(5))
                .allowed()
        );
        l.forget("r");
        assert_eq!(l.len(), 0);
    }
}
