//! The checks that keep keyward usable as a library: the examples run and
//! assert, every declared feature of the library crates builds on its own,
//! the API docs build without a warning, and each library crate packages.

use std::process::Command;

use anyhow::{Context, bail};

use crate::{cargo, root, run, step};

/// The crates other services depend on.
pub(crate) const LIBRARIES: &[&str] = &[
    "keyring-core",
    "transit-crypto",
    "rbac-model",
    "tls-inventory",
    "audit-config",
    "http-api",
];

/// The examples of `examples/` (the keyward-examples package), each a
/// program that asserts what it shows.
pub(crate) const EXAMPLES: &[&str] = &[
    "transit_records",
    "rbac_service",
    "tls_reload",
    "embed_http_api",
];

/// Builds the examples once, then runs each; any failed assertion fails.
/// Built as `--workspace --examples --tests`: the targets, and so the
/// feature set, of `cargo test --workspace`, so after the tests this build
/// has nothing to compile (with `--examples` alone, features unify
/// differently and half the graph builds again).
pub(crate) fn examples() -> anyhow::Result<()> {
    let mut c = cargo();
    c.args(["build", "--workspace", "--examples", "--tests"]);
    run(c)?;
    let dir = std::env::var("CARGO_TARGET_DIR")
        .map(Into::into)
        .unwrap_or_else(|_| root().join("target"))
        .join("debug")
        .join("examples");
    for example in EXAMPLES {
        let mut c = Command::new(dir.join(example));
        c.current_dir(root());
        run(c)?;
    }
    Ok(())
}

/// The features a package declares (`default` left out), from `cargo metadata`.
fn declared_features() -> anyhow::Result<Vec<(String, Vec<String>)>> {
    let out = cargo()
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .context("cargo metadata")?;
    if !out.status.success() {
        bail!("cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let mut found = Vec::new();
    for package in meta["packages"].as_array().into_iter().flatten() {
        let name = package["name"].as_str().unwrap_or_default();
        if !LIBRARIES.contains(&name) {
            continue;
        }
        let mut features: Vec<String> = package["features"]
            .as_object()
            .map(|f| f.keys().filter(|k| *k != "default").cloned().collect())
            .unwrap_or_default();
        features.sort();
        found.push((name.to_string(), features));
    }
    Ok(found)
}

/// `cargo hack --each-feature check` for the library crates, without
/// installing cargo-hack: each crate with no features, with each declared
/// feature alone, and with its defaults.
pub(crate) fn features() -> anyhow::Result<()> {
    for (package, features) in declared_features()? {
        let mut sets: Vec<Option<&str>> = vec![None];
        sets.extend(features.iter().map(|f| Some(f.as_str())));
        for set in sets {
            let mut c = cargo();
            c.args(["check", "--quiet", "-p", &package, "--no-default-features"]);
            if let Some(f) = set {
                c.args(["--features", f]);
            }
            run(c)?;
        }
        let mut c = cargo();
        c.args(["check", "--quiet", "-p", &package]);
        run(c)?;
    }
    Ok(())
}

/// `cargo doc --no-deps` of the library crates with warnings as errors
/// (broken intra-doc links, missing docs under `deny(missing_docs)`).
pub(crate) fn docs() -> anyhow::Result<()> {
    let mut c = cargo();
    c.args(["doc", "--no-deps"]);
    for lib in LIBRARIES {
        c.args(["-p", lib]);
    }
    c.env("RUSTDOCFLAGS", "-D warnings");
    run(c)
}

/// Each library crate packages: its metadata is complete and the files it
/// needs are inside it (`cargo package --list` checks the manifest without
/// asking the registry for the not yet published siblings).
pub(crate) fn package() -> anyhow::Result<()> {
    for lib in LIBRARIES {
        let out = cargo()
            .args(["package", "--list", "--allow-dirty", "-p", lib])
            .output()
            .with_context(|| format!("cargo package --list -p {lib}"))?;
        if !out.status.success() {
            bail!(
                "cargo package --list -p {lib}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let files = String::from_utf8_lossy(&out.stdout);
        for needed in ["Cargo.toml", "src/lib.rs"] {
            if !files.lines().any(|l| l == needed) {
                bail!("cargo package -p {lib} leaves out {needed}");
            }
        }
        eprintln!("xtask: {lib}: {} files packaged", files.lines().count());
    }
    Ok(())
}

/// Everything above, in CI's order.
pub(crate) fn all() -> anyhow::Result<()> {
    step("embedding: the examples (examples/)");
    examples()?;
    step("embedding: each feature of the library crates alone");
    features()?;
    step("embedding: cargo doc --no-deps with -D warnings");
    docs()?;
    step("embedding: cargo package --list per library crate");
    package()
}
