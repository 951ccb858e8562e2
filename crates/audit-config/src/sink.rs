//! The audit sink: one JSON line per event, written by a thread of its own
//! so that no request ever waits on the disk.
//!
//! Requests push into a bounded queue (`try_send`, O(1)). When the queue is
//! full the event is dropped and counted — the request is never slowed down —
//! and the writer records the count in the log itself as soon as it can, so a
//! loss is never silent. The writer flushes and fsyncs every `sync_interval`
//! when something was written, and once more at shutdown.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use keyring_core::Clock;

use crate::Error;
use crate::event::format_timestamp;

/// Counters of the sink, for metrics.
#[derive(Debug, Default)]
pub struct SinkStats {
    queued: AtomicU64,
    written: AtomicU64,
    dropped: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SinkCounts {
    /// Events waiting in the queue.
    pub queued: u64,
    /// Events written to the file.
    pub written: u64,
    /// Events dropped because the queue was full.
    pub dropped: u64,
}

impl SinkStats {
    /// The counters now.
    pub fn counts(&self) -> SinkCounts {
        SinkCounts {
            queued: self.queued.load(Ordering::Relaxed),
            written: self.written.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}

/// Settings of the sink.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    /// The log file (appended to, created 0600 when missing).
    pub path: PathBuf,
    /// How many events may wait.
    pub capacity: usize,
    /// How often written events are fsynced.
    pub sync_interval: Duration,
}

impl SinkConfig {
    /// 10,000 queued events, fsync every 200 ms.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SinkConfig {
            path: path.into(),
            capacity: 10_000,
            sync_interval: Duration::from_millis(200),
        }
    }
}

/// Writes audit lines to a file off the request path.
pub struct AuditSink {
    tx: Option<SyncSender<Vec<u8>>>,
    writer: Option<JoinHandle<()>>,
    stats: Arc<SinkStats>,
    path: PathBuf,
}

impl std::fmt::Debug for AuditSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSink")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn open(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

impl AuditSink {
    /// Opens (or creates) the log file and starts the writer thread.
    pub fn open(config: SinkConfig, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        let file = open(&config.path)
            .map_err(|e| Error::Sink(format!("{}: {e}", config.path.display())))?;
        let (tx, rx) = sync_channel(config.capacity.max(1));
        let stats = Arc::new(SinkStats::default());
        let writer_stats = stats.clone();
        let interval = config.sync_interval;
        let writer = std::thread::Builder::new()
            .name("keyward-audit".into())
            .spawn(move || write_loop(rx, file, interval, writer_stats, clock))
            .map_err(|e| Error::Sink(format!("cannot start the audit writer: {e}")))?;
        Ok(AuditSink {
            tx: Some(tx),
            writer: Some(writer),
            stats,
            path: config.path,
        })
    }

    /// Queues one line; never blocks. A full queue drops the line and counts it.
    pub fn push(&self, line: Vec<u8>) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(line) {
            Ok(()) => {
                self.stats.queued.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The counters.
    pub fn stats(&self) -> Arc<SinkStats> {
        self.stats.clone()
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes what is queued, fsyncs and stops the writer.
    pub fn shutdown(&mut self) {
        self.tx.take();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

impl Drop for AuditSink {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn write_loop(
    rx: Receiver<Vec<u8>>,
    file: File,
    interval: Duration,
    stats: Arc<SinkStats>,
    clock: Arc<dyn Clock>,
) {
    let mut out = BufWriter::new(file);
    let mut dirty = false;
    let mut reported_drops = 0u64;
    let sync = |out: &mut BufWriter<File>| {
        let _ = out.flush();
        let _ = out.get_ref().sync_data();
    };
    loop {
        match rx.recv_timeout(interval) {
            Ok(line) => {
                stats.queued.fetch_sub(1, Ordering::Relaxed);
                if out.write_all(&line).is_ok() {
                    stats.written.fetch_add(1, Ordering::Relaxed);
                }
                dirty = true;
                // Take everything already waiting before the next fsync.
                while let Ok(line) = rx.try_recv() {
                    stats.queued.fetch_sub(1, Ordering::Relaxed);
                    if out.write_all(&line).is_ok() {
                        stats.written.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        let dropped = stats.dropped.load(Ordering::Relaxed);
        if dropped > reported_drops {
            let line = serde_json::json!({
                "audit_format_version": 4,
                "@timestamp": format_timestamp(clock.now()),
                "audit_category": "AUDIT_QUEUE_OVERFLOW",
                "audit_dropped_events": dropped - reported_drops,
            });
            let _ = writeln!(out, "{line}");
            reported_drops = dropped;
            dirty = true;
        }
        if dirty {
            sync(&mut out);
            dirty = false;
        }
    }
    sync(&mut out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyring_core::Timestamp;

    struct Fixed;
    impl Clock for Fixed {
        fn now(&self) -> Timestamp {
            Timestamp::from_unix_secs(0)
        }
    }

    #[test]
    fn lines_reach_the_file_by_shutdown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let mut sink = AuditSink::open(SinkConfig::new(&path), Arc::new(Fixed)).unwrap();
        for i in 0..100 {
            sink.push(format!("{{\"n\":{i}}}\n").into_bytes());
        }
        sink.shutdown();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 100);
        assert_eq!(sink.stats().counts().written, 100);
    }

    #[test]
    fn a_full_queue_drops_counts_and_reports() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let config = SinkConfig {
            capacity: 1,
            sync_interval: Duration::from_millis(10),
            ..SinkConfig::new(&path)
        };
        let mut sink = AuditSink::open(config, Arc::new(Fixed)).unwrap();
        for _ in 0..10_000 {
            sink.push(b"{}\n".to_vec());
        }
        sink.shutdown();
        let counts = sink.stats().counts();
        assert_eq!(counts.written + counts.dropped, 10_000);
        if counts.dropped > 0 {
            let text = std::fs::read_to_string(&path).unwrap();
            let reported: u64 = text
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter(|v| v["audit_category"] == "AUDIT_QUEUE_OVERFLOW")
                .map(|v| v["audit_dropped_events"].as_u64().unwrap())
                .sum();
            assert_eq!(
                reported, counts.dropped,
                "every drop is reported in the log"
            );
        }
    }
}
