//! The HTTPS half of `cargo xtask bench authz`: the request rate of the same
//! request with a cached Basic login and with a token. Bounded: a few
//! seconds per run, loopback only.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use keyward_tests::{Server, basic};

const PATH: &str = "/_plugins/_security/api/roles/all_access";
const THREADS: usize = 4;
const RUN: Duration = Duration::from_secs(4);

fn rate(server: &Server, header: (&'static str, String)) -> f64 {
    let done = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            let client = server.client();
            let header = header.clone();
            let done = &done;
            s.spawn(move || {
                while started.elapsed() < RUN {
                    let r = client.request("GET", PATH, &[(header.0, header.1.as_str())], None);
                    assert_eq!(r.status, 200, "{}", r.body);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let server = Server::start();
    let basic_header = ("authorization", basic("admin", &server.admin_password()));
    let token_header = ("x-vault-token", server.root_token());
    // Warm up: the first Basic request pays bcrypt once, then it is cached.
    rate(&server, basic_header.clone());
    let mut token = Vec::new();
    let mut cached = Vec::new();
    for _ in 0..2 {
        token.push(rate(&server, token_header.clone()));
        cached.push(rate(&server, basic_header.clone()));
    }
    let t = token.iter().sum::<f64>() / token.len() as f64;
    let b = cached.iter().sum::<f64>() / cached.len() as f64;
    println!(
        "GET {PATH} over HTTPS, {THREADS} keep-alive connections, {}s runs",
        RUN.as_secs()
    );
    println!("token:              {t:.0} requests/s");
    println!("cached Basic login: {b:.0} requests/s");
    println!("ratio:              {:.1}% (goal >= 90%)", 100.0 * b / t);
}
