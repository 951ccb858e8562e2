//! Connection limits of the client listener: how many connections it holds,
//! how many TLS handshakes one client address may have in progress, and how
//! long a client may take to send its request headers.
//!
//! These keep one misbehaving client (slowloris, a handshake flood, a
//! connection leak) from taking the server away from the others. The body
//! read timeout lives in `http_api::ApiConfig` because the body is read there.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The limits, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnectionLimits {
    /// Open client connections; a connection beyond it is closed at once.
    pub(crate) max_connections: usize,
    /// TLS handshakes in progress from one client address; a connection
    /// beyond it is closed at once.
    pub(crate) max_handshakes_per_ip: usize,
    /// Time to receive a request's headers (HTTP/1), counted from when the
    /// connection starts waiting for a request, so it also closes idle
    /// keep-alive connections.
    pub(crate) header_read_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_handshakes_per_ip: DEFAULT_MAX_HANDSHAKES_PER_IP,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
        }
    }
}

pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 4096;
/// High enough for a client pool that opens its connections at once (the TLS
/// tests open 50 together), low enough that a flood of thousands is cut.
pub(crate) const DEFAULT_MAX_HANDSHAKES_PER_IP: usize = 256;
/// Vault's `http_read_header_timeout` default.
pub(crate) const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Vault's `http_read_timeout` default (the whole request, body included).
pub(crate) const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Counts what the listener holds; shared by its connection tasks.
#[derive(Debug)]
pub(crate) struct Gate {
    limits: ConnectionLimits,
    open: AtomicUsize,
    handshaking: Mutex<HashMap<IpAddr, usize>>,
    refused: AtomicU64,
    /// Seconds since `started` of the last "refused" warning, so a flood
    /// logs once a second, not once a connection.
    last_warning: AtomicU64,
    started: Instant,
}

/// Why a connection was closed without being served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    TooManyConnections,
    TooManyHandshakes,
}

impl Gate {
    pub(crate) fn new(limits: ConnectionLimits) -> Arc<Gate> {
        Arc::new(Gate {
            limits,
            open: AtomicUsize::new(0),
            handshaking: Mutex::new(HashMap::new()),
            refused: AtomicU64::new(0),
            last_warning: AtomicU64::new(u64::MAX),
            started: Instant::now(),
        })
    }

    pub(crate) fn limits(&self) -> &ConnectionLimits {
        &self.limits
    }

    /// Admits one connection, or says why not. The permit gives the slot
    /// back when the connection ends.
    pub(crate) fn admit(self: &Arc<Self>) -> Result<ConnectionPermit, Refused> {
        let previous = self.open.fetch_add(1, Ordering::AcqRel);
        if previous >= self.limits.max_connections {
            self.open.fetch_sub(1, Ordering::AcqRel);
            return Err(self.refuse(Refused::TooManyConnections));
        }
        Ok(ConnectionPermit { gate: self.clone() })
    }

    /// Admits one TLS handshake from `ip`, or says why not.
    pub(crate) fn begin_handshake(
        self: &Arc<Self>,
        ip: IpAddr,
    ) -> Result<HandshakePermit, Refused> {
        let mut handshaking = self.handshaking.lock().unwrap_or_else(|p| p.into_inner());
        let count = handshaking.entry(ip).or_insert(0);
        if *count >= self.limits.max_handshakes_per_ip {
            drop(handshaking);
            return Err(self.refuse(Refused::TooManyHandshakes));
        }
        *count += 1;
        Ok(HandshakePermit {
            gate: self.clone(),
            ip,
        })
    }

    /// Connections currently open.
    #[cfg(test)]
    pub(crate) fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    fn refuse(&self, why: Refused) -> Refused {
        let total = self.refused.fetch_add(1, Ordering::Relaxed) + 1;
        let now = self.started.elapsed().as_secs();
        let last = self.last_warning.swap(now, Ordering::Relaxed);
        if last != now {
            match why {
                Refused::TooManyConnections => tracing::warn!(
                    target: "keyward::listener",
                    limit = self.limits.max_connections,
                    refused_total = total,
                    "connection closed: the listener holds --max-connections connections"
                ),
                Refused::TooManyHandshakes => tracing::warn!(
                    target: "keyward::listener",
                    limit = self.limits.max_handshakes_per_ip,
                    refused_total = total,
                    "connection closed: its address has --max-handshakes-per-ip TLS handshakes in progress"
                ),
            }
        }
        why
    }
}

/// One open connection; dropping it frees the slot.
#[derive(Debug)]
pub(crate) struct ConnectionPermit {
    gate: Arc<Gate>,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        self.gate.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One TLS handshake in progress; dropping it frees the slot.
#[derive(Debug)]
pub(crate) struct HandshakePermit {
    gate: Arc<Gate>,
    ip: IpAddr,
}

impl Drop for HandshakePermit {
    fn drop(&mut self) {
        let mut handshaking = self
            .gate
            .handshaking
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(count) = handshaking.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                // Keep the map as small as the set of addresses handshaking now.
                handshaking.remove(&self.ip);
            }
        }
    }
}

/// Parses a duration as Vault's listener options write them: a number and a
/// unit (`ms`, `s`, `m`, `h`), or a bare number of seconds. `0` turns the
/// timeout off.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration: write it like 10s, 500ms, 5m or 1h"))?;
    let duration = match unit {
        "" | "s" => Duration::from_secs(value),
        "ms" => Duration::from_millis(value),
        "m" => Duration::from_secs(value.saturating_mul(60)),
        "h" => Duration::from_secs(value.saturating_mul(3600)),
        _ => {
            return Err(format!(
                "{text:?} has an unknown unit {unit:?}: use ms, s, m or h"
            ));
        }
    };
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(max_connections: usize, max_handshakes_per_ip: usize) -> Arc<Gate> {
        Gate::new(ConnectionLimits {
            max_connections,
            max_handshakes_per_ip,
            header_read_timeout: Duration::from_secs(1),
        })
    }

    #[test]
    fn connections_beyond_the_limit_are_refused_and_slots_come_back() {
        let gate = gate(2, 1);
        let a = gate.admit().unwrap();
        let _b = gate.admit().unwrap();
        assert_eq!(gate.admit().unwrap_err(), Refused::TooManyConnections);
        assert_eq!(gate.open(), 2);
        drop(a);
        assert_eq!(gate.open(), 1);
        assert!(gate.admit().is_ok());
    }

    #[test]
    fn handshakes_are_limited_per_address_not_globally() {
        let gate = gate(100, 2);
        let one: IpAddr = "127.0.0.1".parse().unwrap();
        let two: IpAddr = "127.0.0.2".parse().unwrap();
        let h1 = gate.begin_handshake(one).unwrap();
        let _h2 = gate.begin_handshake(one).unwrap();
        assert_eq!(
            gate.begin_handshake(one).unwrap_err(),
            Refused::TooManyHandshakes
        );
        // Another client is not affected by the first one's flood.
        assert!(gate.begin_handshake(two).is_ok());
        drop(h1);
        assert!(gate.begin_handshake(one).is_ok());
    }

    #[test]
    fn finished_handshakes_leave_no_entry_behind() {
        let gate = gate(100, 4);
        for i in 0..=255u8 {
            let _permit = gate.begin_handshake(IpAddr::from([10, 0, 0, i])).unwrap();
        }
        assert!(gate.handshaking.lock().unwrap().is_empty());
    }

    #[test]
    fn durations_parse_like_vaults_listener_options() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("ten").unwrap_err().contains("10s"));
        assert!(parse_duration("5d").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("").is_err());
    }
}
