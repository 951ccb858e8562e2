//! Key material in memory: wiped on drop, never printed.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::gobase64;

/// Secret bytes (a key, an HMAC key). `Debug` prints `[REDACTED]`; the
/// memory is zeroed when the value is dropped. Serialized as base64, for
/// the encrypted store only.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Takes ownership of `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretBytes(Zeroizing::new(bytes))
    }

    /// `len` bytes from the system random source.
    pub fn random(len: usize) -> Result<Self, crate::Error> {
        let mut bytes = Zeroizing::new(vec![0u8; len]);
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
            .map_err(|_| crate::Error::Randomness)?;
        Ok(SecretBytes(bytes))
    }

    /// The bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl Serialize for SecretBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = Zeroizing::new(gobase64::encode(&self.0));
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for SecretBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(d)?);
        gobase64::decode(&text)
            .map(SecretBytes::new)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::SecretBytes;

    #[test]
    fn debug_is_redacted_and_serde_round_trips() {
        let s = SecretBytes::new(b"very secret".to_vec());
        assert_eq!(format!("{s:?}"), "[REDACTED]");
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, "\"dmVyeSBzZWNyZXQ=\"");
        let back: SecretBytes = serde_json::from_str(&json).unwrap();
        assert_eq!(back.expose(), b"very secret");
    }
}
