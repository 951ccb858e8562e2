//! AES-256-GCM sealing with a random nonce, the one cipher of the barrier.
//!
//! Layout of a sealed value: `nonce (12) || ciphertext || tag (16)`.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::{Zeroize, Zeroizing};

pub(crate) const KEY_LEN: usize = 32;
pub(crate) const OVERHEAD: usize = NONCE_LEN + 16;

/// A 256-bit AES-GCM key. The raw bytes are zeroized on drop and never printed.
pub(crate) struct SealKey {
    key: LessSafeKey,
    raw: Zeroizing<[u8; KEY_LEN]>,
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey([REDACTED])")
    }
}

impl SealKey {
    pub(crate) fn from_bytes(bytes: &[u8; KEY_LEN]) -> Self {
        let unbound =
            UnboundKey::new(&AES_256_GCM, bytes).expect("32 bytes is a valid AES-256 key");
        SealKey {
            key: LessSafeKey::new(unbound),
            raw: Zeroizing::new(*bytes),
        }
    }

    pub(crate) fn generate(rng: &SystemRandom) -> Result<Self, ring::error::Unspecified> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        rng.fill(bytes.as_mut())?;
        Ok(Self::from_bytes(&bytes))
    }

    /// True when both are the same key, compared in constant time.
    pub(crate) fn same_as(&self, other: &SealKey) -> bool {
        use subtle::ConstantTimeEq;
        self.raw().ct_eq(other.raw()).into()
    }

    pub(crate) fn raw(&self) -> &[u8; KEY_LEN] {
        &self.raw
    }

    /// Seals `plaintext` with `aad` under a fresh random nonce.
    pub(crate) fn seal(
        &self,
        rng: &SystemRandom,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, ring::error::Unspecified> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill(&mut nonce)?;
        let mut out = Vec::with_capacity(OVERHEAD + plaintext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = self.key.seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut out[NONCE_LEN..],
        )?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Opens a value sealed by [`SealKey::seal`] with the same `aad`.
    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() < OVERHEAD {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = Zeroizing::new(body.to_vec());
        let len = self
            .key
            .open_in_place(nonce, Aad::from(aad), buf.as_mut_slice())
            .ok()?
            .len();
        buf.truncate(len);
        Some(buf)
    }
}

impl Drop for SealKey {
    fn drop(&mut self) {
        self.raw.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_aad_binding() {
        let rng = SystemRandom::new();
        let key = SealKey::generate(&rng).unwrap();
        let sealed = key.seal(&rng, b"path/a", b"hello").unwrap();
        assert_eq!(sealed.len(), OVERHEAD + 5);
        assert_eq!(&key.open(b"path/a", &sealed).unwrap()[..], b"hello");
        assert!(
            key.open(b"path/b", &sealed).is_none(),
            "moved value must not open"
        );
        let mut tampered = sealed.clone();
        tampered[14] ^= 1;
        assert!(key.open(b"path/a", &tampered).is_none());
        assert!(key.open(b"path/a", &sealed[..10]).is_none());
    }

    #[test]
    fn debug_is_redacted() {
        let key = SealKey::from_bytes(&[7u8; 32]);
        assert_eq!(format!("{key:?}"), "SealKey([REDACTED])");
    }
}
