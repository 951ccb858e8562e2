//! Key names, checked as Vault's router checks them.

use std::fmt;

/// The name of a transit key: Vault's `\w(([\w-.]+)?\w)?`, i.e. ASCII
/// letters, digits, `_`, `-` and `.`, starting and ending with a letter,
/// digit or `_`. No slash, so a name is always one path segment.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct KeyName(String);

impl TryFrom<String> for KeyName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        KeyName::parse(&s).ok_or_else(|| format!("invalid key name {s:?}"))
    }
}

impl From<KeyName> for String {
    fn from(n: KeyName) -> String {
        n.0
    }
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl KeyName {
    /// Checks and wraps a name; `None` when Vault's route would not match it.
    pub fn parse(name: &str) -> Option<KeyName> {
        let bytes = name.as_bytes();
        let (first, last) = (bytes.first()?, bytes.last()?);
        let inner_ok = bytes.iter().all(|&b| is_word(b) || b == b'-' || b == b'.');
        (is_word(*first) && is_word(*last) && inner_ok).then(|| KeyName(name.to_string()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::KeyName;
    use proptest::prelude::*;

    #[test]
    fn vaults_rule() {
        for ok in ["a", "_", "9", "my-key", "a.b", "a..b", "A_b-9.z", "x-_"] {
            assert!(KeyName::parse(ok).is_some(), "{ok}");
        }
        for bad in ["", ".", "-a", "a-", "a.", ".a", "a/b", "a b", "é", "a%2f"] {
            assert!(KeyName::parse(bad).is_none(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_never_accepts_a_slash(s in ".*") {
            if let Some(n) = KeyName::parse(&s) {
                prop_assert!(!n.as_str().contains('/'));
                prop_assert_eq!(n.as_str(), s.as_str());
            }
        }
    }
}
