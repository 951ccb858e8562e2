//! The keystore file: the internal data key, wrapped once by each user key.
//!
//! It is a small JSON file beside the database, replaced atomically (write a
//! temporary file, fsync, rename, fsync the folder). Because it is a separate
//! file, a start with a wrong key is refused after reading it, before the
//! database is opened: nothing in the data dir changes.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::rand::SystemRandom;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::keyfolder::{KeyFolder, KeyHash};
use crate::Error;
use crate::aead::{KEY_LEN, SealKey};
use crate::format::{DATA_FORMAT, check_readable};

// `format` of the file is the data dir's on-disk format (see
// `crate::format`): a fence read before the keys are used.
const WRAP_AAD: &str = "keyward keystore v1 ";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeystoreFile {
    format: u32,
    /// The data key sealed (AES-256-GCM) under each user key, by key hash.
    #[serde(default)]
    wrapped: Vec<WrappedKey>,
    /// Only when no key folder is configured: the data key itself, base64.
    /// Encryption at rest is then not protecting anything, and the server says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unprotected: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WrappedKey {
    sha256: String,
    sealed: String,
}

/// Where the wrapped data key lives, and which key folder protects it.
#[derive(Debug, Clone)]
pub struct Keystore {
    file: PathBuf,
    folder: Option<PathBuf>,
}

/// The data key, unwrapped, with the hashes of the user keys it is wrapped under.
#[derive(Debug)]
pub struct Unlocked {
    key: SealKey,
    keys: Vec<KeyHash>,
    keystore: Keystore,
    format: u32,
}

impl Unlocked {
    /// The hashes of the user keys the data key is wrapped under.
    pub fn key_hashes(&self) -> &[KeyHash] {
        &self.keys
    }

    /// The data dir's format as the keystore file gives it (the fence).
    pub fn format(&self) -> u32 {
        self.format
    }

    pub(crate) fn into_parts(self) -> (SealKey, Vec<KeyHash>, Keystore) {
        (self.key, self.keys, self.keystore)
    }
}

impl Keystore {
    /// A keystore in `file`, protected by the keys of `folder` (or by nothing).
    pub fn new(file: impl Into<PathBuf>, folder: Option<PathBuf>) -> Self {
        Keystore {
            file: file.into(),
            folder,
        }
    }

    /// The keystore file.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// True when a key folder protects the data key.
    pub fn has_folder(&self) -> bool {
        self.folder.is_some()
    }

    /// True when the keystore file exists.
    pub fn exists(&self) -> bool {
        self.file.exists()
    }

    fn error(&self, reason: impl Into<String>) -> Error {
        Error::Keystore {
            path: self.file.clone(),
            reason: reason.into(),
        }
    }

    /// First start: a new random data key, wrapped under every key of the
    /// folder, written to a new keystore file. Refuses to overwrite one.
    pub fn initialize(&self) -> Result<Unlocked, Error> {
        if self.exists() {
            return Err(self.error("already exists; refusing to replace the data key"));
        }
        let rng = SystemRandom::new();
        let key = SealKey::generate(&rng).map_err(|_| self.error("no randomness"))?;
        let keys = self.write_for(key.raw(), &rng, DATA_FORMAT)?;
        Ok(Unlocked {
            key,
            keys,
            keystore: self.clone(),
            format: DATA_FORMAT,
        })
    }

    /// Unlocks another keystore file, given as its bytes, with this
    /// keystore's key folder (a snapshot's, to check it opens here). Writes
    /// nothing outside a private staging file that is removed again.
    pub(crate) fn unlock_copy(&self, bytes: &[u8]) -> Result<Unlocked, Error> {
        let dir = self.file.parent().unwrap_or_else(|| Path::new("."));
        let staged = dir.join(".keystore.json.check");
        std::fs::write(&staged, bytes)
            .map_err(|e| self.error(format!("cannot stage a copy: {e}")))?;
        let result = Keystore::new(&staged, self.folder.clone()).unlock();
        let _ = std::fs::remove_file(&staged);
        result
    }

    /// Reads the keystore and the key folder and unwraps the data key with any
    /// key of the folder. Writes nothing, except to protect a data key that was
    /// stored unprotected once a key folder is configured.
    pub fn unlock(&self) -> Result<Unlocked, Error> {
        let file = self.read_file()?;
        let format = file.format;
        let unprotected = match &file.unprotected {
            Some(b64) => Some(self.decode_unprotected(b64)?),
            None => None,
        };
        let Some(folder_path) = &self.folder else {
            let key = unprotected.ok_or_else(|| {
                self.error(
                    "the data key is protected by a key folder, but none is configured; \
                     start the server with --encryption-keyfolder",
                )
            })?;
            return Ok(Unlocked {
                key,
                keys: Vec::new(),
                keystore: self.clone(),
                format,
            });
        };
        let folder = KeyFolder::read(folder_path)?;
        if let Some(key) = unprotected {
            // A key folder was added to a store that had none: protect the key now.
            let keys = self.write_for(key.raw(), &SystemRandom::new(), format)?;
            return Ok(Unlocked {
                key,
                keys,
                keystore: self.clone(),
                format,
            });
        }
        for user_key in folder.keys() {
            let Some(entry) = file
                .wrapped
                .iter()
                .find(|w| w.sha256 == user_key.hash().as_str())
            else {
                continue;
            };
            let sealed = STANDARD
                .decode(&entry.sealed)
                .map_err(|_| self.error("holds a wrapped key that is not base64"))?;
            let wrapper = SealKey::from_bytes(user_key.bytes());
            let aad = format!("{WRAP_AAD}{}", user_key.hash());
            let raw = wrapper.open(aad.as_bytes(), &sealed).ok_or_else(|| {
                self.error(format!(
                    "the copy wrapped by key {} is damaged",
                    user_key.hash()
                ))
            })?;
            let raw: Zeroizing<[u8; KEY_LEN]> = Zeroizing::new(
                raw.as_slice()
                    .try_into()
                    .map_err(|_| self.error("holds a data key of the wrong length"))?,
            );
            let mut keys: Vec<KeyHash> = file
                .wrapped
                .iter()
                .filter_map(|w| KeyHash::from_hex(&w.sha256))
                .collect();
            keys.sort();
            return Ok(Unlocked {
                key: SealKey::from_bytes(&raw),
                keys,
                keystore: self.clone(),
                format,
            });
        }
        let expected: Vec<&str> = file.wrapped.iter().map(|w| w.sha256.as_str()).collect();
        Err(Error::WrongKey {
            folder: folder.path().to_path_buf(),
            found: folder.keys().len(),
            expected: expected.join(", "),
        })
    }

    /// Wraps `raw` under every key now in the folder and replaces the file.
    pub(crate) fn rewrap(&self, raw: &[u8; KEY_LEN]) -> Result<Vec<KeyHash>, Error> {
        if self.folder.is_none() {
            return Err(Error::KeyFolder {
                folder: PathBuf::new(),
                reason: "no key folder is configured".into(),
            });
        }
        let format = self.read_file()?.format;
        self.write_for(raw, &SystemRandom::new(), format)
    }

    /// Reads and parses the file, and refuses a data dir in a format this
    /// keyward does not read, before any key is used.
    fn read_file(&self) -> Result<KeystoreFile, Error> {
        let text =
            std::fs::read(&self.file).map_err(|e| self.error(format!("cannot be read: {e}")))?;
        let file: KeystoreFile = serde_json::from_slice(&text)
            .map_err(|e| self.error(format!("is not a keyward keystore: {e}")))?;
        let dir = self.file.parent().unwrap_or(Path::new("."));
        check_readable(&format!("the data dir {}", dir.display()), file.format)?;
        Ok(file)
    }

    /// The data dir's format as the file gives it (the fence), checked.
    pub fn format(&self) -> Result<u32, Error> {
        Ok(self.read_file()?.format)
    }

    /// Raises the fence to `format` (never lowers it): from now on a keyward
    /// that reads only older formats refuses the data dir. Atomic.
    pub(crate) fn raise_format(&self, format: u32) -> Result<(), Error> {
        let mut file = self.read_file()?;
        if file.format >= format {
            return Ok(());
        }
        file.format = format;
        let text = serde_json::to_vec_pretty(&file).map_err(|e| self.error(e.to_string()))?;
        write_atomically(&self.file, &text)
            .map_err(|e| self.error(format!("cannot be written: {e}")))
    }

    fn decode_unprotected(&self, b64: &str) -> Result<SealKey, Error> {
        let raw = Zeroizing::new(
            STANDARD
                .decode(b64)
                .map_err(|_| self.error("holds a data key that is not base64"))?,
        );
        let raw: &[u8; KEY_LEN] = raw
            .as_slice()
            .try_into()
            .map_err(|_| self.error("holds a data key of the wrong length"))?;
        Ok(SealKey::from_bytes(raw))
    }

    fn write_for(
        &self,
        raw: &[u8; KEY_LEN],
        rng: &SystemRandom,
        format: u32,
    ) -> Result<Vec<KeyHash>, Error> {
        let (file, hashes) = match &self.folder {
            None => (
                KeystoreFile {
                    format,
                    wrapped: Vec::new(),
                    unprotected: Some(STANDARD.encode(raw)),
                },
                Vec::new(),
            ),
            Some(folder) => {
                let folder = KeyFolder::read(folder)?;
                let mut wrapped = Vec::new();
                for user_key in folder.keys() {
                    let wrapper = SealKey::from_bytes(user_key.bytes());
                    let aad = format!("{WRAP_AAD}{}", user_key.hash());
                    let sealed = wrapper
                        .seal(rng, aad.as_bytes(), raw)
                        .map_err(|_| self.error("no randomness"))?;
                    wrapped.push(WrappedKey {
                        sha256: user_key.hash().to_string(),
                        sealed: STANDARD.encode(sealed),
                    });
                }
                (
                    KeystoreFile {
                        format,
                        wrapped,
                        unprotected: None,
                    },
                    folder.hashes(),
                )
            }
        };
        let text = serde_json::to_vec_pretty(&file).map_err(|e| self.error(e.to_string()))?;
        write_atomically(&self.file, &text)
            .map_err(|e| self.error(format!("cannot be written: {e}")))?;
        Ok(hashes)
    }
}

/// Replaces `path` with `bytes` so that a crash leaves either the old or the new file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder_with(dir: &Path, keys: &[(&str, u8)]) -> PathBuf {
        let folder = dir.join("keys");
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        for (name, byte) in keys {
            std::fs::write(folder.join(name), [*byte; 32]).unwrap();
        }
        folder
    }

    #[test]
    fn any_folder_key_unlocks_and_wrong_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let folder = folder_with(dir.path(), &[("a", 1), ("b", 2)]);
        let ks = Keystore::new(dir.path().join("keystore.json"), Some(folder.clone()));
        let first = ks.initialize().unwrap();
        assert_eq!(first.key_hashes().len(), 2);
        let raw = *first.key.raw();

        folder_with(dir.path(), &[("b", 2)]);
        assert_eq!(ks.unlock().unwrap().key.raw(), &raw);

        folder_with(dir.path(), &[("c", 3)]);
        let before = std::fs::read(ks.file()).unwrap();
        let err = ks.unlock().unwrap_err();
        assert!(matches!(err, Error::WrongKey { found: 1, .. }), "{err}");
        assert!(err.to_string().contains(folder.to_str().unwrap()));
        assert_eq!(
            std::fs::read(ks.file()).unwrap(),
            before,
            "a refused start writes nothing"
        );
    }

    #[test]
    fn rewrap_drops_removed_keys() {
        let dir = tempfile::tempdir().unwrap();
        let folder = folder_with(dir.path(), &[("a", 1)]);
        let ks = Keystore::new(dir.path().join("keystore.json"), Some(folder));
        let unlocked = ks.initialize().unwrap();
        let raw = *unlocked.key.raw();
        folder_with(dir.path(), &[("b", 2)]);
        // Key "a" is gone from the folder, but rotation needs only the data key.
        let hashes = ks.rewrap(&raw).unwrap();
        assert_eq!(hashes, vec![KeyHash::of(&[2u8; 32])]);
        assert_eq!(ks.unlock().unwrap().key.raw(), &raw);
        folder_with(dir.path(), &[("a", 1)]);
        assert!(matches!(ks.unlock(), Err(Error::WrongKey { .. })));
    }

    #[test]
    fn unprotected_store_is_protected_once_a_folder_appears() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keystore.json");
        let raw = *Keystore::new(&file, None).initialize().unwrap().key.raw();
        let folder = folder_with(dir.path(), &[("a", 1)]);
        let protected = Keystore::new(&file, Some(folder)).unlock().unwrap();
        assert_eq!(protected.key.raw(), &raw);
        assert_eq!(protected.key_hashes().len(), 1);
        let err = Keystore::new(&file, None).unlock().unwrap_err().to_string();
        assert!(err.contains("--encryption-keyfolder"), "{err}");
    }

    #[test]
    fn initialize_refuses_to_replace() {
        let dir = tempfile::tempdir().unwrap();
        let ks = Keystore::new(dir.path().join("keystore.json"), None);
        ks.initialize().unwrap();
        assert!(ks.initialize().is_err());
    }
}

#[cfg(test)]
mod format_tests {
    use super::*;

    #[test]
    fn the_format_fence_is_kept_raised_and_a_newer_one_refused_before_any_key_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("keys");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("k"), [4u8; 32]).unwrap();
        let file = dir.path().join("keystore.json");
        let ks = Keystore::new(&file, Some(folder.clone()));
        assert_eq!(ks.initialize().unwrap().format(), DATA_FORMAT);

        // A format-1 file (as every keyward before numbered formats wrote it)
        // opens, keeps its format through a re-wrap, and is raised on demand.
        let text = std::fs::read_to_string(&file).unwrap();
        let v1 = text.replace(&format!("\"format\": {DATA_FORMAT}"), "\"format\": 1");
        std::fs::write(&file, &v1).unwrap();
        let unlocked = ks.unlock().unwrap();
        assert_eq!(unlocked.format(), 1);
        ks.rewrap(unlocked.key.raw()).unwrap();
        assert_eq!(ks.format().unwrap(), 1);
        ks.raise_format(DATA_FORMAT).unwrap();
        assert_eq!(ks.format().unwrap(), DATA_FORMAT);
        ks.raise_format(1).unwrap();
        assert_eq!(ks.format().unwrap(), DATA_FORMAT, "never lowered");

        // A newer format is refused even with no key folder at all.
        let newer = std::fs::read_to_string(&file).unwrap().replace(
            &format!("\"format\": {DATA_FORMAT}"),
            &format!("\"format\": {}", DATA_FORMAT + 1),
        );
        std::fs::write(&file, &newer).unwrap();
        for ks in [
            Keystore::new(&file, Some(folder.clone())),
            Keystore::new(&file, None),
        ] {
            let e = ks.unlock().unwrap_err();
            assert!(
                matches!(e, Error::NewerFormat { found, .. } if found == DATA_FORMAT + 1),
                "{e}"
            );
            assert!(
                e.to_string().contains(&dir.path().display().to_string()),
                "{e}"
            );
        }
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            newer,
            "nothing written"
        );
    }
}
