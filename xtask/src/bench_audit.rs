//! `cargo xtask bench audit`: what audit logging costs on the request path,
//! and what a rotation of the secret store costs against its bare
//! cryptography. One run; the figures replace the section
//! `## Audit logging and the secret store` of `docs/performance.md`.
//!
//! 1. Criterion, in process (`crates/http-api/benches/audit.rs`): the same
//!    request through `Api::handle` with no audit log and with an audit log
//!    and every category on (two events per request, bodies logged). The
//!    bench prints the sink's counters, so a figure obtained by dropping
//!    events would show.
//! 2. Over HTTPS (release build, dev mode, wrk): `POST transit/encrypt`
//!    (1 KiB) with every audit category on against the audit configuration
//!    `enabled: false`, interleaved rounds on one server; then the audit
//!    queue's metrics.
//! 3. Rotation of 100,000 secrets (`keyring-core`'s `secret_rotation`
//!    example on a redb file under `target/`) against the time to open and
//!    seal the same values again in process.
//!
//! Targets (issue 9): audit on >= 90% of the rate with audit off; the
//! rotation within 3x of the in-process work.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, bail};

use crate::bench::{Bench, Wrk, median};
use crate::{cargo, root, run};

const ROUNDS: usize = 3;
const SECRETS: usize = 100_000;
const SECRET_BYTES: usize = 32;
const SECTION: &str = "## Audit logging and the secret store";

/// Median time of one criterion benchmark, in ns.
fn criterion_median_ns(function: &str, label: &str) -> anyhow::Result<f64> {
    let path = root()
        .join("target")
        .join("criterion")
        .join("audit")
        .join(function)
        .join(label)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    v["median"]["point_estimate"]
        .as_f64()
        .with_context(|| format!("no median in {}", path.display()))
}

struct InProcess {
    rows: Vec<(&'static str, f64, f64)>,
    written: u64,
    dropped: u64,
}

fn criterion() -> anyhow::Result<InProcess> {
    let out = cargo()
        .args(["bench", "-p", "http-api", "--bench", "audit"])
        .output()
        .context("cargo bench -p http-api --bench audit")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    print!("{stdout}");
    if !out.status.success() {
        bail!("the audit bench failed");
    }
    let counts: serde_json::Value = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("{\"written\""))
        .context("the bench printed no counters")
        .and_then(|l| Ok(serde_json::from_str(l)?))?;
    let mut rows = Vec::new();
    for (name, function) in [
        ("`POST transit/encrypt` 1 KiB, root token", "encrypt-1KiB"),
        (
            "`GET /_admin/log/level`, HTTP Basic (cached login)",
            "log-level-basic",
        ),
    ] {
        rows.push((
            name,
            criterion_median_ns(function, "off")?,
            criterion_median_ns(function, "on")?,
        ));
    }
    Ok(InProcess {
        rows,
        written: counts["written"].as_u64().unwrap_or(0),
        dropped: counts["dropped"].as_u64().unwrap_or(0),
    })
}

struct Https {
    on: Wrk,
    off: Wrk,
    dropped: u64,
    written: u64,
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0)
}

fn https() -> anyhow::Result<Https> {
    let mut c = cargo();
    c.args(["build", "--release", "-p", "keyward"]);
    run(c)?;
    let bin = root().join("target").join("release").join("keyward");
    let bench = Bench::start_in(&bin, "bench-audit")?;
    let create = bench.write("create.json", "{}")?;
    bench.curl("POST", "/v1/transit/keys/bench", Some(&create))?;
    let plaintext = crate::bench::random_base64(1024)?;
    let body = bench.write(
        "encrypt.json",
        &format!("{{\"plaintext\":\"{plaintext}\"}}"),
    )?;
    let script = bench.script("encrypt.lua", "POST", Some(&body))?;
    let all_on = bench.write(
        "audit-on.json",
        r#"{"enabled":true,"audit":{"enable_rest":true,"disabled_rest_categories":[],"ignore_users":["NONE"],"log_request_body":true},"compliance":{"enabled":true,"internal_config":true}}"#,
    )?;
    let off = bench.write("audit-off.json", r#"{"enabled":false}"#)?;
    let log = root()
        .join("target")
        .join("bench-audit")
        .join("data")
        .join("audit.log");
    let set =
        |config: &Path| bench.curl("PUT", "/_plugins/_security/api/audit/config", Some(config));
    let (mut ons, mut offs) = (Vec::new(), Vec::new());
    eprintln!("xtask: wrk over HTTPS, audit on and off, {ROUNDS} interleaved rounds");
    for round in 0..ROUNDS {
        // Alternate which goes first, so a trend in the machine's load
        // weighs on both.
        for on in [round % 2 == 0, round % 2 == 1] {
            set(if on { &all_on } else { &off })?;
            let w = bench.wrk("/v1/transit/encrypt/bench", &script, "16")?;
            if on {
                ons.push(w)
            } else {
                offs.push(w)
            }
            // A round writes hundreds of megabytes; the disk is shared.
            truncate(&log)?;
        }
    }
    let metrics = bench.curl("GET", "/_admin/metrics/v2", None)?;
    Ok(Https {
        on: median(&ons),
        off: median(&offs),
        dropped: metric(&metrics, "keyward_audit_events_dropped_total"),
        written: metric(&metrics, "keyward_audit_events_written_total"),
    })
}

/// Empties the audit log of the running server (it appends, so it goes on
/// writing at the start of the file).
fn truncate(log: &Path) -> anyhow::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(log)
        .and_then(|f| f.set_len(0))
        .with_context(|| format!("truncate {}", log.display()))
}

struct Rotation {
    baseline_ms: f64,
    rotate_ms: f64,
}

fn rotation() -> anyhow::Result<Rotation> {
    let mut c = cargo();
    c.args([
        "build",
        "--release",
        "-p",
        "keyring-core",
        "--example",
        "secret_rotation",
    ]);
    run(c)?;
    let mut runs = Vec::new();
    for _ in 0..ROUNDS {
        let dir = root().join("target").join("bench-audit").join("rotation");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let out = cargo()
            .args([
                "run",
                "--release",
                "--quiet",
                "-p",
                "keyring-core",
                "--example",
                "secret_rotation",
                "--",
            ])
            .arg(SECRETS.to_string())
            .arg(SECRET_BYTES.to_string())
            .arg(&dir)
            .output()?;
        if !out.status.success() {
            bail!("secret_rotation: {}", String::from_utf8_lossy(&out.stderr));
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        runs.push(Rotation {
            baseline_ms: v["baseline_ms"].as_f64().context("baseline_ms")?,
            rotate_ms: v["rotate_ms"].as_f64().context("rotate_ms")?,
        });
    }
    runs.sort_by(|a, b| a.rotate_ms.total_cmp(&b.rotate_ms));
    Ok(runs.swap_remove(runs.len() / 2))
}

pub(crate) fn audit() -> anyhow::Result<()> {
    let inproc = criterion()?;
    let http = https()?;
    let rot = rotation()?;

    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    let mut doc = String::new();
    writeln!(doc, "{SECTION}")?;
    writeln!(doc)?;
    writeln!(
        doc,
        "Figures from one run of `cargo xtask bench audit` (written by it; do not edit by hand). Machine: {}.",
        crate::bench::machine()
    )?;
    writeln!(doc)?;
    writeln!(
        doc,
        "In process (criterion, `crates/http-api/benches/audit.rs`, one request thread, bench profile, mimalloc as in the server): one request through `Api::handle`; \"on\" is an audit log with every category on (AUTHENTICATED and GRANTED_PRIVILEGES for each request, the body logged after redaction), \"off\" no audit log. Medians of 30 samples."
    )?;
    writeln!(doc)?;
    writeln!(
        doc,
        "| request | audit off | audit on | requests/s off | requests/s on | on / off |"
    )?;
    writeln!(doc, "|---|---:|---:|---:|---:|---:|")?;
    for (name, off, on) in &inproc.rows {
        writeln!(
            doc,
            "| {name} | {:.1} µs | {:.1} µs | {:.0} | {:.0} | {:.0}% |",
            off / 1000.0,
            on / 1000.0,
            1e9 / off,
            1e9 / on,
            off / on * 100.0
        )?;
    }
    writeln!(doc)?;
    writeln!(
        doc,
        "Audit events the in-process runs wrote: {} (dropped because the queue was full: {}).",
        inproc.written, inproc.dropped
    )?;
    writeln!(doc)?;
    writeln!(
        doc,
        "Over HTTPS (release build, dev mode, wrk 2 threads, 16 keep-alive connections, {ROUNDS} interleaved rounds of 5 s, median round; \"off\" is the audit configuration `enabled: false` on the same server):"
    )?;
    writeln!(doc)?;
    let ratio = http.on.rps / http.off.rps * 100.0;
    writeln!(doc, "| `POST transit/encrypt` 1 KiB | req/s | p50 | p99 |")?;
    writeln!(doc, "|---|---:|---:|---:|")?;
    for (name, w) in [
        ("audit off", http.off),
        ("audit on, every category", http.on),
    ] {
        writeln!(
            doc,
            "| {name} | {:.0} | {:.2} ms | {:.2} ms |",
            w.rps, w.p50_ms, w.p99_ms
        )?;
    }
    writeln!(doc)?;
    writeln!(
        doc,
        "Audit queue after the run (`/_admin/metrics/v2`): {} events written, {} dropped.",
        http.written, http.dropped
    )?;
    writeln!(doc)?;
    let rot_ratio = rot.rotate_ms / rot.baseline_ms;
    writeln!(doc, "| measure | value | target | |")?;
    writeln!(doc, "|---|---:|---:|---|")?;
    writeln!(
        doc,
        "| HTTPS rate, audit on / off | {ratio:.0}% | >= 90% | {} |",
        verdict(ratio >= 90.0)
    )?;
    writeln!(
        doc,
        "| rotation of {SECRETS} secrets of {SECRET_BYTES} bytes (`SecretStore::rotate`, redb) | {:.0} ms | | |",
        rot.rotate_ms
    )?;
    writeln!(
        doc,
        "| in process: open and seal the same values again (AES-256-GCM, one thread) | {:.0} ms | | |",
        rot.baseline_ms
    )?;
    writeln!(
        doc,
        "| rotation / in-process | {rot_ratio:.1}x | <= 3x | {} |",
        verdict(rot_ratio <= 3.0)
    )?;
    writeln!(doc)?;

    let path = root().join("docs").join("performance.md");
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    // Replace the section (up to the next `## ` heading, whose hand-written
    // notes stay) or append it.
    let updated = match existing.find(&format!("\n{SECTION}\n")) {
        Some(start) => {
            let body_start = start + 1;
            let end = existing[body_start + SECTION.len()..]
                .find("\n## ")
                .map(|i| body_start + SECTION.len() + i + 1)
                .unwrap_or(existing.len());
            // Hand-written notes of this section start with `### Notes`.
            let notes = existing[body_start..end]
                .find("\n### Notes")
                .map(|i| existing[body_start + i + 1..end].to_string())
                .unwrap_or_default();
            format!(
                "{}{doc}{notes}{}",
                &existing[..body_start],
                &existing[end..]
            )
        }
        None => format!(
            "{}\n{doc}",
            existing.trim_end_matches('\n').to_string() + "\n"
        ),
    };
    std::fs::write(&path, updated)?;
    print!("{doc}");
    eprintln!("xtask: wrote {}", path.display());
    Ok(())
}
