//! `cargo xtask bench tls`: what a TLS reload costs, against a release build
//! on loopback. Bounded: a few minutes, most of it waiting for the
//! previous run's connections to leave TIME_WAIT before the next rate run.
//!
//! - the rate of new connections (TCP + full TLS handshake without
//!   resumption + one `GET /v1/sys/health`) before any reload, while the
//!   certificate is reloaded every 100 ms, and after the reloads;
//! - the latency of `POST /_admin/server/tls` (re-read and validate every
//!   file, build a new rustls configuration, swap it in) against `GET` of
//!   the same path on the same keep-alive connection (the request alone);
//! - the latency of `PUT .../ssl/http/reloadcerts` (the same, plus the
//!   plugin's checks of the new certificates);
//! - `ReloadableTls::reload` in process (the reload alone, no HTTP);
//! - SIGHUP: from the signal to the first new connection that is served
//!   the new certificate.
//!
//! Every reload installs one of two certificates with the same names, so
//! each one really changes what is served.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use keyward_tests::pki::{Issued, TestCa, now};
use keyward_tests::tls::{TlsConn, client_config};
use keyward_tests::{Client, Options, Server};
use rustls::ClientConfig;
use rustls::client::Resumption;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tls_inventory::{ReloadableTls, TlsFiles};

const NODE: &[(&str, &str)] = &[("O", "keyward bench"), ("OU", "nodes"), ("CN", "localhost")];
const ADMIN: &[(&str, &str)] = &[("O", "keyward"), ("OU", "keyward"), ("CN", "admin")];
const SANS: &[&str] = &["localhost", "127.0.0.1"];
const THREADS: usize = 2;
const RUN: Duration = Duration::from_secs(2);
/// Runs per rate figure; the figure is their median.
const ROUNDS: usize = 3;
const RELOADS: usize = 50;
const SIGHUPS: usize = 10;
/// Reloads before the last rate measurement.
const MANY: usize = 300;

/// The median of `ROUNDS` runs of [`connection_rate`].
fn median_rate(
    server: &Server,
    config: &Arc<ClientConfig>,
    during: Option<&(dyn Fn() + Sync)>,
) -> f64 {
    let mut rates: Vec<f64> = (0..ROUNDS)
        .map(|_| connection_rate(server, config, during))
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[ROUNDS / 2]
}

/// Sockets in TIME_WAIT on this host (Linux `/proc/net/tcp{,6}`).
fn time_wait() -> usize {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|t| {
            t.lines()
                .skip(1)
                .filter(|l| l.split_whitespace().nth(3) == Some("06"))
                .count()
        })
        .sum()
}

/// Waits (up to 75 s) until the connections of the previous run have left
/// TIME_WAIT: thousands of them fill the loopback port range and slow every
/// `connect`, which would be charged to whatever ran in between.
fn settle() {
    let deadline = Instant::now() + Duration::from_secs(75);
    while time_wait() > 500 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Resident memory of `pid` (Linux `/proc`), in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

fn install(issued: &Issued, cert: &Path, key: &Path) {
    std::fs::write(cert, &issued.cert_pem).expect("write cert");
    std::fs::write(key, &issued.key_pem).expect("write key");
}

fn leaf(issued: &Issued) -> Vec<u8> {
    CertificateDer::from_pem_slice(issued.cert_pem.as_bytes())
        .expect("PEM")
        .to_vec()
}

/// New connections per second over `RUN`, `THREADS` at a time; `during`
/// runs beside them until they stop. Panics on any failed connection.
fn connection_rate(
    server: &Server,
    config: &Arc<ClientConfig>,
    during: Option<&(dyn Fn() + Sync)>,
) -> f64 {
    let done = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            let (done, config) = (&done, config.clone());
            s.spawn(move || {
                while started.elapsed() < RUN {
                    let mut conn = TlsConn::connect_with(server.addr, "localhost", config.clone())
                        .expect("handshake");
                    let r = conn.request("GET", "/v1/sys/health", &[]).expect("request");
                    assert_eq!(r.status, 200, "{}", r.body);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        if let Some(f) = during {
            let stop = &stop;
            s.spawn(move || {
                while started.elapsed() < RUN && !stop.load(Ordering::Relaxed) {
                    f();
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
        }
    });
    stop.store(true, Ordering::Relaxed);
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

struct Stats {
    median: Duration,
    p90: Duration,
    max: Duration,
}

fn stats(mut d: Vec<Duration>) -> Stats {
    d.sort();
    Stats {
        median: d[d.len() / 2],
        p90: d[d.len() * 9 / 10],
        max: d[d.len() - 1],
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn row(what: &str, s: &Stats) {
    println!(
        "| {what} | {} | {} | {} |",
        ms(s.median),
        ms(s.p90),
        ms(s.max)
    );
}

fn timed(n: usize, mut f: impl FnMut(usize)) -> Stats {
    stats(
        (0..n)
            .map(|i| {
                let t = Instant::now();
                f(i);
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let ca = TestCa::new("keyward bench CA");
    let ca_path = dir.join("ca.pem");
    ca.write(&ca_path);
    let (cert, key) = ca.issue(NODE, SANS).write(dir, "server");
    let admin = ca.issue(ADMIN, &[]).write(dir, "admin");
    let server = Server::start_with(Options {
        args: vec![
            "--tls-cert".into(),
            cert.display().to_string(),
            "--tls-key".into(),
            key.display().to_string(),
            "--tls-client-ca".into(),
            ca_path.display().to_string(),
        ],
        ca_file: Some(ca_path.clone()),
        ..Options::default()
    });
    let certs = [ca.issue(NODE, SANS), ca.issue(NODE, SANS)];
    let root = server.root_client();
    let admin_client =
        Client::with_identity(server.base_url(), ca_path.clone(), &admin.0, &admin.1);

    let mut config = client_config(&ca_path, None).expect("client config");
    config.resumption = Resumption::disabled();
    let config = Arc::new(config);

    // Warm up.
    connection_rate(&server, &config, None);
    if std::env::var_os("TLS_BENCH_CONTROL").is_some() {
        // The control: the same rate runs with no reload in between, to tell
        // a drift of the machine or of the server from an effect of reloads.
        for i in 0..6 {
            settle();
            let rate = median_rate(&server, &config, None);
            println!(
                "control run {i}: {rate:.0} connections/s, no reloads, RSS {} KiB",
                rss_kib(server.pid())
            );
        }
        return;
    }
    settle();
    let before = median_rate(&server, &config, None);
    let rss_before = rss_kib(server.pid());

    let tls_path = "/_db/_system/_admin/server/tls";
    let get_latency = || {
        timed(RELOADS, |_| {
            let r = root.request("GET", tls_path, &[], None);
            assert_eq!(r.status, 200, "{}", r.body);
        })
    };
    let get = get_latency();
    let mut post = Vec::new();
    for i in 0..RELOADS {
        install(&certs[i % 2], &cert, &key);
        let t = Instant::now();
        let r = root.request("POST", tls_path, &[], None);
        post.push(t.elapsed());
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let post = stats(post);
    let mut reloadcerts = Vec::new();
    for i in 0..RELOADS {
        install(&certs[i % 2], &cert, &key);
        let t = Instant::now();
        let r = admin_client.request(
            "PUT",
            "/_plugins/_security/api/ssl/http/reloadcerts",
            &[],
            None,
        );
        reloadcerts.push(t.elapsed());
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let reloadcerts = stats(reloadcerts);

    let in_process = ReloadableTls::new(TlsFiles::simple(cert.clone(), key.clone()), now())
        .expect("the files load");
    let library = timed(RELOADS, |_| {
        in_process.reload(now()).expect("reload");
    });

    let mut sighup = Vec::new();
    for i in 0..SIGHUPS {
        let next = &certs[i % 2];
        let want = leaf(next);
        // Start from the other certificate.
        install(&certs[(i + 1) % 2], &cert, &key);
        assert_eq!(root.request("POST", tls_path, &[], None).status, 200);
        install(next, &cert, &key);
        let t = Instant::now();
        server.hangup();
        loop {
            let conn =
                TlsConn::connect_with(server.addr, "localhost", config.clone()).expect("handshake");
            if conn.peer_leaf() == want {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "SIGHUP did not reload"
            );
        }
        sighup.push(t.elapsed());
    }
    let sighup = stats(sighup);

    let reload_counter = AtomicU64::new(0);
    let reload = || {
        let i = reload_counter.fetch_add(1, Ordering::Relaxed) as usize;
        install(&certs[i % 2], &cert, &key);
        let r = root.request("POST", tls_path, &[], None);
        assert_eq!(r.status, 200, "{}", r.body);
    };
    let get_after = get_latency();
    settle();
    let during = median_rate(&server, &config, Some(&reload));
    let during_reloads = reload_counter.load(Ordering::Relaxed);
    settle();
    let after = median_rate(&server, &config, None);
    let reloads_so_far =
        2 * RELOADS + 2 * SIGHUPS + reload_counter.load(Ordering::Relaxed) as usize;
    // Many more reloads: does anything grow with them?
    for _ in 0..MANY {
        reload();
    }
    settle();
    let after_many = median_rate(&server, &config, None);
    let rss_after = rss_kib(server.pid());

    println!(
        "New connections (TCP + full TLS 1.3 handshake, ECDSA P-256, no resumption + one GET /v1/sys/health), {THREADS} client threads; each figure the median of {ROUNDS} runs of {}s:",
        RUN.as_secs()
    );
    println!();
    println!("| when | connections/s |");
    println!("|---|---:|");
    println!("| before any reload | {before:.0} |");
    println!(
        "| while reloading every 100 ms ({} reloads) | {during:.0} |",
        during_reloads
    );
    println!("| after {reloads_so_far} reloads | {after:.0} |");
    println!(
        "| after {} reloads | {after_many:.0} |",
        reloads_so_far + MANY
    );
    println!();
    println!(
        "Server resident memory: {rss_before} KiB before any reload, {rss_after} KiB after {} reloads.",
        reloads_so_far + MANY
    );
    println!();
    println!("Latency, {RELOADS} runs each ({SIGHUPS} for SIGHUP):");
    println!();
    println!("| what | median | p90 | max |");
    println!("|---|---:|---:|---:|");
    row(
        "`GET /_admin/server/tls` (the request alone, keep-alive), before the reloads",
        &get,
    );
    row("`GET /_admin/server/tls`, after the reloads", &get_after);
    row("`POST /_admin/server/tls` (reload)", &post);
    row(
        "`PUT P/ssl/http/reloadcerts` (reload with the plugin's checks)",
        &reloadcerts,
    );
    row("`ReloadableTls::reload` in process (no HTTP)", &library);
    row(
        "SIGHUP to the first new connection served the new certificate",
        &sighup,
    );
}
