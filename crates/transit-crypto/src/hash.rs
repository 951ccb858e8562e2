//! Hash algorithms by Vault's names, for `hash`, `hmac` and HMAC verification.
//! SHA-1/256/384/512 come from ring; SHA-224 and SHA-3 from RustCrypto.

use hmac::{KeyInit, Mac};
use sha2::Digest;

use crate::{Error, gobase64};

/// A hash algorithm by its Vault name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    /// `sha1` (HMAC only, as in Vault).
    Sha1,
    /// `sha2-224`.
    Sha2_224,
    /// `sha2-256` (the default).
    Sha2_256,
    /// `sha2-384`.
    Sha2_384,
    /// `sha2-512`.
    Sha2_512,
    /// `sha3-224`.
    Sha3_224,
    /// `sha3-256`.
    Sha3_256,
    /// `sha3-384`.
    Sha3_384,
    /// `sha3-512`.
    Sha3_512,
}

impl HashAlgorithm {
    const NAMED: [(&'static str, HashAlgorithm); 9] = [
        ("sha1", HashAlgorithm::Sha1),
        ("sha2-224", HashAlgorithm::Sha2_224),
        ("sha2-256", HashAlgorithm::Sha2_256),
        ("sha2-384", HashAlgorithm::Sha2_384),
        ("sha2-512", HashAlgorithm::Sha2_512),
        ("sha3-224", HashAlgorithm::Sha3_224),
        ("sha3-256", HashAlgorithm::Sha3_256),
        ("sha3-384", HashAlgorithm::Sha3_384),
        ("sha3-512", HashAlgorithm::Sha3_512),
    ];

    /// Vault's name.
    pub fn as_str(self) -> &'static str {
        Self::NAMED
            .iter()
            .find(|(_, a)| *a == self)
            .map(|(n, _)| *n)
            .unwrap_or("sha2-256")
    }

    /// An algorithm for HMAC (SHA-1 included, as in Vault; `none` refused).
    pub fn for_hmac(name: &str) -> Result<HashAlgorithm, Error> {
        if name == "none" {
            return Err(Error::HmacAlgorithmNone);
        }
        Self::NAMED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| *a)
            .ok_or(Error::UnsupportedHmacAlgorithm)
    }

    /// An algorithm for the `hash` endpoint (no SHA-1).
    pub fn for_hash(name: &str) -> Result<HashAlgorithm, Error> {
        match Self::for_hmac(name) {
            Ok(HashAlgorithm::Sha1) | Err(_) => Err(Error::HashAlgorithm(name.to_string())),
            Ok(a) => Ok(a),
        }
    }

    /// Digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashAlgorithm::Sha1 => 20,
            HashAlgorithm::Sha2_224 | HashAlgorithm::Sha3_224 => 28,
            HashAlgorithm::Sha2_256 | HashAlgorithm::Sha3_256 => 32,
            HashAlgorithm::Sha2_384 | HashAlgorithm::Sha3_384 => 48,
            HashAlgorithm::Sha2_512 | HashAlgorithm::Sha3_512 => 64,
        }
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        use ring::digest as rd;
        match self {
            HashAlgorithm::Sha1 => rd::digest(&rd::SHA1_FOR_LEGACY_USE_ONLY, data)
                .as_ref()
                .to_vec(),
            HashAlgorithm::Sha2_224 => sha2::Sha224::digest(data).to_vec(),
            HashAlgorithm::Sha2_256 => rd::digest(&rd::SHA256, data).as_ref().to_vec(),
            HashAlgorithm::Sha2_384 => rd::digest(&rd::SHA384, data).as_ref().to_vec(),
            HashAlgorithm::Sha2_512 => rd::digest(&rd::SHA512, data).as_ref().to_vec(),
            HashAlgorithm::Sha3_224 => sha3::Sha3_224::digest(data).to_vec(),
            HashAlgorithm::Sha3_256 => sha3::Sha3_256::digest(data).to_vec(),
            HashAlgorithm::Sha3_384 => sha3::Sha3_384::digest(data).to_vec(),
            HashAlgorithm::Sha3_512 => sha3::Sha3_512::digest(data).to_vec(),
        }
    }

    /// HMAC of `data` under `key`.
    pub fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        fn rustcrypto<M: Mac + KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
            // HMAC takes keys of any length: this cannot fail.
            match <M as KeyInit>::new_from_slice(key) {
                Ok(mut mac) => {
                    mac.update(data);
                    mac.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            }
        }
        use ring::hmac as rh;
        let ring_alg = match self {
            HashAlgorithm::Sha1 => rh::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            HashAlgorithm::Sha2_256 => rh::HMAC_SHA256,
            HashAlgorithm::Sha2_384 => rh::HMAC_SHA384,
            HashAlgorithm::Sha2_512 => rh::HMAC_SHA512,
            HashAlgorithm::Sha2_224 => return rustcrypto::<hmac::Hmac<sha2::Sha224>>(key, data),
            HashAlgorithm::Sha3_224 => {
                return rustcrypto::<hmac::SimpleHmac<sha3::Sha3_224>>(key, data);
            }
            HashAlgorithm::Sha3_256 => {
                return rustcrypto::<hmac::SimpleHmac<sha3::Sha3_256>>(key, data);
            }
            HashAlgorithm::Sha3_384 => {
                return rustcrypto::<hmac::SimpleHmac<sha3::Sha3_384>>(key, data);
            }
            HashAlgorithm::Sha3_512 => {
                return rustcrypto::<hmac::SimpleHmac<sha3::Sha3_512>>(key, data);
            }
        };
        rh::sign(&rh::Key::new(ring_alg, key), data)
            .as_ref()
            .to_vec()
    }
}

/// How the `hash` endpoint writes its sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashFormat {
    /// Lower-case hex (the default).
    Hex,
    /// Standard base64.
    Base64,
}

impl HashFormat {
    /// `hex` or `base64`.
    pub fn parse(name: &str) -> Result<HashFormat, Error> {
        match name {
            "hex" => Ok(HashFormat::Hex),
            "base64" => Ok(HashFormat::Base64),
            other => Err(Error::HashFormat(other.to_string())),
        }
    }

    /// Renders bytes.
    pub fn encode(self, bytes: &[u8]) -> String {
        match self {
            HashFormat::Hex => hex::encode(bytes),
            HashFormat::Base64 => gobase64::encode(bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOX: &[u8] = b"the quick brown fox";

    #[test]
    fn vault_test_vectors() {
        // spec §17, from Vault's TestTransit_Hash.
        let h = |a| hex::encode(HashAlgorithm::for_hash(a).unwrap().digest(FOX));
        assert_eq!(
            h("sha2-256"),
            "9ecb36561341d18eb65484e833efea61edc74b84cf5e6ae1b81c63533e25fc8f"
        );
        assert_eq!(
            h("sha2-224"),
            "ea074a96cabc5a61f8298a2c470f019074642631a49e1c5e2f560865"
        );
        assert_eq!(
            h("sha3-256"),
            "e4bd866ec3fa52df3b7842aa97b448bc859a7606cefcdad1715847f4b82a6c93"
        );
        assert_eq!(
            gobase64::encode(&HashAlgorithm::Sha2_512.digest(FOX)),
            "2dOA8puXrWodkumH2D+loCZTMB4QBt0rzVGvpZqRR+nK7a+JUhq8DwtoKtzUf7USuDQ8g0oy8yb+m+8AVCzohw=="
        );
    }

    #[test]
    fn hmac_vectors_from_vaults_tests() {
        let key = b"01234567890123456789012345678901";
        let m = |a| gobase64::encode(&HashAlgorithm::for_hmac(a).unwrap().hmac(key, FOX));
        assert_eq!(
            m("sha2-256"),
            "UcBvm5VskkukzZHlPgm3p5P/Yr/PV6xpuOGZISya3A4="
        );
        assert_eq!(m("sha2-224"), "3p+ZWVquYDvu2dSTCa65Y3fgoMfIAc6fNaBbtg==");
        assert_eq!(
            m("sha2-384"),
            "jDB9YXdPjpmr29b1JCIEJO93IydlKVfD9mA2EO9OmJtJQg3QAV5tcRRRb7IQGW9p"
        );
        assert_eq!(
            m("sha2-512"),
            "PSXLXvkvKF4CpU65e2bK1tGBZQpcpCEM32fq2iUoiTyQQCfBcGJJItQ+60tMwWXAPQrC290AzTrNJucGrr4GFA=="
        );
        assert_eq!(
            m("sha3-256"),
            "+px9V/7QYLfdK808zPESC2T/L33uFf4Blzsn9Jy838o="
        );
        assert_eq!(HashAlgorithm::Sha1.hmac(key, FOX).len(), 20);
    }

    #[test]
    fn names() {
        assert_eq!(
            HashAlgorithm::for_hash("sha1").unwrap_err().to_string(),
            "unsupported algorithm sha1"
        );
        assert_eq!(
            HashAlgorithm::for_hmac("none").unwrap_err().to_string(),
            "algorithm cannot be none"
        );
        assert_eq!(
            HashAlgorithm::for_hmac("bogus").unwrap_err().to_string(),
            "unsupported algorithm '\\x00'"
        );
        assert_eq!(
            HashAlgorithm::for_hash("none").unwrap_err().to_string(),
            "unsupported algorithm none"
        );
        assert_eq!(HashAlgorithm::Sha3_384.as_str(), "sha3-384");
    }
}
