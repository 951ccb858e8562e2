//! Key types, their names, their storage numbers and what each can do.

use std::fmt;

use crate::Error;

/// A transit key type. Issue 4 adds the asymmetric types (ed25519, ECDSA,
/// RSA) as further variants; everything that depends on the type matches on
/// this enum, so the compiler lists every place a new type must be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum KeyType {
    /// AES-128 in GCM mode with a 96-bit nonce.
    Aes128Gcm96,
    /// AES-256 in GCM mode with a 96-bit nonce (the default).
    Aes256Gcm96,
    /// ChaCha20-Poly1305.
    ChaCha20Poly1305,
    /// An HMAC-only key of 32..=512 bytes.
    Hmac,
    /// Ed25519 signing (optionally with per-context derived keys).
    Ed25519,
    /// ECDSA on NIST P-256.
    EcdsaP256,
    /// ECDSA on NIST P-384.
    EcdsaP384,
    /// ECDSA on NIST P-521.
    EcdsaP521,
    /// RSA with a 2048-bit modulus: PSS / PKCS#1 v1.5 signatures, OAEP encryption.
    Rsa2048,
    /// RSA with a 3072-bit modulus.
    Rsa3072,
    /// RSA with a 4096-bit modulus.
    Rsa4096,
}

/// The kind of key material behind a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Algorithm {
    /// An AEAD key.
    Aead(Aead),
    /// An HMAC key of variable length.
    Hmac,
    /// Ed25519.
    Ed25519,
    /// ECDSA on a NIST curve.
    Ecdsa(Curve),
    /// RSA with a modulus of this many bits.
    Rsa(RsaBits),
}

/// The NIST curves of the ECDSA types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Curve {
    /// P-256.
    P256,
    /// P-384.
    P384,
    /// P-521.
    P521,
}

impl Curve {
    /// Go's name of the curve (`P-256`), as Vault writes it.
    pub fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }

    /// Bytes of a scalar or coordinate (32, 48, 66).
    pub fn field_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::P521 => 66,
        }
    }

    /// Bits of the group order (256, 384, 521).
    pub fn order_bits(self) -> usize {
        match self {
            Curve::P256 => 256,
            Curve::P384 => 384,
            Curve::P521 => 521,
        }
    }
}

/// RSA modulus sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RsaBits {
    /// 2048 bits.
    B2048,
    /// 3072 bits.
    B3072,
    /// 4096 bits.
    B4096,
}

impl RsaBits {
    /// The modulus size in bytes (256, 384, 512).
    pub fn bytes(self) -> usize {
        match self {
            RsaBits::B2048 => 256,
            RsaBits::B3072 => 384,
            RsaBits::B4096 => 512,
        }
    }
}

impl KeyType {
    /// Every type this engine serves.
    pub const ALL: [KeyType; 11] = [
        KeyType::Aes128Gcm96,
        KeyType::Aes256Gcm96,
        KeyType::ChaCha20Poly1305,
        KeyType::Hmac,
        KeyType::Ed25519,
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::EcdsaP521,
        KeyType::Rsa2048,
        KeyType::Rsa3072,
        KeyType::Rsa4096,
    ];

    /// Vault's name of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Aes128Gcm96 => "aes128-gcm96",
            KeyType::Aes256Gcm96 => "aes256-gcm96",
            KeyType::ChaCha20Poly1305 => "chacha20-poly1305",
            KeyType::Hmac => "hmac",
            KeyType::Ed25519 => "ed25519",
            KeyType::EcdsaP256 => "ecdsa-p256",
            KeyType::EcdsaP384 => "ecdsa-p384",
            KeyType::EcdsaP521 => "ecdsa-p521",
            KeyType::Rsa2048 => "rsa-2048",
            KeyType::Rsa3072 => "rsa-3072",
            KeyType::Rsa4096 => "rsa-4096",
        }
    }

    /// The kind of material behind the type.
    pub(crate) fn algorithm(self) -> Algorithm {
        match self {
            KeyType::Aes128Gcm96 => Algorithm::Aead(Aead::Aes128Gcm),
            KeyType::Aes256Gcm96 => Algorithm::Aead(Aead::Aes256Gcm),
            KeyType::ChaCha20Poly1305 => Algorithm::Aead(Aead::ChaCha20Poly1305),
            KeyType::Hmac => Algorithm::Hmac,
            KeyType::Ed25519 => Algorithm::Ed25519,
            KeyType::EcdsaP256 => Algorithm::Ecdsa(Curve::P256),
            KeyType::EcdsaP384 => Algorithm::Ecdsa(Curve::P384),
            KeyType::EcdsaP521 => Algorithm::Ecdsa(Curve::P521),
            KeyType::Rsa2048 => Algorithm::Rsa(RsaBits::B2048),
            KeyType::Rsa3072 => Algorithm::Rsa(RsaBits::B3072),
            KeyType::Rsa4096 => Algorithm::Rsa(RsaBits::B4096),
        }
    }

    /// True for the asymmetric (signing) types.
    pub fn is_asymmetric(self) -> bool {
        self.supports_signing()
    }

    /// True for RSA types (whose key generation is slow enough to belong
    /// on a blocking thread).
    pub fn is_rsa(self) -> bool {
        matches!(self.algorithm(), Algorithm::Rsa(_))
    }

    /// The name Vault gives one version's key in a read answer (`P-256`,
    /// `ed25519`, `rsa-2048`).
    pub fn version_key_name(self) -> &'static str {
        match self.algorithm() {
            Algorithm::Ecdsa(c) => c.name(),
            _ => self.as_str(),
        }
    }

    /// The type named `name` (`create` and `restore`).
    pub fn parse(name: &str) -> Result<KeyType, Error> {
        KeyType::ALL
            .into_iter()
            .find(|t| t.as_str() == name)
            .ok_or_else(|| Error::UnknownKeyType(name.to_string()))
    }

    /// The type the encrypt upsert may create: only encryption types.
    pub fn parse_for_upsert(name: &str) -> Result<KeyType, Error> {
        match KeyType::parse(name) {
            Ok(t) if t.aead().is_some() => Ok(t),
            Ok(t) if matches!(t.algorithm(), Algorithm::Ecdsa(_)) => {
                Err(Error::KeyTypeNotForUpsert(name.to_string()))
            }
            _ => Err(Error::UnknownKeyType(name.to_string())),
        }
    }

    /// The number in a backup blob: OpenBao's `KeyType` enum (Vault numbers
    /// `hmac` differently, 11; OpenBao's 10 is the one kept).
    pub fn storage_id(self) -> u32 {
        match self {
            KeyType::Aes256Gcm96 => 0,
            KeyType::ChaCha20Poly1305 => 5,
            KeyType::Aes128Gcm96 => 8,
            KeyType::Hmac => 10,
            KeyType::EcdsaP256 => 1,
            KeyType::Ed25519 => 2,
            KeyType::Rsa2048 => 3,
            KeyType::Rsa4096 => 4,
            KeyType::EcdsaP384 => 6,
            KeyType::EcdsaP521 => 7,
            KeyType::Rsa3072 => 9,
        }
    }

    /// The type of a backup blob's number.
    pub fn from_storage_id(id: u32) -> Option<KeyType> {
        KeyType::ALL.into_iter().find(|t| t.storage_id() == id)
    }

    /// Can encrypt (AEAD types and RSA).
    pub fn supports_encryption(self) -> bool {
        self.aead().is_some() || self.is_rsa()
    }

    /// Can decrypt (AEAD types and RSA).
    pub fn supports_decryption(self) -> bool {
        self.supports_encryption()
    }

    /// Can sign: ed25519, ECDSA, RSA.
    pub fn supports_signing(self) -> bool {
        matches!(
            self.algorithm(),
            Algorithm::Ed25519 | Algorithm::Ecdsa(_) | Algorithm::Rsa(_)
        )
    }

    /// Can derive per-context keys (AEAD types and ed25519).
    pub fn supports_derivation(self) -> bool {
        self.aead().is_some() || self == KeyType::Ed25519
    }

    /// Signing hashes the input first (ECDSA and RSA; ed25519 signs the
    /// message itself).
    pub fn hashes_signature_input(self) -> bool {
        matches!(self.algorithm(), Algorithm::Ecdsa(_) | Algorithm::Rsa(_))
    }

    /// Takes associated data.
    pub fn supports_associated_data(self) -> bool {
        self.aead().is_some()
    }

    /// The AEAD of an encryption type.
    pub(crate) fn aead(self) -> Option<Aead> {
        match self.algorithm() {
            Algorithm::Aead(a) => Some(a),
            _ => None,
        }
    }
}

impl TryFrom<String> for KeyType {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        KeyType::parse(&s)
    }
}

impl From<KeyType> for &'static str {
    fn from(t: KeyType) -> &'static str {
        t.as_str()
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The AEAD ciphers behind the encryption types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Aead {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
}

impl Aead {
    /// Key length in bytes.
    pub(crate) fn key_len(self) -> usize {
        match self {
            Aead::Aes128Gcm => 16,
            Aead::Aes256Gcm | Aead::ChaCha20Poly1305 => 32,
        }
    }

    pub(crate) fn algorithm(self) -> &'static ring::aead::Algorithm {
        match self {
            Aead::Aes128Gcm => &ring::aead::AES_128_GCM,
            Aead::Aes256Gcm => &ring::aead::AES_256_GCM,
            Aead::ChaCha20Poly1305 => &ring::aead::CHACHA20_POLY1305,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_round_trip() {
        for t in KeyType::ALL {
            assert_eq!(KeyType::parse(t.as_str()).unwrap(), t);
            assert_eq!(KeyType::from_storage_id(t.storage_id()), Some(t));
        }
        assert_eq!(
            KeyType::parse("ed448").unwrap_err().to_string(),
            "unknown key type ed448"
        );
        assert!(KeyType::Rsa3072.supports_encryption() && KeyType::Rsa3072.supports_signing());
        assert!(
            !KeyType::EcdsaP256.supports_derivation() && KeyType::Ed25519.supports_derivation()
        );
        assert_eq!(KeyType::EcdsaP384.version_key_name(), "P-384");
    }

    #[test]
    fn upsert_types() {
        assert_eq!(
            KeyType::parse_for_upsert("ecdsa-p256")
                .unwrap_err()
                .to_string(),
            "key type ecdsa-p256 not supported for this operation"
        );
        assert_eq!(
            KeyType::parse_for_upsert("hmac").unwrap_err().to_string(),
            "unknown key type hmac"
        );
        for t in ["ed25519", "rsa-2048"] {
            assert_eq!(
                KeyType::parse_for_upsert(t).unwrap_err().to_string(),
                format!("unknown key type {t}")
            );
        }
        assert_eq!(
            KeyType::parse_for_upsert("chacha20-poly1305").unwrap(),
            KeyType::ChaCha20Poly1305
        );
    }
}
