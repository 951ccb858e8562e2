//! Vault's key derivation: HKDF-SHA256 with an empty salt and the context as
//! info (`hkdf_sha256`, every derived key Vault creates today), and the
//! legacy NIST SP 800-108 counter mode (`hmac-sha256-counter`) that keys from
//! very old Vaults carry and a backup may bring back.

use ring::hkdf;
use zeroize::Zeroizing;

/// A derivation function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kdf {
    /// NIST SP 800-108 counter mode with HMAC-SHA256 (Vault's `kdf: 0`).
    HmacSha256Counter,
    /// HKDF-SHA256 (Vault's `kdf: 1`).
    HkdfSha256,
}

impl Kdf {
    /// The number in a Vault backup.
    pub fn storage_id(self) -> u32 {
        match self {
            Kdf::HmacSha256Counter => 0,
            Kdf::HkdfSha256 => 1,
        }
    }

    /// The KDF of a backup's number.
    pub fn from_storage_id(id: u32) -> Option<Kdf> {
        match id {
            0 => Some(Kdf::HmacSha256Counter),
            1 => Some(Kdf::HkdfSha256),
            _ => None,
        }
    }

    /// The name in a read-key answer.
    pub fn as_str(self) -> &'static str {
        match self {
            Kdf::HmacSha256Counter => "hmac-sha256-counter",
            Kdf::HkdfSha256 => "hkdf_sha256",
        }
    }

    /// `len` bytes derived from `ikm` for `context`. Counter mode always
    /// yields 32 bytes (one round), as in Vault; shorter keys use its prefix.
    pub(crate) fn derive(self, ikm: &[u8], context: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
        match self {
            Kdf::HkdfSha256 => hkdf_sha256(ikm, context, len),
            Kdf::HmacSha256Counter => {
                let mut input = Vec::with_capacity(8 + context.len());
                input.extend_from_slice(&0u32.to_be_bytes());
                input.extend_from_slice(context);
                input.extend_from_slice(&256u32.to_be_bytes());
                let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, ikm);
                let tag = ring::hmac::sign(&key, &input);
                Zeroizing::new(tag.as_ref()[..len.min(32)].to_vec())
            }
        }
    }
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-SHA256 (RFC 5869), empty salt, `info` = context: the first `len`
/// bytes of the output stream.
fn hkdf_sha256(ikm: &[u8], context: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(vec![0u8; len]);
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &[]).extract(ikm);
    let info = [context];
    // The lengths asked for (16..=64 bytes) are far below HKDF's limit of
    // 255 * 32 bytes, so expand and fill cannot fail.
    if let Ok(okm) = prk.expand(&info, Len(len)) {
        let _ = okm.fill(&mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_vector() {
        // spec §17: key bytes 0x00..0x1f, context "my-context".
        let ikm: Vec<u8> = (0u8..32).collect();
        let k = Kdf::HkdfSha256.derive(&ikm, b"my-context", 32);
        assert_eq!(
            hex::encode(&k[..]),
            "4a10e0dd7750402d5d67a8babd31aaaceee6a194780140dcb6bf3bcc29da533d"
        );
        // HKDF is a stream: the 64-byte output starts with the 32-byte one.
        let long = Kdf::HkdfSha256.derive(&ikm, b"my-context", 64);
        assert_eq!(&long[..32], &k[..]);
    }

    #[test]
    fn rfc5869_case_3() {
        // RFC 5869 test case 3: empty salt, empty info.
        let ikm = [0x0bu8; 22];
        let okm = hkdf_sha256(&ikm, b"", 42);
        assert_eq!(
            hex::encode(&okm[..]),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
        );
    }
}
