//! Signing and signature verification on a [`Policy`], Vault's way:
//! `vault:v<N>:` + base64 (ASN.1) or base64url without padding (JWS) of
//! the signature; ECDSA and RSA hash the input first (unless `prehashed`),
//! ed25519 signs the message itself; derived ed25519 keys sign with the key
//! derived for the request's context.

use crate::asym::{AsymmetricKey, PssSalt, RsaHash, RsaScheme, ed25519_from_seed, ed25519_verify};
use crate::der_lite::{self, SignatureDerError};
use crate::prefixed::{self, FrameError};
use crate::{Error, HashAlgorithm, KeyType, Policy, gobase64};

/// The hash of a signature request: one of Vault's names, or `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureHash {
    /// `none`: the input is signed as it is (with `prehashed` and `pkcs1v15`).
    None,
    /// A hash algorithm.
    Hash(HashAlgorithm),
}

impl SignatureHash {
    /// `sha1`, `sha2-*`, `sha3-*` or `none`.
    pub fn parse(name: &str) -> Result<SignatureHash, Error> {
        if name == "none" {
            return Ok(SignatureHash::None);
        }
        HashAlgorithm::for_hmac(name)
            .map(SignatureHash::Hash)
            .map_err(|_| Error::InvalidSignatureHash(name.to_string()))
    }
}

/// How the signature bytes are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Marshaling {
    /// ASN.1 DER for ECDSA, raw otherwise; standard base64.
    #[default]
    Asn1,
    /// `r || s` for ECDSA, raw otherwise; base64url without padding.
    Jws,
}

impl Marshaling {
    /// `asn1` or `jws`.
    pub fn parse(name: &str) -> Result<Marshaling, Error> {
        match name {
            "asn1" => Ok(Marshaling::Asn1),
            "jws" => Ok(Marshaling::Jws),
            other => Err(Error::InvalidMarshaling(other.to_string())),
        }
    }

    fn encode(self, bytes: &[u8]) -> String {
        match self {
            Marshaling::Asn1 => gobase64::encode(bytes),
            Marshaling::Jws => gobase64::encode_raw_url(bytes),
        }
    }

    fn decode(self, text: &str) -> Option<Vec<u8>> {
        match self {
            Marshaling::Asn1 => gobase64::decode(text).ok(),
            Marshaling::Jws => gobase64::decode_raw_url(text),
        }
    }
}

/// `salt_length` as Vault reads it: `auto`, `hash`, or an integer of at
/// least -1 (`0` is auto, `-1` is hash).
pub fn parse_salt_length(text: &str) -> Result<PssSalt, Error> {
    match text.to_ascii_lowercase().as_str() {
        "auto" => Ok(PssSalt::Auto),
        "hash" => Ok(PssSalt::Hash),
        other => {
            let n: i64 = other
                .parse()
                .ok()
                .filter(|n| i32::try_from(*n).is_ok())
                .ok_or_else(|| Error::SaltNotNumber(text.to_string()))?;
            match n {
                0 => Ok(PssSalt::Auto),
                -1 => Ok(PssSalt::Hash),
                n if n < -1 => Err(Error::SaltNegative(n)),
                n => Ok(u16::try_from(n).map_or(PssSalt::Len(u16::MAX), PssSalt::Len)),
            }
        }
    }
}

/// The options of `sign` and `verify` that apply to every item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOptions {
    /// `hash_algorithm` (default `sha2-256`).
    pub hash: SignatureHash,
    /// The input is already a digest.
    pub prehashed: bool,
    /// `signature_algorithm` as given (`""` is `pss`); only RSA reads it.
    pub signature_algorithm: String,
    /// `marshaling_algorithm`.
    pub marshaling: Marshaling,
    /// `salt_length`.
    pub salt: PssSalt,
}

impl Default for SignOptions {
    fn default() -> Self {
        SignOptions {
            hash: SignatureHash::Hash(HashAlgorithm::Sha2_256),
            prehashed: false,
            signature_algorithm: String::new(),
            marshaling: Marshaling::Asn1,
            salt: PssSalt::Auto,
        }
    }
}

impl SignOptions {
    /// Vault's request-level rule for `none`.
    pub fn check(&self) -> Result<(), Error> {
        if self.hash == SignatureHash::None
            && (!self.prehashed || self.signature_algorithm != "pkcs1v15")
        {
            return Err(Error::HashNoneRequires);
        }
        Ok(())
    }

    fn rsa_scheme(&self) -> Result<RsaScheme, Error> {
        match self.signature_algorithm.as_str() {
            "" | "pss" => Ok(RsaScheme::Pss(self.salt)),
            "pkcs1v15" => Ok(RsaScheme::Pkcs1v15),
            other => Err(Error::UnsupportedRsaSignatureAlgorithm(other.to_string())),
        }
    }
}

/// A signature and what made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// `vault:v<N>:...`.
    pub signature: String,
    /// N.
    pub version: u32,
    /// The derived public key of a derived ed25519 key.
    pub public_key: Option<[u8; 32]>,
}

/// The key that signs or verifies for one request.
enum Signer<'a> {
    Stored(&'a AsymmetricKey),
    /// Boxed: the expanded key is 224 bytes, the stored variant a pointer.
    DerivedEd25519(Box<ed25519_dalek::SigningKey>),
}

/// One version of a signing key as a key read shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyEntry {
    /// The version.
    pub version: u32,
    /// When it was made.
    pub created: keyring_core::Timestamp,
    /// Vault's text of the public key (`""` for a derived ed25519 key
    /// without a context).
    pub public_key: String,
    /// The attached chain as PEM joined by `\n`, `""` without one.
    pub certificate_chain: String,
}

impl Policy {
    /// The input as the signature covers it: hashed for ECDSA and RSA
    /// unless prehashed (or `none`), as it is for ed25519.
    fn signed_input<'a>(&self, input: &'a [u8], opts: &SignOptions) -> std::borrow::Cow<'a, [u8]> {
        match opts.hash {
            SignatureHash::Hash(h) if self.key_type.hashes_signature_input() && !opts.prehashed => {
                std::borrow::Cow::Owned(h.digest(input))
            }
            _ => std::borrow::Cow::Borrowed(input),
        }
    }

    /// The key of `version` (in the working set) for `context`.
    fn signer(&self, version: u32, context: &[u8]) -> Result<Signer<'_>, Error> {
        let entry = self.ring.get(version).ok_or(Error::NoSuchKeyVersion)?;
        let key = entry
            .material
            .key
            .asymmetric()
            .ok_or(Error::SigningNotSupported(self.key_type))?;
        if self.key_type == KeyType::Ed25519 && self.derived {
            if context.is_empty() {
                return Err(Error::DeriveMissingContext);
            }
            let ikm = key.ed25519_go_key().ok_or(Error::SignNoPrivateKey)?;
            let seed = self.kdf.derive(ikm.expose(), context, 32);
            let signing = ed25519_from_seed(&seed).ok_or(Error::DeriveMissingContext)?;
            return Ok(Signer::DerivedEd25519(Box::new(signing)));
        }
        Ok(Signer::Stored(key))
    }

    /// The public key derived for `context` from `version` of a derived
    /// ed25519 key (read key with `?context=`).
    pub fn derived_public_key(&self, version: u32, context: &[u8]) -> Result<[u8; 32], Error> {
        match self.signer(version, context)? {
            Signer::DerivedEd25519(k) => Ok(k.verifying_key().to_bytes()),
            Signer::Stored(_) => Err(Error::SigningNotSupported(self.key_type)),
        }
    }

    /// The public key of each version of the working set as a read answer
    /// shows it, with its creation time. A derived ed25519 key shows `""`
    /// unless a context is given, then the key derived for that context.
    pub fn public_keys(&self, context: &[u8]) -> Vec<PublicKeyEntry> {
        self.ring
            .working_set()
            .map(|(v, e)| {
                let text = match e.material.key.asymmetric() {
                    None => String::new(),
                    Some(_) if self.derived && self.key_type == KeyType::Ed25519 => {
                        if context.is_empty() {
                            String::new()
                        } else {
                            self.derived_public_key(v.get(), context)
                                .map(|k| gobase64::encode(&k))
                                .unwrap_or_default()
                        }
                    }
                    Some(k) => k.public_key_text(),
                };
                PublicKeyEntry {
                    version: v.get(),
                    created: e.created,
                    public_key: text,
                    certificate_chain: e.material.certificate_chain.pem(),
                }
            })
            .collect()
    }

    /// Signs `input` with `key_version` (0 = latest), Vault's checks in
    /// Vault's order.
    pub fn sign(
        &self,
        key_version: i64,
        context: &[u8],
        input: &[u8],
        opts: &SignOptions,
    ) -> Result<Signed, Error> {
        if !self.key_type.supports_signing() {
            return Err(Error::SigningNotSupported(self.key_type));
        }
        let latest = i64::from(self.latest_version());
        let version = match key_version {
            0 => latest,
            v if v < 0 => return Err(Error::SignVersionNegative),
            v if v > latest => return Err(Error::SignVersionTooNew),
            v if self.min_encryption_version() > 0
                && v < i64::from(self.min_encryption_version()) =>
            {
                return Err(Error::SignVersionTooOld);
            }
            v => v,
        };
        let version = u32::try_from(version).map_err(|_| Error::SignVersionTooNew)?;
        if version < self.min_decryption_version() {
            return Err(Error::NoSuchKeyVersion);
        }
        let stored = self
            .ring
            .get(version)
            .and_then(|e| e.material.key.asymmetric())
            .ok_or(Error::NoSuchKeyVersion)?;
        if !stored.has_private() {
            return Err(Error::SignNoPrivateKey);
        }
        let data = self.signed_input(input, opts);
        let mut public_key = None;
        let raw: Vec<u8> = match self.signer(version, context)? {
            Signer::DerivedEd25519(k) => {
                use ed25519_dalek::Signer as _;
                public_key = Some(k.verifying_key().to_bytes());
                k.sign(&data).to_bytes().to_vec()
            }
            Signer::Stored(key) => match self.key_type {
                KeyType::Ed25519 => key
                    .ed25519_sign(&data)
                    .ok_or(Error::SignNoPrivateKey)?
                    .to_vec(),
                KeyType::EcdsaP256 | KeyType::EcdsaP384 | KeyType::EcdsaP521 => {
                    let (r, s) = key.ecdsa_sign(&data).ok_or(Error::SignNoPrivateKey)?;
                    match opts.marshaling {
                        Marshaling::Asn1 => der_lite::ecdsa_signature(&r, &s),
                        Marshaling::Jws => [r, s].concat(),
                    }
                }
                _ => self.rsa_sign(key, &data, opts)?,
            },
        };
        Ok(Signed {
            signature: prefixed::format(version, &opts.marshaling.encode(&raw)),
            version,
            public_key,
        })
    }

    fn rsa_sign(
        &self,
        key: &AsymmetricKey,
        data: &[u8],
        opts: &SignOptions,
    ) -> Result<Vec<u8>, Error> {
        let scheme = opts.rsa_scheme()?;
        let (hash, digest) = match opts.hash {
            SignatureHash::None => {
                let (h, d) = RsaHash::split_digest_info(data).ok_or(Error::RsaRawInput)?;
                (h, d.to_vec())
            }
            SignatureHash::Hash(h) => (RsaHash::of(h)?, data.to_vec()),
        };
        if let RsaScheme::Pss(salt) = scheme {
            let hlen = match hash {
                RsaHash::Sha1 => 20,
                RsaHash::Sha256 => 32,
                RsaHash::Sha384 => 48,
                RsaHash::Sha512 => 64,
            };
            if let PssSalt::Len(n) = salt
                && i64::from(n) > key.rsa_max_salt(hlen)
            {
                return Err(Error::SaltLengthInvalid(i64::from(n)));
            }
        }
        key.rsa_sign(scheme, hash, &digest)
    }

    /// Checks a `vault:v<N>:` signature of `input`. A signature that does
    /// not match is `Ok(false)`; a malformed or disallowed one is an error.
    pub fn verify_signature(
        &self,
        context: &[u8],
        input: &[u8],
        signature: &str,
        opts: &SignOptions,
    ) -> Result<bool, Error> {
        if !self.key_type.supports_signing() {
            return Err(Error::VerificationNotSupported(self.key_type));
        }
        let (version, payload) = prefixed::parse(signature).map_err(|e| match e {
            FrameError::NoPrefix => Error::SignatureNoPrefix,
            FrameError::Fields => Error::SignatureFields,
            FrameError::Version => Error::SignatureVersion,
        })?;
        if version > i64::from(self.latest_version()) {
            return Err(Error::SignatureTooNew);
        }
        if version < i64::from(self.min_decryption_version()) {
            return Err(Error::TooOld);
        }
        let version = u32::try_from(version).map_err(|_| Error::TooOld)?;
        let sig = opts
            .marshaling
            .decode(payload)
            .ok_or(Error::SignatureBase64)?;
        let data = self.signed_input(input, opts);
        match self.key_type {
            KeyType::EcdsaP256 | KeyType::EcdsaP384 | KeyType::EcdsaP521 => {
                let (r, s) = match opts.marshaling {
                    Marshaling::Asn1 => {
                        der_lite::parse_ecdsa_signature(&sig).map_err(|e| match e {
                            SignatureDerError::Invalid => Error::SignatureInvalid,
                            SignatureDerError::ExtraData => Error::SignatureExtraData,
                        })?
                    }
                    Marshaling::Jws => {
                        let (r, s) = sig.split_at(sig.len() / 2);
                        ((false, r.to_vec()), (false, s.to_vec()))
                    }
                };
                let Signer::Stored(key) = self.signer(version, context)? else {
                    return Ok(false);
                };
                Ok(key.ecdsa_verify(&data, (r.0, &r.1), (s.0, &s.1)))
            }
            KeyType::Ed25519 => match self.signer(version, context)? {
                Signer::DerivedEd25519(k) => Ok(ed25519_verify(&k.verifying_key(), &data, &sig)),
                Signer::Stored(key) => Ok(key.ed25519_verify(&data, &sig)),
            },
            _ => {
                let Signer::Stored(key) = self.signer(version, context)? else {
                    return Ok(false);
                };
                let scheme = opts.rsa_scheme()?;
                if let RsaScheme::Pss(PssSalt::Len(n)) = scheme {
                    let hlen = match opts.hash {
                        SignatureHash::Hash(h) => h.output_len(),
                        SignatureHash::None => 0,
                    };
                    if i64::from(n) > key.rsa_max_salt(hlen) {
                        return Err(Error::SaltLengthInvalid(i64::from(n)));
                    }
                }
                let (hash, digest) = match opts.hash {
                    SignatureHash::None => match RsaHash::split_digest_info(&data) {
                        Some((h, d)) => (h, d.to_vec()),
                        None => return Err(Error::RsaRawInput),
                    },
                    SignatureHash::Hash(h) => (RsaHash::of(h)?, data.to_vec()),
                };
                Ok(key.rsa_verify(scheme, hash, &digest, &sig))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConfigChange, KeyName, KeyOptions};
    use keyring_core::Timestamp;
    use proptest::prelude::*;

    fn key(ty: KeyType, derived: bool) -> Policy {
        let mut o = KeyOptions::new(ty);
        o.derived = derived;
        Policy::generate(
            KeyName::parse("k").unwrap(),
            &o,
            Timestamp::from_unix_secs(1),
        )
        .unwrap()
    }

    const SIGNING: [KeyType; 7] = [
        KeyType::Ed25519,
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::EcdsaP521,
        KeyType::Rsa2048,
        KeyType::Rsa3072,
        KeyType::Rsa4096,
    ];

    fn opts(
        hash: &str,
        marshaling: Marshaling,
        sig_alg: &str,
        salt: PssSalt,
        prehashed: bool,
    ) -> SignOptions {
        SignOptions {
            hash: SignatureHash::parse(hash).unwrap(),
            prehashed,
            signature_algorithm: sig_alg.to_string(),
            marshaling,
            salt,
        }
    }

    #[test]
    fn every_type_round_trips_with_every_option() {
        for ty in SIGNING {
            let p = key(ty, false);
            let hashes: &[&str] = if ty.is_rsa() {
                &["sha2-256", "sha2-384", "sha2-512"]
            } else {
                &[
                    "sha1", "sha2-224", "sha2-256", "sha2-384", "sha2-512", "sha3-224", "sha3-256",
                    "sha3-384", "sha3-512",
                ]
            };
            for hash in hashes {
                for m in [Marshaling::Asn1, Marshaling::Jws] {
                    let algs: &[(&str, PssSalt)] = if ty.is_rsa() {
                        &[
                            ("pss", PssSalt::Auto),
                            ("pss", PssSalt::Hash),
                            ("pss", PssSalt::Len(20)),
                            ("pkcs1v15", PssSalt::Auto),
                        ]
                    } else {
                        &[("", PssSalt::Auto)]
                    };
                    for (alg, salt) in algs {
                        let o = opts(hash, m, alg, *salt, false);
                        let s = p.sign(0, b"", b"message", &o).unwrap();
                        assert!(s.signature.starts_with("vault:v1:"), "{ty} {hash}");
                        assert!(
                            p.verify_signature(b"", b"message", &s.signature, &o)
                                .unwrap(),
                            "{ty} {hash} {m:?} {alg} {salt:?}"
                        );
                        assert!(
                            !p.verify_signature(b"", b"massage", &s.signature, &o)
                                .unwrap()
                        );
                        if ty.is_rsa() && *alg == "pss" {
                            // auto accepts every salt length.
                            let auto = opts(hash, m, alg, PssSalt::Auto, false);
                            assert!(
                                p.verify_signature(b"", b"message", &s.signature, &auto)
                                    .unwrap()
                            );
                        }
                        // Prehashed: the digest signs like the message.
                        if ty != KeyType::Ed25519 {
                            let h = HashAlgorithm::for_hmac(hash).unwrap();
                            let pre = opts(hash, m, alg, *salt, true);
                            assert!(
                                p.verify_signature(b"", &h.digest(b"message"), &s.signature, &pre)
                                    .unwrap()
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn ecdsa_jws_lengths_and_asn1_errors() {
        for (ty, len) in [
            (KeyType::EcdsaP256, 64),
            (KeyType::EcdsaP384, 96),
            (KeyType::EcdsaP521, 132),
        ] {
            let p = key(ty, false);
            let jws = opts("sha2-256", Marshaling::Jws, "", PssSalt::Auto, false);
            let s = p.sign(0, b"", b"x", &jws).unwrap();
            let raw = gobase64::decode_raw_url(&s.signature[9..]).unwrap();
            assert_eq!(raw.len(), len);
            // A JWS signature read as ASN.1 is an error, not "invalid".
            let asn1 = SignOptions::default();
            let as_std = format!("vault:v1:{}", gobase64::encode(&raw));
            assert_eq!(
                p.verify_signature(b"", b"x", &as_std, &asn1).unwrap_err(),
                Error::SignatureInvalid
            );
            let good = p.sign(0, b"", b"x", &asn1).unwrap();
            let mut bytes = gobase64::decode(&good.signature[9..]).unwrap();
            bytes.push(0);
            let extra = format!("vault:v1:{}", gobase64::encode(&bytes));
            assert_eq!(
                p.verify_signature(b"", b"x", &extra, &asn1).unwrap_err(),
                Error::SignatureExtraData
            );
            assert!(!p.verify_signature(b"", b"x", "vault:v1:", &jws).unwrap());
        }
    }

    #[test]
    fn derived_ed25519() {
        let p = key(KeyType::Ed25519, true);
        let o = SignOptions::default();
        assert_eq!(
            p.sign(0, b"", b"m", &o).unwrap_err(),
            Error::DeriveMissingContext
        );
        let a = p.sign(0, b"ctx-a", b"m", &o).unwrap();
        let b = p.sign(0, b"ctx-b", b"m", &o).unwrap();
        assert_ne!(a.public_key, b.public_key);
        assert_eq!(
            a.public_key.unwrap(),
            p.derived_public_key(1, b"ctx-a").unwrap()
        );
        assert!(
            p.verify_signature(b"ctx-a", b"m", &a.signature, &o)
                .unwrap()
        );
        assert!(
            !p.verify_signature(b"ctx-b", b"m", &a.signature, &o)
                .unwrap()
        );
        assert_eq!(
            p.verify_signature(b"", b"m", &a.signature, &o).unwrap_err(),
            Error::DeriveMissingContext
        );
    }

    #[test]
    fn versions_and_texts() {
        let mut p = key(KeyType::EcdsaP256, false);
        for i in 0..3 {
            p = p.rotated(Timestamp::from_unix_secs(2 + i)).unwrap();
        }
        let o = SignOptions::default();
        let v1 = p.sign(1, b"", b"m", &o).unwrap();
        assert_eq!(
            p.sign(-1, b"", b"m", &o).unwrap_err(),
            Error::SignVersionNegative
        );
        assert_eq!(
            p.sign(9, b"", b"m", &o).unwrap_err(),
            Error::SignVersionTooNew
        );
        let p = p
            .configured(&ConfigChange {
                min_decryption_version: Some(2),
                min_encryption_version: Some(3),
                ..Default::default()
            })
            .unwrap()
            .policy;
        assert_eq!(
            p.sign(2, b"", b"m", &o).unwrap_err(),
            Error::SignVersionTooOld
        );
        assert_eq!(
            p.verify_signature(b"", b"m", &v1.signature, &o)
                .unwrap_err(),
            Error::TooOld
        );
        let e = |s: &str| {
            p.verify_signature(b"", b"m", s, &o)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(e("junk"), "invalid signature: no prefix");
        assert_eq!(e("vault:v1"), "invalid signature: wrong number of fields");
        assert_eq!(
            e("vault:vx:AA"),
            "invalid signature: version number could not be decoded"
        );
        assert_eq!(e("vault:v9:AA"), "invalid signature: version is too new");
        assert_eq!(e("vault:v4:%%%"), "invalid base64 signature value");
        assert_eq!(
            e("vault:v0:AA"),
            "ciphertext or signature version is disallowed by policy (too old)"
        );
    }

    #[test]
    fn rsa_options() {
        let p = key(KeyType::Rsa2048, false);
        // salt: 256 - 2 - 32 = 222 is the largest for SHA-256.
        let s = |n| opts("sha2-256", Marshaling::Asn1, "pss", PssSalt::Len(n), false);
        assert!(p.sign(0, b"", b"m", &s(222)).is_ok());
        assert_eq!(
            p.sign(0, b"", b"m", &s(223)).unwrap_err(),
            Error::SaltLengthInvalid(223)
        );
        let signed = p.sign(0, b"", b"m", &s(5)).unwrap();
        assert!(
            p.verify_signature(b"", b"m", &signed.signature, &s(5))
                .unwrap()
        );
        assert!(
            !p.verify_signature(b"", b"m", &signed.signature, &s(6))
                .unwrap()
        );
        let bad_alg = opts("sha2-256", Marshaling::Asn1, "pss2", PssSalt::Auto, false);
        assert_eq!(
            p.sign(0, b"", b"m", &bad_alg).unwrap_err().to_string(),
            "unsupported rsa signature algorithm pss2"
        );
        let sha3 = opts("sha3-256", Marshaling::Asn1, "pss", PssSalt::Auto, false);
        assert!(matches!(
            p.sign(0, b"", b"m", &sha3).unwrap_err(),
            Error::RsaHashUnsupported(_)
        ));
        // none + pkcs1v15 + prehashed signs a DigestInfo as the SHA-256 signature.
        let none = opts("none", Marshaling::Asn1, "pkcs1v15", PssSalt::Auto, true);
        none.check().unwrap();
        assert_eq!(
            opts("none", Marshaling::Asn1, "pss", PssSalt::Auto, true)
                .check()
                .unwrap_err(),
            Error::HashNoneRequires
        );
        let mut info = vec![
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
            0x01, 0x05, 0x00, 0x04, 0x20,
        ];
        info.extend_from_slice(&HashAlgorithm::Sha2_256.digest(b"m"));
        let raw = p.sign(0, b"", &info, &none).unwrap();
        let pkcs1 = opts(
            "sha2-256",
            Marshaling::Asn1,
            "pkcs1v15",
            PssSalt::Auto,
            false,
        );
        assert!(
            p.verify_signature(b"", b"m", &raw.signature, &pkcs1)
                .unwrap()
        );
        assert!(
            p.verify_signature(b"", &info, &raw.signature, &none)
                .unwrap()
        );
        assert_eq!(
            p.sign(0, b"", b"raw", &none).unwrap_err(),
            Error::RsaRawInput
        );
        // Prehashed with the wrong length.
        let pre = opts("sha2-256", Marshaling::Asn1, "pss", PssSalt::Auto, true);
        assert!(matches!(
            p.sign(0, b"", b"short", &pre).unwrap_err(),
            Error::RsaSign(_)
        ));
        assert!(
            !p.verify_signature(b"", b"short", &raw.signature, &pre)
                .unwrap()
        );
    }

    #[test]
    fn salt_texts() {
        assert_eq!(parse_salt_length("AUTO").unwrap(), PssSalt::Auto);
        assert_eq!(parse_salt_length("0").unwrap(), PssSalt::Auto);
        assert_eq!(parse_salt_length("-1").unwrap(), PssSalt::Hash);
        assert_eq!(parse_salt_length("7").unwrap(), PssSalt::Len(7));
        assert_eq!(
            parse_salt_length("-2").unwrap_err().to_string(),
            "salt length is invalid: -2"
        );
        assert_eq!(
            parse_salt_length("foobar").unwrap_err().to_string(),
            "salt length neither 'auto', 'hash', nor an int: foobar"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn ed25519_and_ecdsa_round_trip(message in proptest::collection::vec(any::<u8>(), 0..200), which in 0usize..4, jws in any::<bool>()) {
            let ty = SIGNING[which];
            let p = key(ty, false);
            let m = if jws { Marshaling::Jws } else { Marshaling::Asn1 };
            let o = opts("sha2-256", m, "", PssSalt::Auto, false);
            let s = p.sign(0, b"", &message, &o).unwrap();
            prop_assert!(p.verify_signature(b"", &message, &s.signature, &o).unwrap());
        }

        #[test]
        fn malformed_signatures_are_errors_or_false(sig in ".{0,120}", which in 0usize..5) {
            let ty = SIGNING[which];
            static KEYS: std::sync::OnceLock<Vec<Policy>> = std::sync::OnceLock::new();
            let keys = KEYS.get_or_init(|| SIGNING[..5].iter().map(|t| key(*t, false)).collect());
            let p = &keys[which];
            for m in [Marshaling::Asn1, Marshaling::Jws] {
                let o = opts("sha2-256", m, "", PssSalt::Auto, false);
                let _ = p.verify_signature(b"", b"m", &sig, &o);
                let framed = format!("vault:v1:{sig}");
                if let Ok(valid) = p.verify_signature(b"", b"m", &framed, &o) {
                    prop_assert!(!valid, "{ty} accepted {framed}");
                }
            }
        }

        #[test]
        fn random_bytes_never_verify(bytes in proptest::collection::vec(any::<u8>(), 0..600), which in 0usize..5) {
            static KEYS: std::sync::OnceLock<Vec<Policy>> = std::sync::OnceLock::new();
            let keys = KEYS.get_or_init(|| SIGNING[..5].iter().map(|t| key(*t, false)).collect());
            let p = &keys[which];
            let o = SignOptions::default();
            let framed = format!("vault:v1:{}", gobase64::encode(&bytes));
            if let Ok(valid) = p.verify_signature(b"", b"m", &framed, &o) {
                prop_assert!(!valid);
            }
        }
    }
}
