//! `cargo xtask chaos`: the crash campaign.
//!
//! `chaos [ROUNDS] [--disk-full]`. Each round starts the real server on the
//! same data dir, lets four clients write across every API family (transit
//! keys, Vault policies, tokens and rate-limit quotas, OpenSearch users,
//! Atlassian secrets, a transit rotation counter), kills the server with SIGKILL at a random
//! moment, restarts it and checks that every write the server acknowledged
//! is there. With `--disk-full` it then runs the server on a small tmpfs,
//! fills the disk, and checks that writes are refused with 503 and a clear
//! message while every acknowledged write is still read, that writes resume
//! once space is freed, and that a kill -9 on the full disk corrupts
//! nothing. Prints one JSON line of figures.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use keyward_tests::{Client, Options, Server, basic};
use serde_json::{Value, json};

const CLIENTS: usize = 4;
const ROOT: &str = "kw.chaos-root";
const ADMIN_PASSWORD: &str = "Chaos-Admin-Password-1";

/// One acknowledged write, and how to check it is there.
#[derive(Debug, Clone)]
enum Write {
    TransitKey(String),
    Policy {
        name: String,
        body: String,
    },
    Token(String),
    User(String),
    Secret {
        name: String,
        value: String,
    },
    /// The shared key `counter` was rotated to at least this version.
    Rotation(u64),
    /// A rate-limit quota on its own path.
    Quota {
        name: String,
        path: String,
    },
}

impl Write {
    /// How many kinds there are.
    const KINDS: usize = 7;

    fn kind(&self) -> &'static str {
        match self {
            Write::TransitKey(_) => "transit_key",
            Write::Policy { .. } => "acl_policy",
            Write::Token(_) => "token",
            Write::User(_) => "internal_user",
            Write::Secret { .. } => "secret",
            Write::Rotation(_) => "rotation",
            Write::Quota { .. } => "quota",
        }
    }
}

/// A small deterministic generator (xorshift64*); the seed is printed so a
/// failing campaign can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn options() -> Options {
    Options {
        root_token: Some(ROOT.to_string()),
        admin_password: Some(ADMIN_PASSWORD.to_string()),
        ..Default::default()
    }
}

fn bytes(v: Value) -> Vec<u8> {
    v.to_string().into_bytes()
}

fn admin_auth() -> String {
    basic("admin", ADMIN_PASSWORD)
}

/// Does one write; `Some` when the server acknowledged it.
fn write_one(client: &Client, kind: u64, id: &str) -> Option<Write> {
    let auth = admin_auth();
    let admin: &[(&str, &str)] = &[("Authorization", &auth)];
    let ok = |status: u16| (200..300).contains(&status);
    match kind {
        0 => {
            let name = format!("k-{id}");
            client
                .send("POST", &format!("/v1/transit/keys/{name}"), &[], None)
                .ok()
                .filter(|r| ok(r.status))
                .map(|_| Write::TransitKey(name))
        }
        1 => {
            let name = format!("p-{id}");
            let body = format!("path \"secret/{id}/*\" {{ capabilities = [\"read\"] }}");
            client
                .send(
                    "PUT",
                    &format!("/v1/sys/policies/acl/{name}"),
                    &[],
                    Some(&bytes(json!({ "policy": body }))[..]),
                )
                .ok()
                .filter(|r| ok(r.status))
                .map(|_| Write::Policy { name, body })
        }
        2 => client
            .send(
                "POST",
                "/v1/auth/token/create",
                &[],
                Some(&bytes(json!({"policies": ["default"], "ttl": "1h"}))[..]),
            )
            .ok()
            .filter(|r| ok(r.status))
            .and_then(|r| r.json()["auth"]["client_token"].as_str().map(String::from))
            .map(Write::Token),
        3 => {
            let name = format!("u-{id}");
            client
                .send(
                    "PUT",
                    &format!("/_plugins/_security/api/internalusers/{name}"),
                    admin,
                    Some(&bytes(json!({"password": format!("Pw-{id}-Correct-Horse!"), "attributes": {"id": id}}))[..]),
                )
                .ok()
                .filter(|r| ok(r.status))
                .map(|_| Write::User(name))
        }
        4 => {
            let name = format!("s-{id}");
            let value = format!("value of {id}");
            client
                .send(
                    "PUT",
                    &format!("/rest/secrets/1.0/secrets/{name}"),
                    admin,
                    Some(&bytes(json!({ "value": value }))[..]),
                )
                .ok()
                .filter(|r| ok(r.status))
                .map(|_| Write::Secret { name, value })
        }
        5 => {
            let name = format!("q-{id}");
            let path = format!("sys/policies/acl/{name}");
            client
                .send(
                    "POST",
                    &format!("/v1/sys/quotas/rate-limit/{name}"),
                    &[],
                    Some(&bytes(json!({"rate": 100000, "path": path}))[..]),
                )
                .ok()
                .filter(|r| ok(r.status))
                .map(|_| Write::Quota { name, path })
        }
        _ => client
            .send("POST", "/v1/transit/keys/counter/rotate", &[], None)
            .ok()
            .filter(|r| ok(r.status))
            .and_then(|r| r.json()["data"]["latest_version"].as_u64())
            .map(Write::Rotation),
    }
}

/// Checks one acknowledged write against the server; `Err` says what is missing.
fn check(server: &Server, write: &Write) -> Result<(), String> {
    let root = server.root_client();
    let auth = admin_auth();
    let admin: &[(&str, &str)] = &[("Authorization", &auth)];
    let get = |client: &Client, path: &str, headers: &[(&str, &str)]| {
        client
            .send("GET", path, headers, None)
            .map_err(|e| format!("GET {path}: {e}"))
    };
    match write {
        Write::TransitKey(name) => {
            let r = get(&root, &format!("/v1/transit/keys/{name}"), &[])?;
            (r.status == 200 && r.json()["data"]["name"] == name.as_str())
                .then_some(())
                .ok_or(format!("transit key {name}: {} {}", r.status, r.body))
        }
        Write::Policy { name, body } => {
            let r = get(&root, &format!("/v1/sys/policies/acl/{name}"), &[])?;
            (r.status == 200 && r.json()["data"]["policy"] == body.as_str())
                .then_some(())
                .ok_or(format!("policy {name}: {} {}", r.status, r.body))
        }
        Write::Token(token) => {
            let r = get(&root.with_token(token), "/v1/auth/token/lookup-self", &[])?;
            (r.status == 200)
                .then_some(())
                .ok_or(format!("token: {} {}", r.status, r.body))
        }
        Write::User(name) => {
            let r = get(
                &server.client(),
                &format!("/_plugins/_security/api/internalusers/{name}"),
                admin,
            )?;
            (r.status == 200 && r.json()[name.as_str()].is_object())
                .then_some(())
                .ok_or(format!("user {name}: {} {}", r.status, r.body))
        }
        Write::Secret { name, value } => {
            let r = get(
                &server.client(),
                &format!("/rest/secrets/1.0/secrets/{name}"),
                admin,
            )?;
            (r.status == 200 && r.json()["value"] == value.as_str())
                .then_some(())
                .ok_or(format!("secret {name}: {} {}", r.status, r.body))
        }
        Write::Quota { name, path } => {
            let r = get(&root, &format!("/v1/sys/quotas/rate-limit/{name}"), &[])?;
            (r.status == 200 && r.json()["data"]["path"] == path.as_str())
                .then_some(())
                .ok_or(format!("quota {name}: {} {}", r.status, r.body))
        }
        Write::Rotation(version) => {
            let r = get(&root, "/v1/transit/keys/counter", &[])?;
            let latest = r.json()["data"]["latest_version"].as_u64().unwrap_or(0);
            (latest >= *version).then_some(()).ok_or(format!(
                "counter key at {latest}, {version} was acknowledged"
            ))
        }
    }
}

/// Runs `CLIENTS` writers until `stop`; returns what was acknowledged.
fn write_until(server: &Server, round: u64, stop: &AtomicBool) -> Vec<Write> {
    let acked = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for client_no in 0..CLIENTS {
            let client = server.root_client();
            let acked = &acked;
            s.spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let id = format!("{round}-{client_no}-{n}");
                    let kind = (n + client_no as u64) % Write::KINDS as u64;
                    if let Some(w) = write_one(&client, kind, &id) {
                        acked.lock().unwrap().push(w);
                    }
                    n += 1;
                }
            });
        }
    });
    acked.into_inner().unwrap()
}

fn verify_all(server: &Server, acked: &[Write]) -> Vec<String> {
    acked
        .iter()
        .filter_map(|w| check(server, w).err())
        .collect()
}

fn crash_rounds(rounds: u64, rng: &mut Rng) -> Value {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let mut server = Server::start_in(&data, options(), None).expect("first start");
    let root = server.root_client();
    let r = root.request("POST", "/v1/transit/keys/counter", &[], None);
    assert_eq!(r.status, 200, "{}", r.body);
    let mut all: Vec<Write> = Vec::new();
    let started = Instant::now();
    for round in 0..rounds {
        let stop = AtomicBool::new(false);
        let kill_after = Duration::from_millis(100 + rng.below(700));
        let acked = std::thread::scope(|s| {
            let writers = s.spawn(|| write_until(&server, round, &stop));
            std::thread::sleep(kill_after);
            // SIGKILL while the writers are mid-request.
            let pid = server.pid();
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            stop.store(true, Ordering::Relaxed);
            writers.join().expect("writers")
        });
        server.kill9();
        all.extend(acked);
        server.restart().unwrap_or_else(|e| {
            panic!("round {round}: the server did not start after kill -9: {e:?}")
        });
        let lost = verify_all(&server, &all);
        assert!(
            lost.is_empty(),
            "round {round}: {} acknowledged write(s) lost, first: {}",
            lost.len(),
            lost[0]
        );
        eprintln!(
            "chaos: round {}/{rounds}: killed after {} ms, {} acknowledged writes so far, none lost",
            round + 1,
            kill_after.as_millis(),
            all.len()
        );
    }
    // Every kind of write must have been acknowledged at least once, or the
    // campaign proved nothing about it.
    let mut by_kind = std::collections::BTreeMap::<&str, usize>::new();
    for w in &all {
        *by_kind.entry(w.kind()).or_default() += 1;
    }
    assert_eq!(
        by_kind.len(),
        Write::KINDS,
        "kinds acknowledged: {by_kind:?}"
    );
    json!({
        "rounds": rounds,
        "acknowledged_writes": all.len(),
        "acknowledged_by_kind": by_kind,
        "lost_writes": 0,
        "seconds": started.elapsed().as_secs(),
    })
}

/// Mounts a tmpfs of `megabytes` at `dir`; false when this machine does not
/// let us (no privileges).
fn mount_tmpfs(dir: &Path, megabytes: u64) -> bool {
    std::fs::create_dir_all(dir).expect("mount point");
    Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success())
}

/// Writes a file until the disk is full.
fn fill(path: &Path) {
    use std::io::Write as _;
    let mut f = std::fs::File::create(path).expect("filler");
    let block = vec![0u8; 64 * 1024];
    while f.write_all(&block).is_ok() {}
    let _ = f.sync_all();
}

fn disk_full() -> Value {
    let mount = std::env::temp_dir().join(format!("keyward-chaos-full-{}", std::process::id()));
    if !mount_tmpfs(&mount, 24) {
        eprintln!("chaos: skipped the disk-full campaign: cannot mount a tmpfs here (needs root)");
        return json!({"skipped": "cannot mount a tmpfs"});
    }
    let outcome = std::panic::catch_unwind(|| disk_full_on(&mount));
    let _ = Command::new("umount").arg(&mount).status();
    let _ = std::fs::remove_dir(&mount);
    match outcome {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e),
    }
}

fn disk_full_on(mount: &Path) -> Value {
    let data: PathBuf = mount.join("data");
    let filler = mount.join("filler");
    let mut server = Server::start_in(&data, options(), None).expect("start on the tmpfs");
    let root = server.root_client();
    assert_eq!(
        root.request("POST", "/v1/transit/keys/counter", &[], None)
            .status,
        200
    );
    let stop = AtomicBool::new(false);
    let mut acked = std::thread::scope(|s| {
        let writers = s.spawn(|| write_until(&server, 0, &stop));
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::Relaxed);
        writers.join().expect("writers")
    });
    fill(&filler);

    // Writes until the store refuses (redb has some free pages left).
    let mut refusals = 0u32;
    let mut refusal_bodies = Vec::new();
    let mut n = 0u64;
    while refusals < 20 && n < 5_000 {
        let id = format!("full-{n}");
        let r = root.send(
            "PUT",
            &format!("/v1/sys/policies/acl/full-{n}"),
            &[],
            Some(
                &bytes(
                    json!({"policy": format!("path \"x/{id}\" {{ capabilities = [\"read\"] }}")}),
                )[..],
            ),
        );
        match r {
            Ok(r) if (200..300).contains(&r.status) => acked.push(Write::Policy {
                name: format!("full-{n}"),
                body: format!("path \"x/{id}\" {{ capabilities = [\"read\"] }}"),
            }),
            Ok(r) => {
                assert_eq!(r.status, 503, "a full disk is a 503, not: {}", r.body);
                refusals += 1;
                refusal_bodies.push(r.body);
            }
            Err(e) => {
                let stderr = server.stderr();
                let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
                panic!(
                    "the server stopped answering on a full disk: {e}; its last log lines, newest first: {tail:#?}"
                )
            }
        }
        n += 1;
    }
    assert!(refusals > 0, "the disk never filled up");
    assert!(
        refusal_bodies[0].contains("No space left on device"),
        "the refusal says why: {}",
        refusal_bodies[0]
    );
    // Every family refuses in its own shape.
    let auth = admin_auth();
    let r = server.client().request(
        "PUT",
        "/rest/secrets/1.0/secrets/on-a-full-disk",
        &[("Authorization", &auth)],
        Some(&bytes(json!({"value": "x".repeat(60_000)}))[..]),
    );
    assert!(
        r.status == 503 || (200..300).contains(&r.status),
        "secret on a full disk: {} {}",
        r.status,
        r.body
    );
    // Reads are still served.
    let lost = verify_all(&server, &acked);
    assert!(lost.is_empty(), "reads on a full disk: {lost:?}");
    let r = server.get("/_admin/server/availability");
    assert_eq!(r.status, 503, "not ready while writes are refused");

    // Space comes back: writes resume without a restart.
    std::fs::remove_file(&filler).expect("free space");
    let r = root.request("POST", "/v1/transit/keys/after-space-freed", &[], None);
    assert_eq!(r.status, 200, "writes resume: {}", r.body);
    acked.push(Write::TransitKey("after-space-freed".into()));

    // Full again, then kill -9 on the full disk: nothing is corrupted.
    fill(&filler);
    for i in 0..50 {
        let _ = root.send("POST", &format!("/v1/transit/keys/doomed-{i}"), &[], None);
    }
    server.kill9();
    std::fs::remove_file(&filler).expect("free space");
    server
        .restart()
        .expect("the server starts after kill -9 on a full disk");
    let lost = verify_all(&server, &acked);
    assert!(lost.is_empty(), "after kill -9 on a full disk: {lost:?}");
    json!({
        "acknowledged_writes": acked.len(),
        "refused_writes": refusals,
        "lost_writes": 0,
        "writes_resumed_without_restart": true,
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds: u64 = args.iter().find_map(|a| a.parse().ok()).unwrap_or(50);
    let seed = std::env::var("CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1
        });
    eprintln!("chaos: seed {seed} (CHAOS_SEED={seed} replays it)");
    let mut rng = Rng(seed);
    let crash = crash_rounds(rounds, &mut rng);
    let full = if args.iter().any(|a| a == "--disk-full") {
        disk_full()
    } else {
        Value::Null
    };
    println!(
        "{}",
        json!({"seed": seed, "kill9": crash, "disk_full": full})
    );
}
