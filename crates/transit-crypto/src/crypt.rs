//! Encrypt, decrypt, rewrap and data keys on a [`Policy`], with Vault's
//! checks in Vault's order and its ciphertext layout:
//! `vault:v<N>:` + base64(nonce (12) || ciphertext || tag (16)).

use std::ops::Deref;

use zeroize::Zeroizing;

use crate::cipher::{self, OVERHEAD};
use crate::material::CONVERGENT_VERSION;
use crate::prefixed::{self, FrameError};
use crate::{Error, HashAlgorithm, Policy, gobase64};

/// The per-request inputs of encrypt and decrypt, already base64-decoded.
#[derive(Debug, Clone, Copy, Default)]
pub struct CipherInput<'a> {
    /// Derivation context (required by derived keys; ignored otherwise).
    pub context: &'a [u8],
    /// Associated data, authenticated but not encrypted.
    pub associated_data: &'a [u8],
    /// The version to encrypt with; 0 means the latest (encrypt only).
    pub key_version: i64,
    /// True when the caller sent a `nonce` (refused: only Vault 0.6.1 keys
    /// took one, and CVE-2023-4680 closed that door).
    pub nonce_given: bool,
}

/// A ciphertext and the version that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encrypted {
    /// `vault:v<N>:...`.
    pub ciphertext: String,
    /// N.
    pub version: u32,
}

/// Key bytes: the stored ones, or derived ones that are wiped after use.
enum KeyBytes<'a> {
    Stored(&'a [u8]),
    Derived(Zeroizing<Vec<u8>>),
}

impl Deref for KeyBytes<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            KeyBytes::Stored(b) => b,
            KeyBytes::Derived(b) => b,
        }
    }
}

/// An encryption key and, for convergent keys, the nonce key.
type CipherKeys<'a> = (KeyBytes<'a>, Option<Zeroizing<Vec<u8>>>);

/// The bytes a convergent nonce key takes from the HKDF stream.
const NONCE_KEY_LEN: usize = 32;

impl Policy {
    /// The encryption key of `version` for `context` (and, for convergent
    /// keys, the nonce key that follows it in the HKDF stream).
    fn cipher_key(
        &self,
        version: u32,
        context: &[u8],
        with_nonce_key: bool,
    ) -> Result<CipherKeys<'_>, Error> {
        let aead = self
            .key_type
            .aead()
            .ok_or(Error::EncryptionNotSupported(self.key_type))?;
        let enc_len = aead.key_len();
        if !self.derived {
            let entry = self.working_entry(version)?;
            return Ok((KeyBytes::Stored(entry.key.symmetric().expose()), None));
        }
        if context.is_empty() {
            return Err(Error::MissingContext);
        }
        let entry = self.working_entry(version)?;
        let extra = if with_nonce_key { NONCE_KEY_LEN } else { 0 };
        let stream = self
            .kdf
            .derive(entry.key.symmetric().expose(), context, enc_len + extra);
        if stream.len() < enc_len + extra {
            // Only the legacy counter KDF is this short (32 bytes).
            return Err(Error::Corrupt {
                name: self.name.to_string(),
                reason: "the key's KDF cannot derive enough bytes".into(),
            });
        }
        let nonce_key = with_nonce_key.then(|| Zeroizing::new(stream[enc_len..].to_vec()));
        let key = Zeroizing::new(stream[..enc_len].to_vec());
        Ok((KeyBytes::Derived(key), nonce_key))
    }

    /// A version of the working set (`min_decryption_version..=latest`).
    fn working_entry(&self, version: u32) -> Result<&crate::material::VersionMaterial, Error> {
        if version < self.min_decryption_version() {
            return Err(Error::NoSuchKeyVersion);
        }
        self.ring
            .get(version)
            .map(|e| &e.material)
            .ok_or(Error::NoSuchKeyVersion)
    }

    /// The version `requested` resolves to for encryption (0 = latest).
    fn encryption_version(&self, requested: i64) -> Result<u32, Error> {
        let latest = i64::from(self.latest_version());
        let version = match requested {
            0 => latest,
            v if v < 0 => return Err(Error::EncryptVersionNegative),
            v if v > latest => return Err(Error::EncryptVersionTooNew),
            v if v < i64::from(self.min_encryption_version()) => {
                return Err(Error::EncryptVersionTooOld);
            }
            v => v,
        };
        u32::try_from(version).map_err(|_| Error::EncryptVersionTooNew)
    }

    /// Encrypts `plaintext`.
    pub fn encrypt(&self, plaintext: &[u8], input: &CipherInput<'_>) -> Result<Encrypted, Error> {
        let mut ciphertext = String::new();
        let version = self.encrypt_to(plaintext, input, &mut ciphertext)?;
        Ok(Encrypted {
            ciphertext,
            version,
        })
    }

    /// Encrypts `plaintext` and appends the ciphertext to `out` (a batch
    /// answer is written in place, without a string per item). Returns the
    /// version; on error nothing is appended.
    pub fn encrypt_to(
        &self,
        plaintext: &[u8],
        input: &CipherInput<'_>,
        out: &mut String,
    ) -> Result<u32, Error> {
        if input.nonce_given {
            return Err(Error::NonceNotAllowed);
        }
        if self.key_type.is_rsa() {
            let version = self.encryption_version(input.key_version)?;
            let key = self
                .working_entry(version)?
                .key
                .asymmetric()
                .ok_or(Error::EncryptionNotSupported(self.key_type))?;
            let sealed = key.rsa_encrypt(plaintext)?;
            prefixed::write_encoded(out, version, &sealed);
            return Ok(version);
        }
        let aead = self
            .key_type
            .aead()
            .ok_or(Error::EncryptionNotSupported(self.key_type))?;
        let version = self.encryption_version(input.key_version)?;
        let convergent = self.convergent_version(version)?;
        let (key, nonce_key) = self.cipher_key(version, input.context, convergent.is_some())?;
        let nonce = match nonce_key {
            // Convergent v3: the nonce is an HMAC of the plaintext under a
            // key derived from the context, so equal inputs give equal output.
            Some(nk) => {
                let mac = HashAlgorithm::Sha2_256.hmac(&nk, plaintext);
                let mut nonce = [0u8; 12];
                nonce.copy_from_slice(&mac[..12]);
                nonce
            }
            None => cipher::random_nonce()?,
        };
        let sealed = cipher::seal(aead, &key, nonce, input.associated_data, plaintext)?;
        prefixed::write_encoded(out, version, &sealed);
        Ok(version)
    }

    /// The convergent scheme of `version`, refusing the old ones.
    fn convergent_version(&self, version: u32) -> Result<Option<u8>, Error> {
        if !self.convergent {
            return Ok(None);
        }
        let scheme = self
            .ring
            .get(version)
            .map(|e| e.material.convergent_version)
            .unwrap_or(CONVERGENT_VERSION);
        if scheme == CONVERGENT_VERSION {
            Ok(Some(scheme))
        } else {
            Err(Error::OldConvergentVersion(scheme))
        }
    }

    /// Decrypts a `vault:v<N>:` ciphertext.
    pub fn decrypt(
        &self,
        ciphertext: &str,
        input: &CipherInput<'_>,
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        if input.nonce_given {
            return Err(Error::NonceNotAllowed);
        }
        if !self.key_type.supports_decryption() {
            return Err(Error::DecryptionNotSupported(self.key_type));
        }
        let (version, payload) = prefixed::parse(ciphertext).map_err(|e| match e {
            FrameError::NoPrefix => Error::CiphertextNoPrefix,
            FrameError::Fields => Error::CiphertextFields,
            FrameError::Version => Error::CiphertextVersion,
        })?;
        // Version 0 is read as 1, for the first implementation's ciphertexts.
        let version = if version == 0 { 1 } else { version };
        if version > i64::from(self.latest_version()) {
            return Err(Error::CiphertextTooNew);
        }
        if version < i64::from(self.min_decryption_version()) {
            return Err(Error::TooOld);
        }
        let version = u32::try_from(version).map_err(|_| Error::TooOld)?;
        self.convergent_version(version)?;
        let sealed = gobase64::decode(payload).map_err(|_| Error::CiphertextBase64)?;
        let Some(aead) = self.key_type.aead() else {
            // RSA: OAEP with SHA-256, as Vault.
            let key = self
                .working_entry(version)?
                .key
                .asymmetric()
                .ok_or(Error::DecryptionNotSupported(self.key_type))?;
            return key.rsa_decrypt(&sealed, crate::OaepHash::Sha256);
        };
        let (key, _) = self.cipher_key(version, input.context, false)?;
        cipher::open(self.key_type, aead, &key, input.associated_data, &sealed)
    }

    /// Decrypts with the version the ciphertext names and encrypts again
    /// with `input.key_version` (default latest), always with a fresh nonce.
    pub fn rewrap(&self, ciphertext: &str, input: &CipherInput<'_>) -> Result<Encrypted, Error> {
        let plaintext = self.decrypt(ciphertext, input)?;
        self.encrypt(&plaintext, input)
    }

    /// A data key of `bits` random bits, and that key encrypted as
    /// `encrypt` would encrypt it.
    pub fn datakey(
        &self,
        bits: u32,
        input: &CipherInput<'_>,
    ) -> Result<(Zeroizing<Vec<u8>>, Encrypted), Error> {
        let len = match bits {
            128 | 256 | 512 => bits as usize / 8,
            _ => return Err(Error::InvalidBits),
        };
        let key = crate::SecretBytes::random(len)?;
        let encrypted = self.encrypt(key.expose(), input)?;
        Ok((Zeroizing::new(key.expose().to_vec()), encrypted))
    }
}

/// The length of the ciphertext payload (before base64) for `n` plaintext bytes.
pub fn sealed_len(n: usize) -> usize {
    n + OVERHEAD
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeyName, KeyOptions, KeyType};
    use keyring_core::Timestamp;
    use proptest::prelude::*;

    fn key(ty: KeyType, derived: bool, convergent: bool) -> Policy {
        let mut o = KeyOptions::new(ty);
        o.derived = derived;
        o.convergent = convergent;
        Policy::generate(
            KeyName::parse("k").unwrap(),
            &o,
            Timestamp::from_unix_secs(1),
        )
        .unwrap()
    }

    const ENC_TYPES: [KeyType; 3] = [
        KeyType::Aes128Gcm96,
        KeyType::Aes256Gcm96,
        KeyType::ChaCha20Poly1305,
    ];

    #[test]
    fn layout_and_errors() {
        let p = key(KeyType::Aes256Gcm96, false, false);
        let e = p.encrypt(b"hello", &CipherInput::default()).unwrap();
        assert!(e.ciphertext.starts_with("vault:v1:"));
        let raw = gobase64::decode(&e.ciphertext[9..]).unwrap();
        assert_eq!(raw.len(), sealed_len(5));
        let d = |c: &str| {
            p.decrypt(c, &CipherInput::default())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(d("vault:v1:abcd"), "invalid ciphertext length");
        assert_eq!(d("vault:v1:"), "invalid ciphertext length");
        assert_eq!(d("vault:v1"), "invalid ciphertext: wrong number of fields");
        assert_eq!(
            d("vault:v1:!!!!"),
            "invalid ciphertext: could not decode base64"
        );
        assert_eq!(
            d("vault:v1:abc"),
            "invalid ciphertext: could not decode base64"
        );
        assert_eq!(
            d("vault:v-1:AAAA"),
            "ciphertext or signature version is disallowed by policy (too old)"
        );
        assert_eq!(d("vault:v2:AAAA"), "invalid ciphertext: version is too new");
        assert_eq!(d("xxx"), "invalid ciphertext: no prefix");
        assert_eq!(
            d("vault:vx:AAAA"),
            "invalid ciphertext: version number could not be decoded"
        );
        let zeros = gobase64::encode(&[0u8; 40]);
        assert_eq!(
            d(&format!("vault:v0:{zeros}")),
            "cipher: message authentication failed"
        );
        // v0 is v1.
        let v0 = e.ciphertext.replacen("vault:v1:", "vault:v0:", 1);
        assert_eq!(
            &p.decrypt(&v0, &CipherInput::default()).unwrap()[..],
            b"hello"
        );
    }

    #[test]
    fn versions() {
        let mut p = key(KeyType::ChaCha20Poly1305, false, false);
        for i in 0..3 {
            p = p.rotated(Timestamp::from_unix_secs(10 + i)).unwrap();
        }
        let at = |v| {
            p.encrypt(
                b"x",
                &CipherInput {
                    key_version: v,
                    ..Default::default()
                },
            )
        };
        assert_eq!(at(0).unwrap().version, 4);
        assert_eq!(at(2).unwrap().version, 2);
        assert_eq!(at(-1).unwrap_err(), Error::EncryptVersionNegative);
        assert_eq!(at(5).unwrap_err(), Error::EncryptVersionTooNew);
        let old = at(1).unwrap();
        let p = p
            .configured(&crate::ConfigChange {
                min_decryption_version: Some(2),
                min_encryption_version: Some(3),
                ..Default::default()
            })
            .unwrap()
            .policy;
        let at = |v| {
            p.encrypt(
                b"x",
                &CipherInput {
                    key_version: v,
                    ..Default::default()
                },
            )
        };
        assert_eq!(at(2).unwrap_err(), Error::EncryptVersionTooOld);
        assert_eq!(
            p.decrypt(&old.ciphertext, &CipherInput::default())
                .unwrap_err(),
            Error::TooOld
        );
        let re = p
            .rewrap(&at(3).unwrap().ciphertext, &CipherInput::default())
            .unwrap();
        assert_eq!(re.version, 4);
    }

    #[test]
    fn derived_and_convergent() {
        for ty in ENC_TYPES {
            let p = key(ty, true, false);
            assert_eq!(
                p.encrypt(b"x", &CipherInput::default()).unwrap_err(),
                Error::MissingContext
            );
            let ctx = CipherInput {
                context: b"ctx",
                ..Default::default()
            };
            let e = p.encrypt(b"secret", &ctx).unwrap();
            assert_eq!(&p.decrypt(&e.ciphertext, &ctx).unwrap()[..], b"secret");
            assert_eq!(
                p.decrypt(&e.ciphertext, &CipherInput::default())
                    .unwrap_err(),
                Error::MissingContext
            );
            let other = CipherInput {
                context: b"other",
                ..Default::default()
            };
            assert_eq!(
                p.decrypt(&e.ciphertext, &other).unwrap_err(),
                Error::AuthenticationFailed(ty)
            );

            let c = key(ty, true, true);
            let a = c.encrypt(b"same", &ctx).unwrap();
            let b = c.encrypt(b"same", &ctx).unwrap();
            assert_eq!(a, b, "convergent: same input, same output");
            assert_ne!(a, c.encrypt(b"same", &other).unwrap());
            assert_ne!(a, c.encrypt(b"diff", &ctx).unwrap());
            assert_eq!(c.encrypt(b"", &ctx).unwrap(), c.encrypt(b"", &ctx).unwrap());
            assert_eq!(&c.decrypt(&a.ciphertext, &ctx).unwrap()[..], b"same");
        }
    }

    #[test]
    fn nonce_and_aad() {
        let p = key(KeyType::Aes128Gcm96, false, false);
        let nonce = CipherInput {
            nonce_given: true,
            ..Default::default()
        };
        assert_eq!(p.encrypt(b"x", &nonce).unwrap_err(), Error::NonceNotAllowed);
        let aad = CipherInput {
            associated_data: b"associated",
            ..Default::default()
        };
        let e = p.encrypt(b"x", &aad).unwrap();
        assert_eq!(&p.decrypt(&e.ciphertext, &aad).unwrap()[..], b"x");
        assert_eq!(
            p.decrypt(&e.ciphertext, &CipherInput::default())
                .unwrap_err(),
            Error::AuthenticationFailed(KeyType::Aes128Gcm96)
        );
    }

    #[test]
    fn hmac_keys_cannot_encrypt() {
        let mut o = KeyOptions::new(KeyType::Hmac);
        o.key_size = 32;
        let p = Policy::generate(
            KeyName::parse("h").unwrap(),
            &o,
            Timestamp::from_unix_secs(1),
        )
        .unwrap();
        assert_eq!(
            p.encrypt(b"x", &CipherInput::default())
                .unwrap_err()
                .to_string(),
            "message encryption not supported for key type hmac"
        );
        assert_eq!(
            p.decrypt("vault:v1:AAAA", &CipherInput::default())
                .unwrap_err()
                .to_string(),
            "message decryption not supported for key type hmac"
        );
    }

    #[test]
    fn rsa_encrypts_with_oaep() {
        for ty in [KeyType::Rsa2048, KeyType::Rsa3072] {
            let p = key(ty, false, false);
            let e = p.encrypt(b"secret", &CipherInput::default()).unwrap();
            let raw = gobase64::decode(&e.ciphertext[9..]).unwrap();
            assert_eq!(raw.len(), if ty == KeyType::Rsa2048 { 256 } else { 384 });
            assert_eq!(
                &p.decrypt(&e.ciphertext, &CipherInput::default()).unwrap()[..],
                b"secret"
            );
            let forged = prefixed::format(1, &gobase64::encode(&[1u8; 256]));
            assert_eq!(
                p.decrypt(&forged, &CipherInput::default())
                    .unwrap_err()
                    .to_string(),
                "failed to RSA decrypt the ciphertext: crypto/rsa: decryption error"
            );
            let (plain, wrapped) = p.datakey(256, &CipherInput::default()).unwrap();
            assert_eq!(
                p.decrypt(&wrapped.ciphertext, &CipherInput::default())
                    .unwrap(),
                plain
            );
        }
        let ec = key(KeyType::EcdsaP256, false, false);
        assert_eq!(
            ec.encrypt(b"x", &CipherInput::default())
                .unwrap_err()
                .to_string(),
            "message encryption not supported for key type ecdsa-p256"
        );
    }

    #[test]
    fn datakey_decrypts_to_itself() {
        let p = key(KeyType::Aes256Gcm96, false, false);
        for bits in [128u32, 256, 512] {
            let (plain, enc) = p.datakey(bits, &CipherInput::default()).unwrap();
            assert_eq!(plain.len() * 8, bits as usize);
            assert_eq!(
                p.decrypt(&enc.ciphertext, &CipherInput::default()).unwrap(),
                plain
            );
        }
        assert_eq!(
            p.datakey(64, &CipherInput::default()).unwrap_err(),
            Error::InvalidBits
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn round_trip_every_type(
            plaintext in proptest::collection::vec(any::<u8>(), 0..256),
            context in proptest::collection::vec(any::<u8>(), 1..32),
            aad in proptest::collection::vec(any::<u8>(), 0..16),
            derived in any::<bool>(),
            convergent in any::<bool>(),
            ty in 0usize..3,
        ) {
            let ty = ENC_TYPES[ty];
            let p = key(ty, derived, derived && convergent);
            let input = CipherInput {
                context: &context,
                associated_data: &aad,
                ..Default::default()
            };
            let e = p.encrypt(&plaintext, &input).unwrap();
            prop_assert_eq!(&p.decrypt(&e.ciphertext, &input).unwrap()[..], &plaintext[..]);
        }

        #[test]
        fn malformed_ciphertexts_are_errors_not_panics(s in ".{0,80}") {
            let p = key(KeyType::Aes256Gcm96, false, false);
            prop_assert!(p.decrypt(&s, &CipherInput::default()).is_err());
            let with_prefix = format!("vault:v1:{s}");
            prop_assert!(p.decrypt(&with_prefix, &CipherInput::default()).is_err());
        }

        #[test]
        fn tampered_ciphertexts_never_decrypt(flip in 0usize..45, bit in 0u8..8) {
            let p = key(KeyType::ChaCha20Poly1305, false, false);
            let e = p.encrypt(b"seventeen bytes!!", &CipherInput::default()).unwrap();
            let mut raw = gobase64::decode(&e.ciphertext[9..]).unwrap();
            raw[flip] ^= 1 << bit;
            let forged = prefixed::format(1, &gobase64::encode(&raw));
            prop_assert!(p.decrypt(&forged, &CipherInput::default()).is_err());
        }
    }
}
