//! Dev mode: everything a newcomer needs, generated under the data dir and
//! reused on the next start.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use keyring_core::Barrier;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

const CREDENTIALS_PATH: &str = "sys/dev/credentials";

/// Writes `bytes` to a new file readable only by its owner.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_new(path, bytes, 0o600)
}

/// Writes `bytes` to a new file readable by everyone (certificates).
pub(crate) fn write_public(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_new(path, bytes, 0o644)
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// Puts one random 32-byte key into an empty or missing key folder.
pub(crate) fn ensure_key(folder: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    let has_file = std::fs::read_dir(folder)?
        .filter_map(Result::ok)
        .any(|e| !e.file_name().to_string_lossy().starts_with('.'));
    if has_file {
        return Ok(());
    }
    let mut key = [0u8; 32];
    SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| anyhow::anyhow!("no system randomness"))?;
    write_private(&folder.join("dev.key"), &key)?;
    Ok(())
}

/// Where dev mode keeps its certificates.
pub(crate) struct DevTls {
    pub(crate) ca: PathBuf,
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
    pub(crate) admin_cert: PathBuf,
    pub(crate) admin_key: PathBuf,
}

impl DevTls {
    pub(crate) fn under(data_dir: &Path) -> Self {
        let dir = data_dir.join("tls");
        DevTls {
            ca: dir.join("ca.pem"),
            cert: dir.join("server.pem"),
            key: dir.join("server-key.pem"),
            admin_cert: dir.join("admin.pem"),
            admin_key: dir.join("admin-key.pem"),
        }
    }

    fn all(&self) -> [&Path; 5] {
        [
            &self.ca,
            &self.cert,
            &self.key,
            &self.admin_cert,
            &self.admin_key,
        ]
    }

    /// Generates the CA, server and admin certificates unless all exist.
    pub(crate) fn ensure(&self, now_unix_secs: i64) -> anyhow::Result<()> {
        if self.all().iter().all(|p| p.exists()) {
            return Ok(());
        }
        let dir = self.ca.parent().context("tls dir")?;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for p in self.all() {
            let _ = std::fs::remove_file(p);
        }
        let pki = tls_inventory::DevPki::generate(now_unix_secs)?;
        write_public(&self.ca, pki.ca_cert.as_bytes())?;
        write_public(&self.cert, pki.server_chain.as_bytes())?;
        write_private(&self.key, pki.server_key.as_bytes())?;
        write_public(&self.admin_cert, pki.admin_cert.as_bytes())?;
        write_private(&self.admin_key, pki.admin_key.as_bytes())?;
        Ok(())
    }
}

/// The dev root token and admin password, kept (encrypted) in the store so
/// that a restart prints them again.
#[derive(Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct DevCredentials {
    pub(crate) root_token: String,
    pub(crate) admin_password: String,
}

impl std::fmt::Debug for DevCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DevCredentials([REDACTED])")
    }
}

fn random_string(prefix: &str, len: usize) -> anyhow::Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let rng = SystemRandom::new();
    let mut out = String::from(prefix);
    while out.len() < prefix.len() + len {
        let mut b = [0u8; 1];
        rng.fill(&mut b)
            .map_err(|_| anyhow::anyhow!("no system randomness"))?;
        // Rejection sampling keeps the characters uniform.
        if usize::from(b[0]) < 256 - 256 % ALPHABET.len() {
            out.push(char::from(ALPHABET[usize::from(b[0]) % ALPHABET.len()]));
        }
    }
    Ok(out)
}

/// The credentials to use, and whether they differ from the stored ones.
pub(crate) async fn credentials(
    barrier: &Barrier,
    root_token: Option<String>,
    admin_password: Option<String>,
) -> anyhow::Result<(DevCredentials, bool)> {
    let stored: Option<DevCredentials> = match barrier.get(CREDENTIALS_PATH).await? {
        Some(bytes) => Some(serde_json::from_slice(&bytes).context("stored dev credentials")?),
        None => None,
    };
    let wanted = DevCredentials {
        root_token: match (root_token, &stored) {
            (Some(t), _) => t,
            (None, Some(s)) => s.root_token.clone(),
            (None, None) => random_string("kw.", 32)?,
        },
        admin_password: match (admin_password, &stored) {
            (Some(p), _) => p,
            (None, Some(s)) => s.admin_password.clone(),
            (None, None) => random_string("", 24)?,
        },
    };
    let changed = stored.as_ref() != Some(&wanted);
    if changed {
        barrier
            .put(CREDENTIALS_PATH, &serde_json::to_vec(&wanted)?)
            .await?;
    }
    Ok((wanted, changed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_strings_have_the_asked_shape() {
        let t = random_string("kw.", 32).unwrap();
        assert_eq!(t.len(), 35);
        assert!(t.starts_with("kw.") && t[3..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(t, random_string("kw.", 32).unwrap());
    }

    #[test]
    fn ensure_key_fills_only_an_empty_folder() {
        let dir = std::env::temp_dir().join(format!("kw-dev-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        ensure_key(&dir).unwrap();
        let key = std::fs::read(dir.join("dev.key")).unwrap();
        assert_eq!(key.len(), 32);
        ensure_key(&dir).unwrap();
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
