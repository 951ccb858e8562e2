//! The key folder: every file in it is one 32-byte user key, as in ArangoDB's
//! `--rocksdb.encryption-keyfolder`.

use std::fmt;
use std::path::{Path, PathBuf};

use ring::digest::{SHA256, digest};
use secrecy::{ExposeSecret, SecretBox};

use crate::Error;

/// Lowercase hex SHA-256 of a user key's 32 raw bytes: how a key is named in
/// the keystore and in `/_admin/server/encryption` answers.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyHash(String);

impl KeyHash {
    pub(crate) fn of(bytes: &[u8]) -> Self {
        KeyHash(hex::encode(digest(&SHA256, bytes)))
    }

    pub(crate) fn from_hex(hex: &str) -> Option<Self> {
        (hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| KeyHash(hex.to_string()))
    }

    /// The hex string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One user key: 32 secret bytes and their hash.
pub struct UserKey {
    hash: KeyHash,
    bytes: SecretBox<[u8; 32]>,
}

impl fmt::Debug for UserKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserKey({}, [REDACTED])", self.hash)
    }
}

impl UserKey {
    /// A user key from its bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        UserKey {
            hash: KeyHash::of(&bytes),
            bytes: SecretBox::new(Box::new(bytes)),
        }
    }

    /// The key's SHA-256.
    pub fn hash(&self) -> &KeyHash {
        &self.hash
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        self.bytes.expose_secret()
    }
}

/// The keys of a key folder, read at one moment.
#[derive(Debug)]
pub struct KeyFolder {
    path: PathBuf,
    keys: Vec<UserKey>,
}

impl KeyFolder {
    /// Reads every file of the folder. Hidden files (a leading `.`) and
    /// sub-folders are skipped; any other file must hold exactly 32 bytes.
    /// A folder without a key is an error.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let err = |reason: String| Error::KeyFolder {
            folder: path.clone(),
            reason,
        };
        let entries = std::fs::read_dir(&path).map_err(|e| err(format!("cannot be read: {e}")))?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| err(format!("cannot be listed: {e}")))?;
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let file_path = entry.path();
            let meta = std::fs::metadata(&file_path)
                .map_err(|e| err(format!("{}: {e}", file_path.display())))?;
            if meta.is_file() {
                files.push(file_path);
            }
        }
        files.sort();
        let mut keys: Vec<UserKey> = Vec::new();
        for file in files {
            let bytes = zeroize::Zeroizing::new(
                std::fs::read(&file).map_err(|e| err(format!("{}: {e}", file.display())))?,
            );
            let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                err(format!(
                    "{} holds {} bytes; every key file must hold exactly 32 bytes",
                    file.display(),
                    bytes.len()
                ))
            })?;
            let key = UserKey::new(key);
            if !keys.iter().any(|k| k.hash == key.hash) {
                keys.push(key);
            }
        }
        if keys.is_empty() {
            return Err(err(
                "holds no key file (each key is a file of exactly 32 bytes)".into(),
            ));
        }
        keys.sort_by(|a, b| a.hash.cmp(&b.hash));
        Ok(KeyFolder { path, keys })
    }

    /// A folder made from keys in memory (tests, embedders).
    pub fn from_keys(path: impl Into<PathBuf>, mut keys: Vec<UserKey>) -> Self {
        keys.sort_by(|a, b| a.hash.cmp(&b.hash));
        keys.dedup_by(|a, b| a.hash == b.hash);
        KeyFolder {
            path: path.into(),
            keys,
        }
    }

    /// Where the keys were read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The keys, sorted by hash.
    pub fn keys(&self) -> &[UserKey] {
        &self.keys
    }

    /// The hashes of the keys, sorted.
    pub fn hashes(&self) -> Vec<KeyHash> {
        self.keys.iter().map(|k| k.hash.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_sha256_of_raw_bytes() {
        // sha256 of 32 zero bytes
        assert_eq!(
            KeyHash::of(&[0u8; 32]).as_str(),
            "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
        );
    }

    #[test]
    fn reads_keys_skips_hidden_and_rejects_wrong_sizes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), [1u8; 32]).unwrap();
        std::fs::write(dir.path().join("b"), [2u8; 32]).unwrap();
        std::fs::write(dir.path().join("dup"), [2u8; 32]).unwrap();
        std::fs::write(dir.path().join(".hidden"), b"x").unwrap();
        let folder = KeyFolder::read(dir.path()).unwrap();
        assert_eq!(folder.keys().len(), 2);
        assert!(format!("{folder:?}").contains("REDACTED"));

        std::fs::write(dir.path().join("c"), [3u8; 33]).unwrap();
        let err = KeyFolder::read(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("33 bytes") && err.contains("exactly 32"),
            "{err}"
        );
    }

    #[test]
    fn empty_or_missing_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            KeyFolder::read(dir.path())
                .unwrap_err()
                .to_string()
                .contains("no key file")
        );
        assert!(KeyFolder::read(dir.path().join("nope")).is_err());
    }
}
