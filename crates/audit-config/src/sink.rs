//! The audit sink: one JSON line per event, written by a thread of its own
//! so that no request ever waits on the disk.
//!
//! Requests push into a bounded queue (`try_send`, O(1)); the writer thread
//! serializes the events, so even that work is off the request path. When
//! the queue is full the event is dropped and counted — the request is never
//! slowed down — and the writer records the count in the log itself as soon
//! as it can (an `AUDIT_QUEUE_OVERFLOW` line), so a loss is never silent; the
//! counters are also exported as metrics. The writer looks at the queue
//! every few milliseconds while events arrive (so a push never has to wake
//! it) and hands written lines to the file at once; a thread of its own
//! fsyncs every `sync_interval` when something was written (so a slow disk
//! does not stop the draining), and the writer once more at shutdown.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{
    Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError, sync_channel,
};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use keyring_core::Clock;

use crate::Error;
use crate::event::{AuditEvent, format_timestamp};

/// Counters of the sink, for metrics.
#[derive(Debug, Default)]
pub struct SinkStats {
    queued: AtomicU64,
    written: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SinkCounts {
    /// Events waiting in the queue.
    pub queued: u64,
    /// Events written to the file.
    pub written: u64,
    /// Events dropped because the queue was full (or the sink had stopped).
    pub dropped: u64,
    /// Events the file refused (a write error, such as a full disk).
    pub failed: u64,
}

impl SinkStats {
    /// The counters now.
    pub fn counts(&self) -> SinkCounts {
        SinkCounts {
            queued: self.queued.load(Ordering::Relaxed),
            written: self.written.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
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

enum Msg {
    Event(Box<AuditEvent>),
    Stop,
}

/// Writes audit lines to a file off the request path.
pub struct AuditSink {
    tx: SyncSender<Msg>,
    writer: Mutex<Option<JoinHandle<()>>>,
    stats: Arc<SinkStats>,
    path: PathBuf,
    capacity: usize,
}

impl std::fmt::Debug for AuditSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSink")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Opens the log for appending. A last line cut short (the process was
/// killed in the middle of a write) is ended first, so the next event
/// starts a line of its own: the torn line stays unreadable, every other
/// line is whole JSON.
fn open(path: &Path) -> std::io::Result<File> {
    use std::io::{Read, Seek, SeekFrom};
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    let len = file.metadata()?.len();
    if len > 0 {
        let mut last = [0u8; 1];
        file.seek(SeekFrom::Start(len - 1))?;
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            file.write_all(b"\n")?;
        }
    }
    Ok(file)
}

impl AuditSink {
    /// Opens (or creates) the log file and starts the writer thread.
    pub fn open(config: SinkConfig, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        let file = open(&config.path)
            .map_err(|e| Error::Sink(format!("{}: {e}", config.path.display())))?;
        let capacity = config.capacity.max(1);
        let (tx, rx) = sync_channel(capacity);
        let stats = Arc::new(SinkStats::default());
        let writer_stats = stats.clone();
        let interval = config.sync_interval;
        let writer = std::thread::Builder::new()
            .name("keyward-audit".into())
            .spawn(move || write_loop(rx, file, interval, writer_stats, clock))
            .map_err(|e| Error::Sink(format!("cannot start the audit writer: {e}")))?;
        Ok(AuditSink {
            tx,
            writer: Mutex::new(Some(writer)),
            stats,
            path: config.path,
            capacity,
        })
    }

    /// Queues one event; never blocks. A full queue drops the event and counts it.
    pub fn push(&self, event: AuditEvent) {
        match self.tx.try_send(Msg::Event(Box::new(event))) {
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

    /// How many events the queue holds at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes what is queued, fsyncs and stops the writer; events pushed
    /// afterwards are counted as dropped. Waits for the queue to have room
    /// for the stop message, so nothing queued before is lost.
    pub fn shutdown(&self) {
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(w) = writer {
            let _ = self.tx.send(Msg::Stop);
            let _ = w.join();
        }
    }
}

impl Drop for AuditSink {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct Writer {
    out: BufWriter<File>,
    stats: Arc<SinkStats>,
    clock: Arc<dyn Clock>,
    reported_drops: u64,
    /// Written since the last fsync.
    dirty: bool,
    /// Written since the last flush.
    unflushed: bool,
}

impl Writer {
    fn write(&mut self, mut event: Box<AuditEvent>) {
        self.stats.queued.fetch_sub(1, Ordering::Relaxed);
        event.complete();
        let ok = serde_json::to_writer(&mut self.out, &event).is_ok()
            && self.out.write_all(b"\n").is_ok();
        let counter = if ok {
            &self.stats.written
        } else {
            &self.stats.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.dirty = true;
        self.unflushed = true;
    }

    /// Records drops not yet reported, in the log itself.
    fn report_drops(&mut self) {
        let dropped = self.stats.dropped.load(Ordering::Relaxed);
        if dropped > self.reported_drops {
            let line = serde_json::json!({
                "audit_format_version": 4,
                "@timestamp": format_timestamp(self.clock.now()),
                "audit_category": "AUDIT_QUEUE_OVERFLOW",
                "audit_request_origin": "LOCAL",
                "audit_dropped_events": dropped - self.reported_drops,
                "audit_dropped_events_total": dropped,
            });
            let _ = writeln!(self.out, "{line}");
            tracing::warn!(
                target: "keyward::audit",
                dropped = dropped - self.reported_drops,
                total = dropped,
                "the audit queue was full: events were dropped (counted in the audit log and in keyward_audit_events_dropped_total)"
            );
            self.reported_drops = dropped;
            self.dirty = true;
            self.unflushed = true;
        }
    }

    /// Hands what is buffered to the file (one write); true when there was
    /// something.
    fn flush(&mut self) -> bool {
        if self.unflushed {
            let _ = self.out.flush();
            self.unflushed = false;
            return true;
        }
        false
    }

    /// Flushes and fsyncs what was written since the last sync.
    fn sync(&mut self) {
        let _ = self.flush();
        if self.dirty {
            let _ = self.out.get_ref().sync_data();
            self.dirty = false;
        }
    }
}

/// How long the writer sleeps between looks at the queue while events
/// arrive. Polling keeps the request path free of wake-ups: a push into a
/// queue nobody is blocked on is a few atomic operations, no system call.
const POLL: Duration = Duration::from_millis(5);

/// After this many empty looks (half a second) the writer blocks on the
/// queue instead; the next event wakes it and it polls again.
const IDLE_POLLS: u32 = 100;

/// Starts the thread that fsyncs the log every `interval` when lines were
/// handed to the file since its last look, on a handle of its own: a slow
/// fsync (a busy disk) never stops the writer from draining the queue.
/// `None` when the thread cannot start (the writer then fsyncs itself).
fn start_syncer(
    file: &File,
    interval: Duration,
    pending: Arc<AtomicBool>,
) -> Option<(std::sync::mpsc::Sender<()>, JoinHandle<()>)> {
    let handle = file.try_clone().ok()?;
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("keyward-audit-sync".into())
        .spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                if pending.swap(false, Ordering::AcqRel) {
                    let _ = handle.sync_data();
                }
            }
        })
        .ok()?;
    Some((stop, thread))
}

fn write_loop(
    rx: Receiver<Msg>,
    file: File,
    interval: Duration,
    stats: Arc<SinkStats>,
    clock: Arc<dyn Clock>,
) {
    let pending = Arc::new(AtomicBool::new(false));
    let syncer = start_syncer(&file, interval, pending.clone());
    let mut w = Writer {
        out: BufWriter::with_capacity(64 * 1024, file),
        stats,
        clock,
        reported_drops: 0,
        dirty: false,
        unflushed: false,
    };
    let mut last_sync = Instant::now();
    let mut idle = 0u32;
    let mut stop = false;
    while !stop {
        let mut got = 0usize;
        loop {
            match rx.try_recv() {
                Ok(Msg::Event(event)) => {
                    w.write(event);
                    got += 1;
                }
                Ok(Msg::Stop) | Err(TryRecvError::Disconnected) => {
                    stop = true;
                    break;
                }
                Err(TryRecvError::Empty) => break,
            }
        }
        w.report_drops();
        // Written lines reach the file at once (readers see them); they
        // are fsynced every `interval`, by the syncer thread.
        if w.flush() {
            pending.store(true, Ordering::Release);
        }
        if stop {
            break;
        }
        if syncer.is_none() && last_sync.elapsed() >= interval {
            w.sync();
            last_sync = Instant::now();
        }
        idle = if got == 0 { idle.saturating_add(1) } else { 0 };
        if idle < IDLE_POLLS {
            std::thread::sleep(POLL.min(interval));
            continue;
        }
        // Idle: wait for the next event (the syncer fsyncs what is pending).
        if syncer.is_none() {
            w.sync();
            last_sync = Instant::now();
        }
        match rx.recv_timeout(interval) {
            Ok(Msg::Event(event)) => {
                w.write(event);
                idle = 0;
            }
            Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => stop = true,
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
    // Nothing more is accepted; count what raced the stop and report it,
    // then the last fsync, here, once the syncer has stopped.
    drop(rx);
    if let Some((stop, thread)) = syncer {
        drop(stop);
        let _ = thread.join();
    }
    w.report_drops();
    w.sync();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuditCategory, AuditTopic};
    use keyring_core::Timestamp;

    struct Fixed;
    impl Clock for Fixed {
        fn now(&self) -> Timestamp {
            Timestamp::from_unix_secs(0)
        }
    }

    fn event(n: usize) -> AuditEvent {
        let mut e = AuditEvent::new(
            AuditCategory::FailedLogin,
            AuditTopic::Authentication,
            Timestamp::from_unix_secs(0),
        );
        e.audit_request_effective_user = Some(format!("user{n}"));
        e
    }

    #[test]
    fn lines_reach_the_file_by_shutdown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let sink = AuditSink::open(SinkConfig::new(&path), Arc::new(Fixed)).unwrap();
        for i in 0..100 {
            sink.push(event(i));
        }
        sink.shutdown();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 100);
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["audit_request_effective_user"], "user0");
        assert_eq!(sink.stats().counts().written, 100);
        sink.push(event(0));
        assert_eq!(sink.stats().counts().dropped, 1, "after shutdown: counted");
    }

    #[test]
    fn lines_reach_the_file_while_the_sink_runs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let config = SinkConfig {
            sync_interval: Duration::from_millis(20),
            ..SinkConfig::new(&path)
        };
        let sink = AuditSink::open(config, Arc::new(Fixed)).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        // Busy, then idle (the writer blocks), then busy again: each line
        // is in the file without a shutdown.
        for round in 0..3 {
            sink.push(event(round));
            while std::fs::read_to_string(&path).unwrap().lines().count() <= round {
                assert!(std::time::Instant::now() < deadline, "round {round}");
                std::thread::sleep(Duration::from_millis(5));
            }
            std::thread::sleep(Duration::from_millis(if round == 0 { 700 } else { 1 }));
        }
        assert_eq!(sink.stats().counts().written, 3);
        sink.shutdown();
    }

    #[test]
    fn a_torn_last_line_is_ended_before_appending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        std::fs::write(&path, "{\"whole\":1}\n{\"torn\":").unwrap();
        let sink = AuditSink::open(SinkConfig::new(&path), Arc::new(Fixed)).unwrap();
        sink.push(event(1));
        sink.shutdown();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[1], "{\"torn\":");
        let v: serde_json::Value = serde_json::from_str(lines[2]).unwrap();
        assert_eq!(v["audit_request_effective_user"], "user1");
        // A whole file is left as it is.
        let sink = AuditSink::open(SinkConfig::new(&path), Arc::new(Fixed)).unwrap();
        sink.shutdown();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
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
        let sink = AuditSink::open(config, Arc::new(Fixed)).unwrap();
        for i in 0..10_000 {
            sink.push(event(i));
        }
        sink.shutdown();
        let counts = sink.stats().counts();
        assert_eq!(counts.written + counts.dropped, 10_000);
        assert!(counts.dropped > 0, "a queue of one overflows");
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
