//! HMAC generation and verification on a [`Policy`], Vault's way: every
//! version has its own HMAC key, the output is `vault:v<N>:` + base64(MAC),
//! and verification compares in constant time.

use subtle::ConstantTimeEq;

use crate::prefixed::{self, FrameError};
use crate::{Error, HashAlgorithm, Policy, gobase64};

/// The HMAC key of one version, ready to sign inputs.
#[derive(Debug, Clone, Copy)]
pub struct HmacSigner<'a> {
    version: u32,
    key: &'a crate::SecretBytes,
}

impl HmacSigner<'_> {
    /// The version whose key signs.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// `vault:v<N>:` + base64(HMAC(input)).
    pub fn sign(&self, algorithm: HashAlgorithm, input: &[u8]) -> String {
        let mac = algorithm.hmac(self.key.expose(), input);
        prefixed::format(self.version, &gobase64::encode(&mac))
    }
}

impl Policy {
    /// The HMAC key of a version (for type `hmac`, the key itself).
    fn hmac_key(&self, version: i64) -> Result<&crate::SecretBytes, Error> {
        let latest = self.latest_version();
        if version < 0 {
            return Err(Error::HmacVersionNegative);
        }
        if version > i64::from(latest) {
            return Err(Error::HmacVersionTooNew(latest));
        }
        let version = u32::try_from(version).map_err(|_| Error::NoSuchKeyVersion)?;
        if version < self.min_decryption_version() {
            return Err(Error::NoSuchKeyVersion);
        }
        self.ring
            .get(version)
            .map(|e| &e.material.hmac_key)
            .ok_or(Error::NoSuchKeyVersion)
    }

    /// The signer for `key_version` (0 = latest), with Vault's checks.
    pub fn hmac_signer(&self, key_version: i64) -> Result<HmacSigner<'_>, Error> {
        let latest = i64::from(self.latest_version());
        let min_enc = i64::from(self.min_encryption_version());
        let version = if key_version == 0 {
            latest
        } else {
            key_version
        };
        if version != latest && min_enc > 0 && version < min_enc {
            return Err(Error::HmacVersionTooOld);
        }
        let key = self.hmac_key(version)?;
        Ok(HmacSigner {
            version: version as u32,
            key,
        })
    }

    /// Checks a `vault:v<N>:` HMAC of `input`. A mismatch is `Ok(false)`;
    /// a malformed or disallowed HMAC is an error.
    pub fn verify_hmac(
        &self,
        algorithm: HashAlgorithm,
        input: &[u8],
        hmac: &str,
    ) -> Result<bool, Error> {
        let (version, payload) = prefixed::parse(hmac).map_err(|e| match e {
            FrameError::NoPrefix => Error::HmacNoPrefix,
            FrameError::Fields => Error::HmacFields,
            FrameError::Version => Error::HmacVersion,
        })?;
        let expected = gobase64::decode(payload).map_err(|e| Error::HmacBase64(e.to_string()))?;
        if version > i64::from(self.latest_version()) {
            return Err(Error::HmacTooNew);
        }
        if version < i64::from(self.min_decryption_version()) {
            return Err(Error::HmacTooOld);
        }
        let key = self.hmac_key(version)?;
        let actual = algorithm.hmac(key.expose(), input);
        Ok(actual.ct_eq(&expected).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConfigChange, KeyName, KeyOptions, KeyType};
    use keyring_core::Timestamp;

    fn key(ty: KeyType) -> Policy {
        let mut o = KeyOptions::new(ty);
        o.key_size = if ty == KeyType::Hmac { 64 } else { 0 };
        Policy::generate(
            KeyName::parse("k").unwrap(),
            &o,
            Timestamp::from_unix_secs(1),
        )
        .unwrap()
    }

    #[test]
    fn sign_and_verify_across_versions() {
        for ty in KeyType::ALL {
            let p = key(ty);
            let v1 = p
                .hmac_signer(0)
                .unwrap()
                .sign(HashAlgorithm::Sha2_256, b"data");
            assert!(v1.starts_with("vault:v1:"));
            let p = p.rotated(Timestamp::from_unix_secs(2)).unwrap();
            let v2 = p
                .hmac_signer(0)
                .unwrap()
                .sign(HashAlgorithm::Sha2_256, b"data");
            assert!(v2.starts_with("vault:v2:"));
            assert_ne!(v1[9..], v2[9..], "each version has its own HMAC key");
            assert!(
                p.verify_hmac(HashAlgorithm::Sha2_256, b"data", &v1)
                    .unwrap()
            );
            assert!(
                p.verify_hmac(HashAlgorithm::Sha2_256, b"data", &v2)
                    .unwrap()
            );
            assert!(
                !p.verify_hmac(HashAlgorithm::Sha2_256, b"datA", &v2)
                    .unwrap()
            );
            assert!(
                !p.verify_hmac(HashAlgorithm::Sha2_512, b"data", &v2)
                    .unwrap()
            );
            let p = p
                .configured(&ConfigChange {
                    min_decryption_version: Some(2),
                    ..Default::default()
                })
                .unwrap()
                .policy;
            assert_eq!(
                p.verify_hmac(HashAlgorithm::Sha2_256, b"data", &v1)
                    .unwrap_err(),
                Error::HmacTooOld
            );
        }
    }

    #[test]
    fn hmac_type_uses_its_key() {
        let p = key(KeyType::Hmac);
        let entry = p.ring.get(1).unwrap();
        let expected = HashAlgorithm::Sha2_384.hmac(entry.material.key.symmetric().expose(), b"in");
        let got = p
            .hmac_signer(1)
            .unwrap()
            .sign(HashAlgorithm::Sha2_384, b"in");
        assert_eq!(got, format!("vault:v1:{}", gobase64::encode(&expected)));
    }

    #[test]
    fn version_errors() {
        let mut p = key(KeyType::Aes256Gcm96);
        for i in 0..3 {
            p = p.rotated(Timestamp::from_unix_secs(5 + i)).unwrap();
        }
        let e = |v| p.hmac_signer(v).unwrap_err().to_string();
        assert_eq!(e(-1), "key version does not exist (cannot be negative)");
        assert_eq!(e(9), "key version does not exist; latest key version is 4");
        let p = p
            .configured(&ConfigChange {
                min_decryption_version: Some(2),
                min_encryption_version: Some(3),
                ..Default::default()
            })
            .unwrap()
            .policy;
        assert_eq!(
            p.hmac_signer(2).unwrap_err().to_string(),
            "cannot generate HMAC: version is too old (disallowed by policy)"
        );
        assert_eq!(p.hmac_signer(3).unwrap().version(), 3);
        let v = |s: &str| {
            p.verify_hmac(HashAlgorithm::Sha2_256, b"", s)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(v("nope"), "invalid HMAC to verify: no prefix");
        assert_eq!(v("vault:v1"), "invalid HMAC: wrong number of fields");
        assert_eq!(
            v("vault:vx:AA=="),
            "invalid HMAC: version number could not be decoded"
        );
        assert_eq!(
            v("vault:v9:%%"),
            "unable to decode verification HMAC as base64: illegal base64 data at input byte 0"
        );
        assert_eq!(v("vault:v9:AA=="), "invalid HMAC: version is too new");
        assert_eq!(
            v("vault:v0:AA=="),
            "cannot verify HMAC: version is too old (disallowed by policy)"
        );
    }
}
