//! `cargo xtask bench transit`: one run of the transit benchmark.
//!
//! A release build of keyward in dev mode (HTTPS, the generated CA) on
//! loopback, driven by wrk with keep-alive:
//!
//! - `GET /v1/sys/health`: the ceiling of our own HTTP stack;
//! - `POST /v1/transit/encrypt/bench` with a 1 KiB plaintext;
//! - `POST /v1/transit/decrypt/bench` of such a ciphertext;
//! - a 1,000-item batch encrypt (1 KiB each), in MB/s of plaintext, against
//!   the in-process throughput of the same work (base64 decode, AES-256-GCM,
//!   base64 encode: `transit-crypto`'s `throughput` example).
//!
//! - `sign` and `verify` with ed25519, ecdsa-p256 and rsa-2048 keys, against
//!   the in-process rates of the underlying crates (ed25519-dalek, p256,
//!   aws-lc-rs: `transit-crypto`'s `signing` example), in the same run.
//!
//! Targets: encrypt at >= 60% of the health rate; batch at >= 50% of the
//! in-process rate; ed25519 verify over HTTPS at >= 60% of in-process. The
//! figures go to the transit section of `docs/performance.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::{cargo, root, run};

const TOKEN: &str = "kw.bench-root";
pub(crate) const DURATION: &str = "5s";
const DURATION_SECS: f64 = 5.0;
/// Rounds of all four measurements, interleaved; each figure is the median
/// round (by rate), so a burst of load from elsewhere skews one round, not
/// the result.
const ROUNDS: usize = 3;
pub(crate) const THREADS: &str = "2";
const ITEM_BYTES: usize = 1024;
const BATCH_ITEMS: usize = 1000;

/// What wrk measured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Wrk {
    pub(crate) rps: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    errors: u64,
}

fn latency_ms(text: &str) -> Option<f64> {
    let (num, unit) = text
        .find(|c: char| c.is_ascii_alphabetic())
        .map(|i| text.split_at(i))?;
    let n: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    })
}

fn parse_wrk(out: &str) -> anyhow::Result<Wrk> {
    let mut w = Wrk {
        rps: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        errors: 0,
    };
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", n] => w.rps = n.parse()?,
            ["50%", t] => w.p50_ms = latency_ms(t).context("p50")?,
            ["99%", t] => w.p99_ms = latency_ms(t).context("p99")?,
            ["Non-2xx", "or", "3xx", "responses:", n] => w.errors = n.parse()?,
            _ => {}
        }
    }
    if w.rps == 0.0 {
        bail!("wrk printed no rate:\n{out}");
    }
    Ok(w)
}

pub(crate) struct Bench {
    dir: PathBuf,
    url: String,
    ca: PathBuf,
    server: Child,
    /// The root token the requests carry.
    token: String,
}

impl Drop for Bench {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Bench {
    fn start(bin: &Path) -> anyhow::Result<Bench> {
        Bench::start_in(bin, "bench-transit")
    }

    pub(crate) fn start_in(bin: &Path, name: &str) -> anyhow::Result<Bench> {
        let dir = root().join("target").join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let port = free_port()?;
        let log = std::fs::File::create(dir.join("server.log"))?;
        let server = Command::new(bin)
            .args(["server", "--dev", "--data-dir"])
            .arg(dir.join("data"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--dev-root-token", TOKEN])
            .env("KEYWARD_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .context("start keyward")?;
        let bench = Bench {
            ca: dir.join("data").join("tls").join("ca.pem"),
            url: format!("https://127.0.0.1:{port}"),
            dir,
            server,
            token: TOKEN.to_string(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if bench.ca.exists() && bench.curl("GET", "/v1/sys/health", None).is_ok() {
                return Ok(bench);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("keyward did not become healthy")
    }

    /// A real OpenBao server with in-memory storage, as dev mode runs it,
    /// but configured by hand: dev mode's listener refuses bodies with more
    /// than 1,000 JSON strings, and the 1,000-item batch has more. So: a TLS
    /// listener with a certificate made here (openssl), the JSON limits
    /// raised, initialised with one unseal key and unsealed; the root token
    /// from the initialisation; transit mounted at `transit/`.
    pub(crate) fn start_openbao(bao: &Path, name: &str) -> anyhow::Result<Bench> {
        let dir = root().join("target").join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let port = free_port()?;
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        let status = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
            ])
            .args([
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
                "-days",
                "2",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stderr(Stdio::null())
            .status()
            .context("openssl")?;
        if !status.success() {
            bail!("openssl could not make OpenBao's certificate");
        }
        let config = dir.join("bao.hcl");
        std::fs::write(
            &config,
            format!(
                "storage \"inmem\" {{}}\ndisable_mlock = true\napi_addr = \"https://127.0.0.1:{port}\"\nlog_level = \"warn\"\nlistener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  tls_cert_file = \"{}\"\n  tls_key_file = \"{}\"\n  max_request_json_strings = 10000000\n}}\n",
                cert.display(),
                key.display()
            ),
        )?;
        let log = std::fs::File::create(dir.join("server.log"))?;
        let server = Command::new(bao)
            .arg("server")
            .arg(format!("-config={}", config.display()))
            .env("HOME", &dir)
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("start OpenBao (cargo xtask venv installs it)")?;
        let mut bench = Bench {
            ca: cert,
            url: format!("https://127.0.0.1:{port}"),
            dir,
            server,
            token: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut up = false;
        while Instant::now() < deadline && !up {
            // Sealed and uninitialised: health answers 501, so ask init.
            up = bench.curl("GET", "/v1/sys/init", None).is_ok();
            std::thread::sleep(Duration::from_millis(100));
        }
        if !up {
            bail!("OpenBao did not start");
        }
        let init = bench.write("init.json", "{\"secret_shares\":1,\"secret_threshold\":1}")?;
        let answer: serde_json::Value =
            serde_json::from_str(&bench.curl("POST", "/v1/sys/init", Some(&init))?)?;
        let unseal_key = answer["keys_base64"][0].as_str().context("unseal key")?;
        bench.token = answer["root_token"]
            .as_str()
            .context("root token")?
            .to_string();
        let unseal = bench.write("unseal.json", &format!("{{\"key\":\"{unseal_key}\"}}"))?;
        bench.curl("POST", "/v1/sys/unseal", Some(&unseal))?;
        while Instant::now() < deadline {
            if bench.curl("GET", "/v1/sys/health", None).is_ok() {
                let mount = bench.write("mount.json", "{\"type\":\"transit\"}")?;
                bench.curl("POST", "/v1/sys/mounts/transit", Some(&mount))?;
                return Ok(bench);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("OpenBao did not become healthy after unsealing")
    }

    pub(crate) fn curl(
        &self,
        method: &str,
        path: &str,
        body: Option<&Path>,
    ) -> anyhow::Result<String> {
        let mut c = Command::new("curl");
        c.args(["-sS", "--fail-with-body", "-X", method, "--cacert"])
            .arg(&self.ca)
            .args(["-H", &format!("X-Vault-Token: {}", self.token)])
            .args(["-H", "Content-Type: application/json"]);
        if let Some(b) = body {
            c.arg("--data-binary").arg(format!("@{}", b.display()));
        }
        let out = c.arg(format!("{}{path}", self.url)).output()?;
        if !out.status.success() {
            bail!(
                "curl {method} {path}: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        Ok(String::from_utf8(out.stdout)?)
    }

    /// The root token of the server.
    pub(crate) fn token(&self) -> &str {
        &self.token
    }

    /// The server's base URL.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn write(&self, name: &str, text: &str) -> anyhow::Result<PathBuf> {
        let path = self.dir.join(name);
        std::fs::write(&path, text)?;
        Ok(path)
    }

    /// A wrk script that sends `body` (a file) with the token.
    pub(crate) fn script(
        &self,
        name: &str,
        method: &str,
        body: Option<&Path>,
    ) -> anyhow::Result<PathBuf> {
        let mut lua = format!(
            "wrk.method = \"{method}\"\nwrk.headers[\"X-Vault-Token\"] = \"{}\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n",
            self.token
        );
        if let Some(b) = body {
            writeln!(
                lua,
                "local f = io.open(\"{}\", \"rb\")\nwrk.body = f:read(\"*a\")\nf:close()",
                b.display()
            )?;
        }
        self.write(name, &lua)
    }

    /// CPU time (user + system) the server has used so far, in ms.
    fn server_cpu_ms(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.server.id())).unwrap_or_default();
        // Fields after the command name (which is in parentheses).
        let after = stat.rsplit(')').next().unwrap_or("");
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // utime and stime are fields 14 and 15 of the line, 12 and 13 here;
        // the kernel counts in 1/100 s.
        (ticks(11) + ticks(12)) * 10.0
    }

    pub(crate) fn wrk(&self, path: &str, script: &Path, connections: &str) -> anyhow::Result<Wrk> {
        let out = Command::new("wrk")
            .args([
                "-t",
                THREADS,
                "-c",
                connections,
                "-d",
                DURATION,
                "--latency",
                "-s",
            ])
            .arg(script)
            .arg(format!("{}{path}", self.url))
            .output()
            .context("run wrk (apt-get install -y wrk)")?;
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let w = parse_wrk(&text)?;
        if w.errors > 0 {
            bail!("{path}: {} responses were not 2xx:\n{text}", w.errors);
        }
        Ok(w)
    }
}

/// The run with the median rate.
pub(crate) fn median(runs: &[Wrk]) -> Wrk {
    let mut sorted = runs.to_vec();
    sorted.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    sorted[sorted.len() / 2]
}

/// `{"batch_input": [...]}` of `items` random plaintexts of `bytes` each.
pub(crate) fn batch_body(items: usize, bytes: usize) -> anyhow::Result<String> {
    let mut batch = String::from("{\"batch_input\":[");
    for i in 0..items {
        if i > 0 {
            batch.push(',');
        }
        write!(batch, "{{\"plaintext\":\"{}\"}}", random_base64(bytes)?)?;
    }
    batch.push_str("]}");
    Ok(batch)
}

pub(crate) fn random_base64(len: usize) -> anyhow::Result<String> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("head -c {len} /dev/urandom | base64 -w0"))
        .output()?;
    Ok(String::from_utf8(out.stdout)?)
}

pub(crate) fn json_field(text: &str, field: &str) -> anyhow::Result<String> {
    let v: serde_json::Value = serde_json::from_str(text)?;
    v["data"][field]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("no data.{field} in {text}"))
}

fn in_process() -> anyhow::Result<f64> {
    let out = cargo()
        .args([
            "run",
            "--release",
            "--quiet",
            "-p",
            "transit-crypto",
            "--example",
            "throughput",
            "--",
        ])
        .arg(BATCH_ITEMS.to_string())
        .arg(ITEM_BYTES.to_string())
        .arg("3")
        .output()?;
    if !out.status.success() {
        bail!("throughput: {}", String::from_utf8_lossy(&out.stderr));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    v["mb_per_s"].as_f64().context("mb_per_s")
}

/// In-process sign/verify rates per key type (one thread).
fn in_process_signing() -> anyhow::Result<serde_json::Value> {
    let out = cargo()
        .args([
            "run",
            "--release",
            "--quiet",
            "-p",
            "transit-crypto",
            "--example",
            "signing",
            "--",
            "1",
        ])
        .output()?;
    if !out.status.success() {
        bail!("signing: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// The measurements of one signing key type, one entry per round.
#[derive(Debug, Clone, Default)]
struct SigningRuns {
    sign: Vec<Wrk>,
    verify: Vec<Wrk>,
    sign_in_process: Vec<f64>,
    verify_in_process: Vec<f64>,
    /// Server CPU (user + system) per verify request, in µs.
    verify_cpu_us: Vec<f64>,
}

/// The signing key types of the benchmark.
const SIGNING_TYPES: [&str; 3] = ["ed25519", "ecdsa-p256", "rsa-2048"];

/// The 1-minute load average, as text.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

pub(crate) fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!("{cores} cores ({cpu}), shared by server and load generator")
}

pub(crate) fn transit() -> anyhow::Result<()> {
    let mut c = cargo();
    c.args(["build", "--release", "-p", "keyward"]);
    run(c)?;
    let mut c = cargo();
    c.args([
        "build",
        "--release",
        "-p",
        "transit-crypto",
        "--example",
        "throughput",
    ]);
    run(c)?;
    let mut c = cargo();
    c.args([
        "build",
        "--release",
        "-p",
        "transit-crypto",
        "--example",
        "signing",
    ]);
    run(c)?;
    let bin = root().join("target").join("release").join("keyward");
    let load_start = load_average();
    let bench = Bench::start(&bin)?;

    let create = bench.write("create.json", "{}")?;
    bench.curl("POST", "/v1/transit/keys/bench", Some(&create))?;
    let plaintext = random_base64(ITEM_BYTES)?;
    let encrypt_body = bench.write(
        "encrypt.json",
        &format!("{{\"plaintext\":\"{plaintext}\"}}"),
    )?;
    let ciphertext = json_field(
        &bench.curl("POST", "/v1/transit/encrypt/bench", Some(&encrypt_body))?,
        "ciphertext",
    )?;
    let decrypt_body = bench.write(
        "decrypt.json",
        &format!("{{\"ciphertext\":\"{ciphertext}\"}}"),
    )?;
    let batch = batch_body(BATCH_ITEMS, ITEM_BYTES)?;
    let batch_body = bench.write("batch.json", &batch)?;
    // The batch answers 200 with every item encrypted.
    let answer = bench.curl("POST", "/v1/transit/encrypt/bench", Some(&batch_body))?;
    let v: serde_json::Value = serde_json::from_str(&answer)?;
    let results = v["data"]["batch_results"]
        .as_array()
        .context("batch_results")?;
    if results.len() != BATCH_ITEMS || results.iter().any(|r| r.get("error").is_some()) {
        bail!("the batch did not encrypt every item");
    }

    // Signing keys: one signature of each, for the verify bodies.
    let message = "aGVsbG8gd29ybGQ=";
    let sign_body = bench.write("sign.json", &format!("{{\"input\":\"{message}\"}}"))?;
    let mut signing_scripts = Vec::new();
    for t in SIGNING_TYPES {
        let create = bench.write(
            &format!("create-{t}.json"),
            &format!("{{\"type\":\"{t}\"}}"),
        )?;
        bench.curl("POST", &format!("/v1/transit/keys/{t}"), Some(&create))?;
        let signature = json_field(
            &bench.curl("POST", &format!("/v1/transit/sign/{t}"), Some(&sign_body))?,
            "signature",
        )?;
        let verify_body = bench.write(
            &format!("verify-{t}.json"),
            &format!("{{\"input\":\"{message}\",\"signature\":\"{signature}\"}}"),
        )?;
        let valid = bench.curl(
            "POST",
            &format!("/v1/transit/verify/{t}"),
            Some(&verify_body),
        )?;
        if !valid.contains("\"valid\":true") {
            bail!("{t}: our own signature did not verify: {valid}");
        }
        signing_scripts.push((
            t,
            format!("/v1/transit/sign/{t}"),
            bench.script(&format!("sign-{t}.lua"), "POST", Some(&sign_body))?,
            format!("/v1/transit/verify/{t}"),
            bench.script(&format!("verify-{t}.lua"), "POST", Some(&verify_body))?,
        ));
    }

    eprintln!("xtask: wrk {DURATION} per endpoint, {THREADS} threads, {ROUNDS} interleaved rounds");
    let scripts = [
        (
            "/v1/sys/health",
            bench.script("health.lua", "GET", None)?,
            "16",
        ),
        (
            "/v1/transit/encrypt/bench",
            bench.script("encrypt.lua", "POST", Some(&encrypt_body))?,
            "16",
        ),
        (
            "/v1/transit/decrypt/bench",
            bench.script("decrypt.lua", "POST", Some(&decrypt_body))?,
            "16",
        ),
        (
            "/v1/transit/encrypt/bench",
            bench.script("batch.lua", "POST", Some(&batch_body))?,
            "4",
        ),
    ];
    // The in-process measurement runs in every round too, so load from
    // elsewhere on the machine weighs on both sides of the comparison.
    let mut runs: Vec<Vec<Wrk>> = vec![Vec::new(); scripts.len()];
    let mut inprocs = Vec::new();
    let mut batch_cpu_ms = Vec::new();
    let mut signing: Vec<SigningRuns> = vec![SigningRuns::default(); SIGNING_TYPES.len()];
    for _ in 0..ROUNDS {
        for (i, (_, sign_path, sign_script, verify_path, verify_script)) in
            signing_scripts.iter().enumerate()
        {
            signing[i]
                .sign
                .push(bench.wrk(sign_path, sign_script, "16")?);
            let cpu_before = bench.server_cpu_ms();
            let w = bench.wrk(verify_path, verify_script, "16")?;
            let cpu_ms = bench.server_cpu_ms() - cpu_before;
            signing[i]
                .verify_cpu_us
                .push(cpu_ms * 1000.0 / (w.rps * DURATION_SECS));
            signing[i].verify.push(w);
        }
        let inproc_signing = in_process_signing()?;
        for (i, t) in SIGNING_TYPES.iter().enumerate() {
            signing[i]
                .sign_in_process
                .push(inproc_signing[t]["sign"].as_f64().context("sign rate")?);
            signing[i].verify_in_process.push(
                inproc_signing[t]["verify"]
                    .as_f64()
                    .context("verify rate")?,
            );
        }
        for (i, (path, script, conns)) in scripts.iter().enumerate() {
            let cpu_before = bench.server_cpu_ms();
            let w = bench.wrk(path, script, conns)?;
            if i == 3 {
                let requests = w.rps * DURATION_SECS;
                batch_cpu_ms.push((bench.server_cpu_ms() - cpu_before) / requests);
            }
            runs[i].push(w);
        }
        inprocs.push(in_process()?);
    }
    let [health, encrypt, decrypt, batch] = [0, 1, 2, 3].map(|i| median(&runs[i]));
    drop(bench);
    inprocs.sort_by(f64::total_cmp);
    let inproc = inprocs[inprocs.len() / 2];
    batch_cpu_ms.sort_by(f64::total_cmp);
    let batch_cpu = batch_cpu_ms[batch_cpu_ms.len() / 2];

    let batch_mb = batch.rps * (BATCH_ITEMS * ITEM_BYTES) as f64 / 1e6;
    let enc_ratio = encrypt.rps / health.rps * 100.0;
    let batch_ratio = batch_mb / inproc * 100.0;
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    let mut doc = String::new();
    writeln!(doc, "## Transit (`cargo xtask bench transit`)")?;
    writeln!(doc)?;
    writeln!(
        doc,
        "Figures from one run of `cargo xtask bench transit` (this section is written by it; do not edit by hand)."
    )?;
    writeln!(doc)?;
    writeln!(doc, "- Machine: {}.", machine())?;
    writeln!(
        doc,
        "- Server: release build, dev mode, HTTPS (rustls) on loopback, the default redb store."
    )?;
    writeln!(
        doc,
        "- Load: wrk, keep-alive, {THREADS} threads; 16 connections for single requests, 4 for the batch. {ROUNDS} interleaved rounds of {DURATION} per endpoint; each figure is the median round. The in-process figure is the median of {ROUNDS} runs of 3 s."
    )?;
    writeln!(
        doc,
        "- Encrypt/decrypt: one key (`aes256-gcm96`), 1 KiB plaintext. Batch: 1,000 items of 1 KiB (about 1.4 MB of JSON per request)."
    )?;
    writeln!(doc)?;
    writeln!(doc, "| endpoint | req/s | p50 | p99 |")?;
    writeln!(doc, "|---|---:|---:|---:|")?;
    for (name, w) in [
        ("`GET /v1/sys/health` (ceiling)", health),
        ("`POST transit/encrypt` 1 KiB", encrypt),
        ("`POST transit/decrypt` 1 KiB", decrypt),
        ("`POST transit/encrypt` batch of 1,000 x 1 KiB", batch),
    ] {
        writeln!(
            doc,
            "| {name} | {:.0} | {:.2} ms | {:.2} ms |",
            w.rps, w.p50_ms, w.p99_ms
        )?;
    }
    writeln!(doc)?;
    writeln!(doc, "| measure | value | target | |")?;
    writeln!(doc, "|---|---:|---:|---|")?;
    writeln!(
        doc,
        "| encrypt rate / health rate | {enc_ratio:.0}% | >= 60% | {} |",
        verdict(enc_ratio >= 60.0)
    )?;
    writeln!(
        doc,
        "| batch encrypt over HTTPS | {batch_mb:.0} MB/s of plaintext | | |"
    )?;
    writeln!(
        doc,
        "| in-process base64 + AES-256-GCM + base64 (one thread) | {inproc:.0} MB/s | | |"
    )?;
    writeln!(
        doc,
        "| batch / in-process | {batch_ratio:.0}% | >= 50% | {} |",
        verdict(batch_ratio >= 50.0)
    )?;
    let inproc_ms = (BATCH_ITEMS * ITEM_BYTES) as f64 / 1e6 / inproc * 1000.0;
    writeln!(
        doc,
        "| server CPU per batch request (user + system) | {batch_cpu:.2} ms | | in-process: {inproc_ms:.2} ms for the same 1,000 items |"
    )?;
    writeln!(doc)?;
    writeln!(
        doc,
        "Signing: `POST transit/sign` and `transit/verify` of an 11-byte input (SHA-256 for ECDSA and RSA-PSS with the maximal salt, Vault's default), 16 connections; in-process: the underlying crate on one thread (ed25519-dalek, p256, aws-lc-rs), measured in each round."
    )?;
    writeln!(doc)?;
    writeln!(
        doc,
        "| key type | sign HTTPS req/s | sign in-process /s | verify HTTPS req/s | verify in-process /s | verify HTTPS / in-process | server CPU per verify request | the verification alone (in process) |"
    )?;
    writeln!(doc, "|---|---:|---:|---:|---:|---:|---:|---:|")?;
    let mut ed_verify_ratio = 0.0;
    let mut ed_cpu = (0.0, 0.0);
    for (i, t) in SIGNING_TYPES.iter().enumerate() {
        let SigningRuns {
            sign: sign_runs,
            verify: verify_runs,
            sign_in_process: sign_in,
            verify_in_process: verify_in,
            verify_cpu_us: verify_cpu,
        } = &mut signing[i];
        verify_cpu.sort_by(f64::total_cmp);
        let cpu = verify_cpu[verify_cpu.len() / 2];
        let (s, v) = (median(sign_runs), median(verify_runs));
        sign_in.sort_by(f64::total_cmp);
        verify_in.sort_by(f64::total_cmp);
        let (si, vi) = (sign_in[sign_in.len() / 2], verify_in[verify_in.len() / 2]);
        let ratio = v.rps / vi * 100.0;
        let op_us = 1e6 / vi;
        if *t == "ed25519" {
            ed_verify_ratio = ratio;
            ed_cpu = (cpu, op_us);
        }
        writeln!(
            doc,
            "| {t} | {:.0} | {si:.0} | {:.0} | {vi:.0} | {ratio:.0}% | {cpu:.0} µs | {op_us:.0} µs |",
            s.rps, v.rps
        )?;
    }
    writeln!(doc)?;
    writeln!(
        doc,
        "ed25519 verify over HTTPS / in-process: {ed_verify_ratio:.0}% (target >= 60%: {}). The server spent {:.0} µs of CPU per ed25519 verify request, of which {:.0} µs is the verification itself; with two cores for the server alone that would be {:.0} requests/s ({:.0}% of in-process).",
        verdict(ed_verify_ratio >= 60.0),
        ed_cpu.0,
        ed_cpu.1,
        2e6 / ed_cpu.0,
        2e6 / ed_cpu.0 / (1e6 / ed_cpu.1) * 100.0,
    )?;
    writeln!(
        doc,
        "Load average of the machine (other builds included) at the start and end of the run: {load_start} and {}.",
        load_average()
    )?;
    let path = root().join("docs").join("performance.md");
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    // Replace this section only; the other sections are other benchmarks'
    // and hand-written notes.
    let heading = "## Transit (`cargo xtask bench transit`)";
    let updated = match existing.find(heading) {
        Some(start) => {
            let rest = &existing[start + heading.len()..];
            let end = rest
                .find("\n## ")
                .map(|i| start + heading.len() + i + 1)
                .unwrap_or(existing.len());
            format!("{}{doc}\n{}", &existing[..start], &existing[end..])
        }
        None => match existing.find("\n## Notes") {
            Some(i) => format!("{}\n{doc}{}", &existing[..i], &existing[i..]),
            None => format!("{existing}\n{doc}"),
        },
    };
    std::fs::write(&path, updated)?;
    print!("{doc}");
    eprintln!("xtask: wrote {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_output() {
        let out = "Running 10s test @ https://127.0.0.1:1/v1/sys/health\n  2 threads and 16 connections\n  Latency Distribution\n     50%  612.00us\n     75%    1.02ms\n     90%    2.10ms\n     99%    1.50s\n  1000 requests in 10.00s, 1MB read\nRequests/sec:   1234.56\nTransfer/sec:      1MB\n";
        let w = parse_wrk(out).unwrap();
        assert_eq!(w.rps, 1234.56);
        assert!((w.p50_ms - 0.612).abs() < 1e-9);
        assert_eq!(w.p99_ms, 1500.0);
        assert_eq!(w.errors, 0);
    }
}
