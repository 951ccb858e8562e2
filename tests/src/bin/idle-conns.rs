//! `cargo xtask bench idle`: the server's memory per idle TLS connection.
//! Opens N connections (handshake done, one request each, then silent),
//! reads the server's resident memory before and after from /proc, checks
//! that a new client is still served, and prints one JSON line.

use std::time::{Duration, Instant};

use keyward_tests::tls::{TlsConn, client_config};
use keyward_tests::{Options, Server};

fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib * 1024
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let server = Server::start_with(Options {
        args: vec![
            "--max-connections".into(),
            (count + 100).to_string(),
            // Idle connections are kept as long as a client wants, for the
            // measurement; by default they close after 10 s.
            "--http-read-header-timeout".into(),
            "10m".into(),
        ],
        ..Default::default()
    });
    let config = std::sync::Arc::new(client_config(&server.ca_path(), None).unwrap());
    // Warm up: allocator arenas, caches, one connection's worth of state.
    let mut warm = TlsConn::connect_with(server.addr, "localhost", config.clone()).unwrap();
    assert_eq!(
        warm.request("GET", "/v1/sys/health", &[]).unwrap().status,
        200
    );
    std::thread::sleep(Duration::from_millis(500));
    let before = rss_bytes(server.pid());

    let started = Instant::now();
    let mut idle = Vec::with_capacity(count);
    for i in 0..count {
        let mut conn = TlsConn::connect_with(server.addr, "localhost", config.clone())
            .unwrap_or_else(|e| panic!("connection {i}: {e}"));
        let r = conn.request("GET", "/v1/sys/health", &[]).unwrap();
        assert_eq!(r.status, 200, "connection {i}: {}", r.body);
        idle.push(conn);
    }
    let opened_in = started.elapsed();
    std::thread::sleep(Duration::from_secs(1));
    let after = rss_bytes(server.pid());

    // With all of them held, a new client is still served.
    let mut fresh = TlsConn::connect_with(server.addr, "localhost", config).unwrap();
    let r = fresh.request("GET", "/v1/sys/health", &[]).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    // And every idle one still answers.
    for conn in idle.iter_mut().step_by(97) {
        assert_eq!(
            conn.request("GET", "/v1/sys/health", &[]).unwrap().status,
            200
        );
    }

    let per_connection = after.saturating_sub(before) / count as u64;
    println!(
        "{}",
        serde_json::json!({
            "connections": count,
            "rss_before_bytes": before,
            "rss_after_bytes": after,
            "bytes_per_connection": per_connection,
            "opened_in_ms": opened_in.as_millis() as u64,
        })
    );
}
