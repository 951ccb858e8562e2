//! Time as the library sees it: a value passed in, never read from the system.

use serde::{Deserialize, Serialize};

/// A point in time: seconds and nanoseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

impl Timestamp {
    /// A timestamp from seconds and nanoseconds since the epoch; `nanos` is
    /// clamped below one second.
    pub fn new(secs: i64, nanos: u32) -> Self {
        Timestamp {
            secs,
            nanos: nanos.min(999_999_999),
        }
    }

    /// A timestamp from whole seconds since the epoch.
    pub fn from_unix_secs(secs: i64) -> Self {
        Timestamp { secs, nanos: 0 }
    }

    /// Whole seconds since the epoch.
    pub fn unix_secs(self) -> i64 {
        self.secs
    }

    /// The sub-second part in nanoseconds.
    pub fn subsec_nanos(self) -> u32 {
        self.nanos
    }

    /// Nanoseconds since the epoch (saturating).
    pub fn unix_nanos(self) -> i128 {
        i128::from(self.secs) * 1_000_000_000 + i128::from(self.nanos)
    }

    /// This time plus a number of seconds (saturating).
    pub fn plus_secs(self, secs: i64) -> Self {
        Timestamp {
            secs: self.secs.saturating_add(secs),
            nanos: self.nanos,
        }
    }
}

/// A source of the current time. The server passes the system clock; tests
/// pass a clock they control.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}
