//! What one key version holds.

use serde::{Deserialize, Serialize};

use crate::{Error, KeyType, SecretBytes};

/// The key material of one version, by kind. Issue 4's asymmetric types
/// (ed25519 seed, ECDSA scalar, RSA private key) arrive as further variants;
/// the backup format already leaves room for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "bytes", rename_all = "snake_case")]
pub enum KeyMaterial {
    /// Raw bytes: an AES or ChaCha20 key, or the key of an `hmac` key.
    Symmetric(SecretBytes),
}

impl KeyMaterial {
    /// The raw bytes of a symmetric key.
    pub fn symmetric(&self) -> &SecretBytes {
        match self {
            KeyMaterial::Symmetric(bytes) => bytes,
        }
    }
}

/// One version: its key, its own HMAC key (every version of every type has
/// one, as in Vault), and the convergent scheme it encrypts with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionMaterial {
    /// The key.
    pub key: KeyMaterial,
    /// The HMAC key of this version (for type `hmac`, the key itself).
    pub hmac_key: SecretBytes,
    /// Convergent encryption scheme of this version: 0 for none, 3 today.
    #[serde(default)]
    pub convergent_version: u8,
}

/// The convergent scheme every new version uses.
pub(crate) const CONVERGENT_VERSION: u8 = 3;

/// The size of every non-`hmac` version's HMAC key.
pub(crate) const HMAC_KEY_LEN: usize = 32;

impl VersionMaterial {
    /// Fresh random material for a new version of a key of `key_type`.
    /// `key_size` is the length of an `hmac` key (32..=512).
    pub fn generate(key_type: KeyType, key_size: u32, convergent: bool) -> Result<Self, Error> {
        let (key, hmac_key) = match key_type.aead() {
            Some(aead) => (
                SecretBytes::random(aead.key_len())?,
                SecretBytes::random(HMAC_KEY_LEN)?,
            ),
            None => {
                if !(32..=512).contains(&key_size) {
                    return Err(Error::HmacKeySizeMissing);
                }
                let key = SecretBytes::random(key_size as usize)?;
                (key.clone(), key)
            }
        };
        Ok(VersionMaterial {
            key: KeyMaterial::Symmetric(key),
            hmac_key,
            convergent_version: if convergent { CONVERGENT_VERSION } else { 0 },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_per_type() {
        let m = VersionMaterial::generate(KeyType::Aes128Gcm96, 0, false).unwrap();
        assert_eq!(m.key.symmetric().len(), 16);
        assert_eq!(m.hmac_key.len(), 32);
        assert_eq!(m.convergent_version, 0);
        let m = VersionMaterial::generate(KeyType::ChaCha20Poly1305, 0, true).unwrap();
        assert_eq!(m.key.symmetric().len(), 32);
        assert_eq!(m.convergent_version, 3);
        let m = VersionMaterial::generate(KeyType::Hmac, 64, false).unwrap();
        assert_eq!(m.key.symmetric().len(), 64);
        assert_eq!(m.hmac_key, *m.key.symmetric());
        assert_eq!(
            VersionMaterial::generate(KeyType::Hmac, 0, false).unwrap_err(),
            Error::HmacKeySizeMissing
        );
        let a = VersionMaterial::generate(KeyType::Aes256Gcm96, 0, false).unwrap();
        let b = VersionMaterial::generate(KeyType::Aes256Gcm96, 0, false).unwrap();
        assert_ne!(a.key, b.key);
        assert!(!format!("{a:?}").contains(&format!("{:?}", a.key.symmetric().expose())));
    }
}
