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
}

/// Names Vault knows that this engine does not create yet: the encrypt
/// upsert refuses the ECDSA ones with its own text.
const ECDSA_NAMES: [&str; 3] = ["ecdsa-p256", "ecdsa-p384", "ecdsa-p521"];

impl KeyType {
    /// Every type this engine serves.
    pub const ALL: [KeyType; 4] = [
        KeyType::Aes128Gcm96,
        KeyType::Aes256Gcm96,
        KeyType::ChaCha20Poly1305,
        KeyType::Hmac,
    ];

    /// Vault's name of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Aes128Gcm96 => "aes128-gcm96",
            KeyType::Aes256Gcm96 => "aes256-gcm96",
            KeyType::ChaCha20Poly1305 => "chacha20-poly1305",
            KeyType::Hmac => "hmac",
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
        if ECDSA_NAMES.contains(&name) {
            return Err(Error::KeyTypeNotForUpsert(name.to_string()));
        }
        match KeyType::parse(name)? {
            KeyType::Hmac => Err(Error::UnknownKeyType(name.to_string())),
            t => Ok(t),
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
        }
    }

    /// The type of a backup blob's number.
    pub fn from_storage_id(id: u32) -> Option<KeyType> {
        KeyType::ALL.into_iter().find(|t| t.storage_id() == id)
    }

    /// Can encrypt.
    pub fn supports_encryption(self) -> bool {
        self.aead().is_some()
    }

    /// Can decrypt.
    pub fn supports_decryption(self) -> bool {
        self.aead().is_some()
    }

    /// Can sign (none of today's types).
    pub fn supports_signing(self) -> bool {
        false
    }

    /// Can derive per-context keys.
    pub fn supports_derivation(self) -> bool {
        self.aead().is_some()
    }

    /// Takes associated data.
    pub fn supports_associated_data(self) -> bool {
        self.aead().is_some()
    }

    /// The AEAD of an encryption type.
    pub(crate) fn aead(self) -> Option<Aead> {
        match self {
            KeyType::Aes128Gcm96 => Some(Aead::Aes128Gcm),
            KeyType::Aes256Gcm96 => Some(Aead::Aes256Gcm),
            KeyType::ChaCha20Poly1305 => Some(Aead::ChaCha20Poly1305),
            KeyType::Hmac => None,
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
            KeyType::parse("ed25519").unwrap_err().to_string(),
            "unknown key type ed25519"
        );
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
        assert_eq!(
            KeyType::parse_for_upsert("chacha20-poly1305").unwrap(),
            KeyType::ChaCha20Poly1305
        );
    }
}
