//! `random(/:source)(/:bytes)`: random bytes from the system source.

use zeroize::Zeroizing;

use crate::{Error, SecretBytes, gobase64};

/// The most bytes one request may ask for (128 KiB).
pub const MAX_RANDOM_BYTES: i64 = 128 * 1024;

/// Where the bytes come from. keyward has no seal: `seal` and `all` read the
/// platform source, and `seal` says so in a warning, as Vault CE does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RandomSource {
    /// The operating system's generator (the default).
    Platform,
    /// The seal's entropy (none here: the platform source, with a warning).
    Seal,
    /// Both, XORed (here: the platform source).
    All,
}

impl RandomSource {
    /// True for the names Vault accepts as a source in the URL.
    pub fn is_valid(name: &str) -> bool {
        matches!(name, "platform" | "seal" | "all")
    }

    /// The source named `name` (empty means platform).
    pub fn parse(name: &str) -> Result<RandomSource, Error> {
        match name {
            "" | "platform" => Ok(RandomSource::Platform),
            "seal" => Ok(RandomSource::Seal),
            "all" => Ok(RandomSource::All),
            other => Err(Error::RandomSource(other.to_string())),
        }
    }

    /// Vault CE's warning when the caller asked for the seal's entropy.
    pub fn warning(self) -> Option<&'static str> {
        (self == RandomSource::Seal)
            .then_some("no seal/entropy augmentation available, using platform entropy source")
    }
}

/// How random bytes are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RandomFormat {
    /// Standard base64 (the default).
    Base64,
    /// Lower-case hex.
    Hex,
}

impl RandomFormat {
    /// `base64` or `hex`.
    pub fn parse(name: &str) -> Result<RandomFormat, Error> {
        match name {
            "base64" => Ok(RandomFormat::Base64),
            "hex" => Ok(RandomFormat::Hex),
            other => Err(Error::RandomFormat(other.to_string())),
        }
    }

    /// Renders bytes.
    pub fn encode(self, bytes: &[u8]) -> Zeroizing<String> {
        Zeroizing::new(match self {
            RandomFormat::Base64 => gobase64::encode(bytes),
            RandomFormat::Hex => hex::encode(bytes),
        })
    }
}

/// Checks a byte count as Vault does: 1..=131072.
pub fn check_count(bytes: i64) -> Result<usize, Error> {
    if bytes < 1 {
        return Err(Error::RandomTooFew);
    }
    if bytes > MAX_RANDOM_BYTES {
        return Err(Error::RandomTooMany);
    }
    Ok(bytes as usize)
}

/// `count` random bytes (checked with [`check_count`] first).
pub fn random_bytes(count: usize) -> Result<SecretBytes, Error> {
    SecretBytes::random(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_texts() {
        assert_eq!(
            check_count(0).unwrap_err().to_string(),
            "'bytes' cannot be less than 1"
        );
        assert_eq!(check_count(-1).unwrap_err(), Error::RandomTooFew);
        assert_eq!(
            check_count(131073).unwrap_err().to_string(),
            "'bytes' should be less than 131072"
        );
        assert_eq!(check_count(131072).unwrap(), 131072);
        assert_eq!(
            RandomFormat::parse("base92").unwrap_err().to_string(),
            "unsupported encoding format \"base92\"; must be \"hex\" or \"base64\""
        );
        let a = random_bytes(32).unwrap();
        let b = random_bytes(32).unwrap();
        assert_ne!(a, b);
        assert_eq!(RandomFormat::Hex.encode(a.expose()).len(), 64);
    }
}
