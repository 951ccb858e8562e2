//! What one key version holds.

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::asym::AsymmetricKey;
use crate::{Error, KeyType, SecretBytes, gobase64};

/// The key material of one version, by kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "bytes", rename_all = "snake_case")]
pub enum KeyMaterial {
    /// Raw bytes: an AES or ChaCha20 key, or the key of an `hmac` key.
    Symmetric(SecretBytes),
    /// An ed25519, ECDSA or RSA key pair, or a public key alone.
    Asymmetric(Asym),
}

/// A shared, parsed asymmetric key (parsed once when the policy is read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asym(pub Arc<AsymmetricKey>);

#[derive(Serialize, Deserialize)]
struct AsymStored {
    #[serde(rename = "type")]
    key_type: KeyType,
    private: Option<SecretBytes>,
    public: String,
}

impl Serialize for Asym {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let parts = self.0.stored();
        AsymStored {
            key_type: self.0.key_type(),
            private: parts.private,
            public: gobase64::encode(&parts.public),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Asym {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let stored = AsymStored::deserialize(d)?;
        let public = gobase64::decode(&stored.public).map_err(serde::de::Error::custom)?;
        AsymmetricKey::from_parts(
            stored.key_type,
            stored.private.as_ref().map(|p| p.expose()),
            &public,
        )
        .map(|k| Asym(Arc::new(k)))
        .map_err(serde::de::Error::custom)
    }
}

/// Symmetric key bytes every caller of a non-symmetric key gets: none.
static NO_BYTES: std::sync::LazyLock<SecretBytes> =
    std::sync::LazyLock::new(|| SecretBytes::new(Vec::new()));

impl KeyMaterial {
    /// The raw bytes of a symmetric key (empty for an asymmetric key).
    pub fn symmetric(&self) -> &SecretBytes {
        match self {
            KeyMaterial::Symmetric(bytes) => bytes,
            KeyMaterial::Asymmetric(_) => &NO_BYTES,
        }
    }

    /// The asymmetric key, if this is one.
    pub fn asymmetric(&self) -> Option<&AsymmetricKey> {
        match self {
            KeyMaterial::Asymmetric(a) => Some(&a.0),
            KeyMaterial::Symmetric(_) => None,
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
    /// The certificate chain attached with `set-certificate` (signing
    /// keys): DER certificates, the leaf first. Public data.
    #[serde(default, skip_serializing_if = "CertificateChain::is_empty")]
    pub certificate_chain: CertificateChain,
}

/// DER certificates, the leaf (whose key is this version's) first; stored
/// and backed up as base64 strings, as Vault's `[][]byte`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateChain(pub Vec<Vec<u8>>);

impl CertificateChain {
    /// No certificate attached.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The chain as Vault shows it on key read and export: each
    /// certificate as PEM, trimmed, joined by `\n` (`""` without one).
    pub fn pem(&self) -> String {
        self.0
            .iter()
            .map(|der| crate::der_lite::pem("CERTIFICATE", der).trim().to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Serialize for CertificateChain {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|der| gobase64::encode(der)))
    }
}

impl<'de> Deserialize<'de> for CertificateChain {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let texts = Option::<Vec<String>>::deserialize(d)?.unwrap_or_default();
        texts
            .iter()
            .map(|t| gobase64::decode(t).map_err(serde::de::Error::custom))
            .collect::<Result<_, _>>()
            .map(CertificateChain)
    }
}

/// The convergent scheme every new version uses.
pub(crate) const CONVERGENT_VERSION: u8 = 3;

/// The size of every non-`hmac` version's HMAC key.
pub(crate) const HMAC_KEY_LEN: usize = 32;

impl VersionMaterial {
    /// Fresh random material for a new version of a key of `key_type`.
    /// `key_size` is the length of an `hmac` key (32..=512).
    /// RSA generation is slow: call it on a blocking thread.
    pub fn generate(key_type: KeyType, key_size: u32, convergent: bool) -> Result<Self, Error> {
        let (key, hmac_key) = if key_type.is_asymmetric() {
            (
                KeyMaterial::Asymmetric(Asym(Arc::new(AsymmetricKey::generate(key_type)?))),
                SecretBytes::random(HMAC_KEY_LEN)?,
            )
        } else if let Some(aead) = key_type.aead() {
            (
                KeyMaterial::Symmetric(SecretBytes::random(aead.key_len())?),
                SecretBytes::random(HMAC_KEY_LEN)?,
            )
        } else {
            if !(32..=512).contains(&key_size) {
                return Err(Error::HmacKeySizeMissing);
            }
            let key = SecretBytes::random(key_size as usize)?;
            (KeyMaterial::Symmetric(key.clone()), key)
        };
        Ok(VersionMaterial {
            key,
            hmac_key,
            convergent_version: if convergent { CONVERGENT_VERSION } else { 0 },
            certificate_chain: CertificateChain::default(),
        })
    }

    /// A version made of imported material, with a fresh HMAC key (for
    /// type `hmac`, the imported key is the HMAC key).
    pub(crate) fn imported(key_type: KeyType, key: KeyMaterial) -> Result<Self, Error> {
        let hmac_key = match (&key, key_type) {
            (KeyMaterial::Symmetric(k), KeyType::Hmac) => k.clone(),
            _ => SecretBytes::random(HMAC_KEY_LEN)?,
        };
        Ok(VersionMaterial {
            key,
            hmac_key,
            convergent_version: 0,
            certificate_chain: CertificateChain::default(),
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

    #[test]
    fn asymmetric_material_serde_round_trip() {
        for t in [KeyType::Ed25519, KeyType::EcdsaP521, KeyType::Rsa2048] {
            let m = VersionMaterial::generate(t, 0, false).unwrap();
            let json = serde_json::to_string(&m).unwrap();
            let back: VersionMaterial = serde_json::from_str(&json).unwrap();
            assert_eq!(m, back);
            assert!(back.key.asymmetric().unwrap().has_private());
            assert_eq!(back.hmac_key.len(), 32);
        }
    }
}
