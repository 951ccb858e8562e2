//! Asymmetric key material: ed25519 (ed25519-dalek), ECDSA on P-256/384/521
//! (p256/p384/p521) and RSA (aws-lc-rs, for every RSA operation). One
//! [`AsymmetricKey`] is one version's key pair, or its public half only
//! (a public-key import), parsed once and kept ready for use: signing and
//! verifying never parse a key.
//!
//! Stored form (inside the barrier): the type, the private part (ed25519:
//! the 32-byte seed; ECDSA: the scalar; RSA: PKCS#8 DER) and the public part
//! (ed25519: 32 bytes; ECDSA: the uncompressed SEC1 point; RSA: SPKI DER).

#[cfg(feature = "rsa")]
use std::collections::HashMap;
#[cfg(feature = "rsa")]
use std::sync::{Mutex, OnceLock};

#[cfg(feature = "rsa")]
use aws_lc_rs::digest as ldigest;
#[cfg(feature = "rsa")]
use aws_lc_rs::encoding::AsDer;
#[cfg(feature = "rsa")]
use aws_lc_rs::rsa as lrsa;
#[cfg(feature = "rsa")]
use aws_lc_rs::signature::{self as lsig, KeyPair as _, RsaPssSaltLength};
use der::{Decode, asn1::ObjectIdentifier};
use zeroize::Zeroizing;

use crate::key_type::{Algorithm, Curve, RsaBits};
use crate::{Error, HashAlgorithm, KeyType, SecretBytes, bigdec, der_lite, gobase64};

const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_X25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.110");
const OID_NSS_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11591.15.1");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");

impl Curve {
    fn oid(self) -> ObjectIdentifier {
        match self {
            Curve::P256 => OID_P256,
            Curve::P384 => OID_P384,
            Curve::P521 => OID_P521,
        }
    }

    fn from_oid(oid: &ObjectIdentifier) -> Option<Curve> {
        [Curve::P256, Curve::P384, Curve::P521]
            .into_iter()
            .find(|c| c.oid() == *oid)
    }
}

/// An ECDSA signing key on one of the curves.
enum EcSigner {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
}

/// An ECDSA verifying key on one of the curves.
enum EcVerifier {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(p521::ecdsa::VerifyingKey),
}

/// Runs `$body` with `$k` bound to the curve-specific key and `$m` to the
/// curve's crate.
macro_rules! on_curve {
    ($e:expr, $ty:ident, $k:ident, $m:ident => $body:expr) => {
        match $e {
            $ty::P256($k) => {
                #[allow(unused_imports)]
                use p256 as $m;
                $body
            }
            $ty::P384($k) => {
                #[allow(unused_imports)]
                use p384 as $m;
                $body
            }
            $ty::P521($k) => {
                #[allow(unused_imports)]
                use p521 as $m;
                $body
            }
        }
    };
}

struct EdPrivate {
    /// Go's 64-byte private key, seed || public: what Vault stores and
    /// exports, and the input of key derivation.
    go_key: SecretBytes,
    signer: EdSigner,
}

/// Who makes Ed25519 signatures. With aws-lc-rs (it comes with the `rsa`
/// feature): the same deterministic signatures as ed25519-dalek at about
/// 2.4 times its rate here (its base-point multiplication is s2n-bignum's),
/// which is the cost of a sign request. Without it, ed25519-dalek.
#[cfg(feature = "rsa")]
struct EdSigner(aws_lc_rs::signature::Ed25519KeyPair);
#[cfg(not(feature = "rsa"))]
struct EdSigner(ed25519_dalek::SigningKey);

impl EdSigner {
    /// The signer of a 32-byte seed, and its public key.
    fn from_seed(seed: &[u8; 32]) -> Result<(EdSigner, [u8; 32]), String> {
        #[cfg(feature = "rsa")]
        {
            use aws_lc_rs::signature::KeyPair as _;
            let pair = aws_lc_rs::signature::Ed25519KeyPair::from_seed_unchecked(seed)
                .map_err(|_| corrupt("not an ed25519 seed"))?;
            let public: [u8; 32] = pair
                .public_key()
                .as_ref()
                .try_into()
                .map_err(|_| corrupt("an ed25519 public key is 32 bytes"))?;
            Ok((EdSigner(pair), public))
        }
        #[cfg(not(feature = "rsa"))]
        {
            let key = ed25519_dalek::SigningKey::from_bytes(seed);
            let public = key.verifying_key().to_bytes();
            Ok((EdSigner(key), public))
        }
    }

    fn sign(&self, message: &[u8]) -> Option<[u8; 64]> {
        #[cfg(feature = "rsa")]
        {
            self.0.sign(message).as_ref().try_into().ok()
        }
        #[cfg(not(feature = "rsa"))]
        {
            use ed25519_dalek::Signer as _;
            Some(self.0.sign(message).to_bytes())
        }
    }
}

struct EcPrivate {
    /// The scalar, big-endian, `field_len` bytes.
    d: SecretBytes,
    signer: EcSigner,
}

#[cfg(feature = "rsa")]
struct RsaPrivate {
    pkcs8: SecretBytes,
    pair: lrsa::KeyPair,
    decrypting: lrsa::OaepPrivateDecryptingKey,
}

enum Inner {
    Ed25519 {
        private: Option<EdPrivate>,
        public: ed25519_dalek::VerifyingKey,
    },
    Ecdsa {
        curve: Curve,
        private: Option<EcPrivate>,
        /// Uncompressed SEC1 point.
        point: Vec<u8>,
        verifier: EcVerifier,
    },
    #[cfg(feature = "rsa")]
    Rsa {
        bits: RsaBits,
        private: Option<RsaPrivate>,
        spki: Vec<u8>,
        encrypting: lrsa::OaepPublicEncryptingKey,
    },
}

/// One version's asymmetric key: a key pair, or a public key alone.
/// `Debug` shows the type and the public key only.
pub struct AsymmetricKey {
    key_type: KeyType,
    inner: Inner,
}

impl std::fmt::Debug for AsymmetricKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsymmetricKey")
            .field("type", &self.key_type.as_str())
            .field("private", &self.has_private().then_some("[REDACTED]"))
            .field("public", &self.public_key_text())
            .finish()
    }
}

impl PartialEq for AsymmetricKey {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        let (a, b) = (self.stored(), other.stored());
        self.key_type == other.key_type
            && a.public == b.public
            && match (&a.private, &b.private) {
                (Some(x), Some(y)) => x.expose().ct_eq(y.expose()).into(),
                (None, None) => true,
                _ => false,
            }
    }
}
impl Eq for AsymmetricKey {}

/// The parts a key is stored as.
pub(crate) struct StoredParts {
    pub(crate) private: Option<SecretBytes>,
    pub(crate) public: Vec<u8>,
}

#[cfg(feature = "rsa")]
fn randomness() -> Error {
    Error::Randomness
}

fn corrupt(reason: impl Into<String>) -> String {
    reason.into()
}

/// The Go type name Vault prints for a parsed key.
fn go_type_name(alg: &Algorithm, private: bool) -> &'static str {
    match (alg, private) {
        (Algorithm::Ed25519, true) => "ed25519.PrivateKey",
        (Algorithm::Ed25519, false) => "ed25519.PublicKey",
        (Algorithm::Ecdsa(_), true) => "*ecdsa.PrivateKey",
        (Algorithm::Ecdsa(_), false) => "*ecdsa.PublicKey",
        (_, true) => "*rsa.PrivateKey",
        (_, false) => "*rsa.PublicKey",
    }
}

/// A key parsed from an import, before it is checked against the type.
// Without `rsa` the RSA forms are recognized (to name them in errors) but never used.
#[cfg_attr(not(feature = "rsa"), allow(dead_code))]
enum Parsed {
    Ed25519Seed(Zeroizing<Vec<u8>>),
    Ed25519Public(Vec<u8>),
    EcPrivate(Curve, Zeroizing<Vec<u8>>),
    EcPublic(Curve, Vec<u8>),
    RsaPrivate(Zeroizing<Vec<u8>>),
    RsaPublic(Vec<u8>),
}

impl Parsed {
    fn algorithm(&self) -> Algorithm {
        match self {
            Parsed::Ed25519Seed(_) | Parsed::Ed25519Public(_) => Algorithm::Ed25519,
            Parsed::EcPrivate(c, _) | Parsed::EcPublic(c, _) => Algorithm::Ecdsa(*c),
            Parsed::RsaPrivate(_) | Parsed::RsaPublic(_) => Algorithm::Rsa(RsaBits::B2048),
        }
    }

    fn is_private(&self) -> bool {
        matches!(
            self,
            Parsed::Ed25519Seed(_) | Parsed::EcPrivate(..) | Parsed::RsaPrivate(_)
        )
    }
}

impl AsymmetricKey {
    /// A fresh key pair of `key_type`. RSA generation takes long (RSA-4096:
    /// up to seconds): callers on an async runtime run it on a blocking thread.
    pub fn generate(key_type: KeyType) -> Result<AsymmetricKey, Error> {
        match key_type.algorithm() {
            Algorithm::Ed25519 => {
                let seed = SecretBytes::random(32)?;
                Self::ed25519(key_type, Some(seed.expose()), None).map_err(|_| Error::Randomness)
            }
            Algorithm::Ecdsa(curve) => loop {
                let mut d =
                    Zeroizing::new(SecretBytes::random(curve.field_len())?.expose().to_vec());
                if curve == Curve::P521 {
                    d[0] &= 0x01;
                }
                if let Ok(k) = Self::ecdsa(key_type, curve, Some(&d), None) {
                    return Ok(k);
                }
            },
            #[cfg(not(feature = "rsa"))]
            Algorithm::Rsa(_) => Err(Error::RsaNotBuilt),
            #[cfg(feature = "rsa")]
            Algorithm::Rsa(bits) => {
                let size = match bits {
                    RsaBits::B2048 => lrsa::KeySize::Rsa2048,
                    RsaBits::B3072 => lrsa::KeySize::Rsa3072,
                    RsaBits::B4096 => lrsa::KeySize::Rsa4096,
                };
                let pair = lrsa::KeyPair::generate(size).map_err(|_| randomness())?;
                let pkcs8 = pair.as_der().map_err(|_| randomness())?;
                Self::rsa_private(key_type, pkcs8.as_ref()).map_err(|_| randomness())
            }
            _ => Err(Error::UnknownKeyType(key_type.to_string())),
        }
    }

    /// The key from its stored parts.
    pub(crate) fn from_parts(
        key_type: KeyType,
        private: Option<&[u8]>,
        public: &[u8],
    ) -> Result<AsymmetricKey, String> {
        let key = match key_type.algorithm() {
            Algorithm::Ed25519 => Self::ed25519(key_type, private, Some(public))?,
            Algorithm::Ecdsa(curve) => Self::ecdsa(key_type, curve, private, Some(public))?,
            #[cfg(not(feature = "rsa"))]
            Algorithm::Rsa(_) => return Err(Error::RsaNotBuilt.to_string()),
            #[cfg(feature = "rsa")]
            Algorithm::Rsa(_) => match private {
                Some(pkcs8) => Self::rsa_private(key_type, pkcs8)?,
                None => Self::rsa_public(key_type, public)?,
            },
            _ => return Err(corrupt(format!("{key_type} is not asymmetric"))),
        };
        if key.stored().public != public {
            return Err(corrupt("the public key does not match the private key"));
        }
        Ok(key)
    }

    fn ed25519(
        key_type: KeyType,
        seed: Option<&[u8]>,
        public: Option<&[u8]>,
    ) -> Result<AsymmetricKey, String> {
        let private = match seed {
            Some(seed) => {
                let seed: &[u8; 32] = seed
                    .try_into()
                    .map_err(|_| corrupt("an ed25519 seed is 32 bytes"))?;
                let (signer, public) = EdSigner::from_seed(seed)?;
                let public = ed25519_dalek::VerifyingKey::from_bytes(&public)
                    .map_err(|_| corrupt("not an ed25519 public key"))?;
                let mut go_key = Zeroizing::new(Vec::with_capacity(64));
                go_key.extend_from_slice(seed);
                go_key.extend_from_slice(public.as_bytes());
                Some((
                    EdPrivate {
                        go_key: SecretBytes::new(go_key.to_vec()),
                        signer,
                    },
                    public,
                ))
            }
            None => None,
        };
        let (private, public) = match (private, public) {
            (Some((p, public)), _) => (Some(p), public),
            (None, Some(bytes)) => {
                let bytes: &[u8; 32] = bytes
                    .try_into()
                    .map_err(|_| corrupt("an ed25519 public key is 32 bytes"))?;
                let public = ed25519_dalek::VerifyingKey::from_bytes(bytes)
                    .map_err(|_| corrupt("not an ed25519 public key"))?;
                (None, public)
            }
            (None, None) => return Err(corrupt("no key")),
        };
        Ok(AsymmetricKey {
            key_type,
            inner: Inner::Ed25519 { private, public },
        })
    }

    fn ecdsa(
        key_type: KeyType,
        curve: Curve,
        d: Option<&[u8]>,
        point: Option<&[u8]>,
    ) -> Result<AsymmetricKey, String> {
        let bad = |_| corrupt("not a valid key for the curve");
        let private = match d {
            Some(d) => {
                let d =
                    bigdec::pad(d, curve.field_len()).ok_or_else(|| corrupt("scalar too long"))?;
                let signer = match curve {
                    Curve::P256 => {
                        EcSigner::P256(p256::ecdsa::SigningKey::from_slice(&d).map_err(bad)?)
                    }
                    Curve::P384 => {
                        EcSigner::P384(p384::ecdsa::SigningKey::from_slice(&d).map_err(bad)?)
                    }
                    Curve::P521 => {
                        EcSigner::P521(p521::ecdsa::SigningKey::from_slice(&d).map_err(bad)?)
                    }
                };
                Some(EcPrivate {
                    d: SecretBytes::new(d.to_vec()),
                    signer,
                })
            }
            None => None,
        };
        let verifier = match (&private, point) {
            (Some(p), _) => on_curve!(&p.signer, EcSigner, k, m => {
                let v: m::ecdsa::VerifyingKey = *k.verifying_key();
                match curve {
                    Curve::P256 => EcVerifier::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(&v.to_sec1_point(false).to_bytes()).map_err(bad)?),
                    Curve::P384 => EcVerifier::P384(p384::ecdsa::VerifyingKey::from_sec1_bytes(&v.to_sec1_point(false).to_bytes()).map_err(bad)?),
                    Curve::P521 => EcVerifier::P521(p521::ecdsa::VerifyingKey::from_sec1_bytes(&v.to_sec1_point(false).to_bytes()).map_err(bad)?),
                }
            }),
            (None, Some(point)) => match curve {
                Curve::P256 => EcVerifier::P256(
                    p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(bad)?,
                ),
                Curve::P384 => EcVerifier::P384(
                    p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(bad)?,
                ),
                Curve::P521 => EcVerifier::P521(
                    p521::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(bad)?,
                ),
            },
            (None, None) => return Err(corrupt("no key")),
        };
        let point =
            on_curve!(&verifier, EcVerifier, v, _m => v.to_sec1_point(false).to_bytes().to_vec());
        Ok(AsymmetricKey {
            key_type,
            inner: Inner::Ecdsa {
                curve,
                private,
                point,
                verifier,
            },
        })
    }

    #[cfg(feature = "rsa")]
    fn rsa_bits_of(key_type: KeyType) -> Result<RsaBits, String> {
        match key_type.algorithm() {
            Algorithm::Rsa(bits) => Ok(bits),
            _ => Err(corrupt("not an RSA type")),
        }
    }

    #[cfg(feature = "rsa")]
    fn rsa_private(key_type: KeyType, pkcs8: &[u8]) -> Result<AsymmetricKey, String> {
        let bits = Self::rsa_bits_of(key_type)?;
        let pair = lrsa::KeyPair::from_pkcs8(pkcs8).map_err(|e| corrupt(e.to_string()))?;
        let decrypting = lrsa::PrivateDecryptingKey::from_pkcs8(pkcs8)
            .map_err(|e| corrupt(e.to_string()))
            .and_then(|k| {
                lrsa::OaepPrivateDecryptingKey::new(k).map_err(|_| corrupt("RSA private key"))
            })?;
        let spki = pair
            .public_key()
            .as_der()
            .map_err(|_| corrupt("RSA public key"))?
            .as_ref()
            .to_vec();
        let encrypting = Self::oaep_public(&spki)?;
        Ok(AsymmetricKey {
            key_type,
            inner: Inner::Rsa {
                bits,
                private: Some(RsaPrivate {
                    pkcs8: SecretBytes::new(pkcs8.to_vec()),
                    pair,
                    decrypting,
                }),
                spki,
                encrypting,
            },
        })
    }

    #[cfg(feature = "rsa")]
    fn oaep_public(spki: &[u8]) -> Result<lrsa::OaepPublicEncryptingKey, String> {
        lrsa::PublicEncryptingKey::from_der(spki)
            .map_err(|e| corrupt(e.to_string()))
            .and_then(|k| {
                lrsa::OaepPublicEncryptingKey::new(k).map_err(|_| corrupt("RSA public key"))
            })
    }

    #[cfg(feature = "rsa")]
    fn rsa_public(key_type: KeyType, spki: &[u8]) -> Result<AsymmetricKey, String> {
        let bits = Self::rsa_bits_of(key_type)?;
        let encrypting = Self::oaep_public(spki)?;
        Ok(AsymmetricKey {
            key_type,
            inner: Inner::Rsa {
                bits,
                private: None,
                spki: spki.to_vec(),
                encrypting,
            },
        })
    }

    /// The type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// True when this version holds a private key (false after a
    /// public-key-only import).
    pub fn has_private(&self) -> bool {
        match &self.inner {
            Inner::Ed25519 { private, .. } => private.is_some(),
            Inner::Ecdsa { private, .. } => private.is_some(),
            #[cfg(feature = "rsa")]
            Inner::Rsa { private, .. } => private.is_some(),
        }
    }

    /// The parts to store.
    pub(crate) fn stored(&self) -> StoredParts {
        match &self.inner {
            Inner::Ed25519 { private, public } => StoredParts {
                private: private
                    .as_ref()
                    .map(|p| SecretBytes::new(p.go_key.expose()[..32].to_vec())),
                public: public.as_bytes().to_vec(),
            },
            Inner::Ecdsa { private, point, .. } => StoredParts {
                private: private.as_ref().map(|p| p.d.clone()),
                public: point.clone(),
            },
            #[cfg(feature = "rsa")]
            Inner::Rsa { private, spki, .. } => StoredParts {
                private: private.as_ref().map(|p| p.pkcs8.clone()),
                public: spki.clone(),
            },
        }
    }

    /// True when both hold the same public key.
    pub(crate) fn same_public(&self, other: &AsymmetricKey) -> bool {
        self.stored().public == other.stored().public
    }

    /// SubjectPublicKeyInfo DER of an ECDSA or RSA key.
    fn spki(&self) -> Option<Vec<u8>> {
        match &self.inner {
            Inner::Ed25519 { .. } => None,
            Inner::Ecdsa { curve, point, .. } => Some(der_lite::sequence(&[
                &der_lite::sequence(&[
                    &der_lite::tlv(0x06, OID_EC_PUBLIC_KEY.as_bytes()),
                    &der_lite::tlv(0x06, curve.oid().as_bytes()),
                ]),
                &der_lite::bit_string(point),
            ])),
            #[cfg(feature = "rsa")]
            Inner::Rsa { spki, .. } => Some(spki.clone()),
        }
    }

    /// SubjectPublicKeyInfo DER of any key (ed25519 as RFC 8410): the key
    /// of a CSR, and what a certificate's key is compared with.
    pub(crate) fn spki_der(&self) -> Vec<u8> {
        match (&self.inner, self.spki()) {
            (Inner::Ed25519 { public, .. }, _) => der_lite::sequence(&[
                &der_lite::sequence(&[&der_lite::tlv(0x06, OID_ED25519.as_bytes())]),
                &der_lite::bit_string(public.as_bytes()),
            ]),
            (_, Some(spki)) => spki,
            (_, None) => Vec::new(),
        }
    }

    /// PKCS#8 DER of the private key, as Go's `MarshalPKCS8PrivateKey`
    /// writes it (what BYOK import reads): ed25519 as RFC 8410 (the seed),
    /// ECDSA with the curve in the algorithm and a SEC 1 key without it,
    /// RSA as stored. `None` for a public-key-only version.
    pub(crate) fn pkcs8_der(&self) -> Option<Zeroizing<Vec<u8>>> {
        let version0 = der_lite::tlv(0x02, &[0]);
        match &self.inner {
            Inner::Ed25519 { private, .. } => {
                let p = private.as_ref()?;
                let seed = Zeroizing::new(der_lite::tlv(0x04, &p.go_key.expose()[..32]));
                Some(Zeroizing::new(der_lite::sequence(&[
                    &version0,
                    &der_lite::sequence(&[&der_lite::tlv(0x06, OID_ED25519.as_bytes())]),
                    &der_lite::tlv(0x04, &seed),
                ])))
            }
            Inner::Ecdsa {
                curve,
                private,
                point,
                ..
            } => {
                let p = private.as_ref()?;
                let sec1 = Zeroizing::new(der_lite::sequence(&[
                    &der_lite::tlv(0x02, &[1]),
                    &der_lite::tlv(0x04, p.d.expose()),
                    &der_lite::tlv(0xa1, &der_lite::bit_string(point)),
                ]));
                Some(Zeroizing::new(der_lite::sequence(&[
                    &version0,
                    &der_lite::sequence(&[
                        &der_lite::tlv(0x06, OID_EC_PUBLIC_KEY.as_bytes()),
                        &der_lite::tlv(0x06, curve.oid().as_bytes()),
                    ]),
                    &der_lite::tlv(0x04, &sec1),
                ])))
            }
            #[cfg(feature = "rsa")]
            Inner::Rsa { private, .. } => private
                .as_ref()
                .map(|p| Zeroizing::new(p.pkcs8.expose().to_vec())),
        }
    }

    /// The public key as a read answer shows it: base64 of the raw key for
    /// ed25519, PEM `PUBLIC KEY` (with its final newline) otherwise.
    pub fn public_key_text(&self) -> String {
        match (&self.inner, self.spki()) {
            (Inner::Ed25519 { public, .. }, _) => gobase64::encode(public.as_bytes()),
            (_, Some(spki)) => der_lite::pem("PUBLIC KEY", &spki),
            (_, None) => String::new(),
        }
    }

    /// `export/public-key`: as [`Self::public_key_text`], except that Vault
    /// trims the PEM of ECDSA keys.
    pub fn public_key_export(&self) -> String {
        let text = self.public_key_text();
        match self.inner {
            Inner::Ecdsa { .. } => text.trim_end().to_string(),
            _ => text,
        }
    }

    /// `export/signing-key` (and `encryption-key` for RSA): ed25519 as
    /// base64 of Go's 64-byte private key, ECDSA as a trimmed PEM `EC
    /// PRIVATE KEY`, RSA as PEM `RSA PRIVATE KEY` (PKCS#1); `""` when the
    /// version has no private key.
    pub fn private_key_export(&self) -> Zeroizing<String> {
        Zeroizing::new(match &self.inner {
            Inner::Ed25519 { private, .. } => private
                .as_ref()
                .map(|p| gobase64::encode(p.go_key.expose()))
                .unwrap_or_default(),
            Inner::Ecdsa {
                curve,
                private,
                point,
                ..
            } => match private {
                Some(p) => {
                    let sec1 = Zeroizing::new(der_lite::sequence(&[
                        &der_lite::tlv(0x02, &[1]),
                        &der_lite::tlv(0x04, p.d.expose()),
                        &der_lite::tlv(0xa0, &der_lite::tlv(0x06, curve.oid().as_bytes())),
                        &der_lite::tlv(0xa1, &der_lite::bit_string(point)),
                    ]));
                    der_lite::pem("EC PRIVATE KEY", &sec1)
                        .trim_end()
                        .to_string()
                }
                None => String::new(),
            },
            #[cfg(feature = "rsa")]
            Inner::Rsa { private, .. } => match private {
                Some(p) => match pkcs1_of_pkcs8(p.pkcs8.expose()) {
                    Some(pkcs1) => der_lite::pem("RSA PRIVATE KEY", &pkcs1),
                    None => String::new(),
                },
                None => String::new(),
            },
        })
    }

    // --- ed25519 ---

    /// Go's 64-byte ed25519 private key (the IKM of derived keys).
    pub(crate) fn ed25519_go_key(&self) -> Option<&SecretBytes> {
        match &self.inner {
            Inner::Ed25519 {
                private: Some(p), ..
            } => Some(&p.go_key),
            _ => None,
        }
    }

    /// Pure Ed25519 signature of `message`.
    pub(crate) fn ed25519_sign(&self, message: &[u8]) -> Option<[u8; 64]> {
        match &self.inner {
            Inner::Ed25519 {
                private: Some(p), ..
            } => p.signer.sign(message),
            _ => None,
        }
    }

    /// Checks an Ed25519 signature (Go's rules: 64 bytes, canonical S).
    pub(crate) fn ed25519_verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.inner {
            Inner::Ed25519 { public, .. } => ed25519_verify(public, message, signature),
            _ => false,
        }
    }

    // --- ECDSA ---

    /// ECDSA over a digest, as Go's `ecdsa.Sign(rand, key, digest)` (any
    /// digest length; deterministic nonce per RFC 6979 instead of Go's
    /// hedged one, which no verifier can tell apart). Returns (r, s), each
    /// `field_len` bytes.
    pub(crate) fn ecdsa_sign(&self, digest: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
        use ecdsa::signature::hazmat::PrehashSigner;
        let Inner::Ecdsa {
            curve,
            private: Some(p),
            ..
        } = &self.inner
        else {
            return None;
        };
        let z = go_hash_to_int(digest, *curve);
        on_curve!(&p.signer, EcSigner, k, m => {
            let sig: m::ecdsa::Signature = k.sign_prehash(&z).ok()?;
            let (r, s) = sig.split_bytes();
            Some((r.to_vec(), s.to_vec()))
        })
    }

    /// Go's `ecdsa.Verify(pub, digest, r, s)`: r and s (sign, magnitude)
    /// must be in `[1, n-1]`; anything else is simply not valid.
    pub(crate) fn ecdsa_verify(&self, digest: &[u8], r: (bool, &[u8]), s: (bool, &[u8])) -> bool {
        use ecdsa::signature::hazmat::PrehashVerifier;
        let Inner::Ecdsa {
            curve, verifier, ..
        } = &self.inner
        else {
            return false;
        };
        if r.0 || s.0 {
            return false;
        }
        let len = curve.field_len();
        let (Some(r), Some(s)) = (bigdec::pad(r.1, len), bigdec::pad(s.1, len)) else {
            return false;
        };
        let z = go_hash_to_int(digest, *curve);
        on_curve!(verifier, EcVerifier, v, m => {
            let (Ok(r), Ok(s)) = (
                <m::FieldBytes>::try_from(&r[..]),
                <m::FieldBytes>::try_from(&s[..]),
            ) else {
                return false;
            };
            match m::ecdsa::Signature::from_scalars(r, s) {
                Ok(sig) => v.verify_prehash(&z, &sig).is_ok(),
                Err(_) => false,
            }
        })
    }

    // --- RSA ---

    /// The modulus size of an RSA key.
    pub(crate) fn rsa_bits(&self) -> Option<RsaBits> {
        match &self.inner {
            #[cfg(feature = "rsa")]
            Inner::Rsa { bits, .. } => Some(*bits),
            _ => None,
        }
    }

    #[cfg(feature = "rsa")]
    /// RSA-OAEP with SHA-256 (hash and MGF1), empty label: Vault's RSA
    /// encryption.
    pub(crate) fn rsa_encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        self.rsa_encrypt_oaep(plaintext, OaepHash::Sha256)
    }

    #[cfg(feature = "rsa")]
    /// RSA-OAEP encryption with `hash` for OAEP and MGF1 and no label
    /// (`byok-export` lets the caller choose the hash).
    pub(crate) fn rsa_encrypt_oaep(
        &self,
        plaintext: &[u8],
        hash: OaepHash,
    ) -> Result<Vec<u8>, Error> {
        let Inner::Rsa { encrypting, .. } = &self.inner else {
            return Err(Error::EncryptionNotSupported(self.key_type));
        };
        let alg = match hash {
            OaepHash::Sha1 => &lrsa::OAEP_SHA1_MGF1SHA1,
            OaepHash::Sha256 => &lrsa::OAEP_SHA256_MGF1SHA256,
            OaepHash::Sha384 => &lrsa::OAEP_SHA384_MGF1SHA384,
            OaepHash::Sha512 => &lrsa::OAEP_SHA512_MGF1SHA512,
        };
        let mut out = vec![0u8; encrypting.ciphertext_size()];
        let n = encrypting
            .encrypt(alg, plaintext, &mut out, None)
            .map_err(|_| Error::RsaEncrypt("crypto/rsa: message too long for RSA key size".into()))?
            .len();
        out.truncate(n);
        Ok(out)
    }

    #[cfg(feature = "rsa")]
    /// RSA-OAEP decryption with `hash` (SHA-256 for transit ciphertexts;
    /// BYOK lets the caller choose).
    pub(crate) fn rsa_decrypt(
        &self,
        ciphertext: &[u8],
        hash: OaepHash,
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let Inner::Rsa { private, .. } = &self.inner else {
            return Err(Error::DecryptionNotSupported(self.key_type));
        };
        let p = private.as_ref().ok_or(Error::RsaNoPrivateKey)?;
        let alg = match hash {
            OaepHash::Sha1 => &lrsa::OAEP_SHA1_MGF1SHA1,
            OaepHash::Sha256 => &lrsa::OAEP_SHA256_MGF1SHA256,
            OaepHash::Sha384 => &lrsa::OAEP_SHA384_MGF1SHA384,
            OaepHash::Sha512 => &lrsa::OAEP_SHA512_MGF1SHA512,
        };
        let mut out = Zeroizing::new(vec![0u8; p.decrypting.min_output_size()]);
        let n = p
            .decrypting
            .decrypt(alg, ciphertext, &mut out, None)
            .map_err(|_| Error::RsaDecrypt)?
            .len();
        out.truncate(n);
        Ok(out)
    }

    /// The largest PSS salt for `hash` (Go's `(bits-1+7)/8 - 2 - hLen`).
    pub(crate) fn rsa_max_salt(&self, hash_len: usize) -> i64 {
        let bits = self.rsa_bits().map_or(0, |b| b.bytes() * 8);
        ((bits - 1).div_ceil(8) as i64) - 2 - hash_len as i64
    }

    #[cfg(feature = "rsa")]
    /// An RSA signature over `digest` (already hashed with `hash`).
    pub(crate) fn rsa_sign(
        &self,
        scheme: RsaScheme,
        hash: RsaHash,
        digest: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let Inner::Rsa { private, .. } = &self.inner else {
            return Err(Error::SigningNotSupported(self.key_type));
        };
        let p = private.as_ref().ok_or(Error::SignNoPrivateKey)?;
        let (dalg, _) = hash.algorithms()?;
        let digest = ldigest::Digest::import_less_safe(digest, dalg).map_err(|_| {
            Error::RsaSign("crypto/rsa: input must be hashed with given hash".into())
        })?;
        let encoding: &'static dyn lsig::RsaEncoding = match scheme {
            RsaScheme::Pkcs1v15 => hash.pkcs1_encoding()?,
            RsaScheme::Pss(salt) => pss_encoding(hash, salt.for_signing())?,
        };
        let mut sig = vec![0u8; p.pair.public_modulus_len()];
        p.pair
            .sign_digest(encoding, &digest, &mut sig)
            .map_err(|_| Error::RsaSign("crypto/rsa: signing failed".into()))?;
        Ok(sig)
    }

    #[cfg(feature = "rsa")]
    /// Checks an RSA signature over `digest`; any failure is `false`.
    /// PSS with `auto` accepts any salt length, as Go's does: the likely
    /// lengths (maximal, then the hash length) are tried first.
    pub(crate) fn rsa_verify(
        &self,
        scheme: RsaScheme,
        hash: RsaHash,
        digest: &[u8],
        signature: &[u8],
    ) -> bool {
        let Inner::Rsa { spki, .. } = &self.inner else {
            return false;
        };
        let Ok((dalg, hlen)) = hash.algorithms() else {
            return false;
        };
        let Ok(digest) = ldigest::Digest::import_less_safe(digest, dalg) else {
            return false;
        };
        let check = |params: &'static lsig::RsaParameters| {
            lsig::UnparsedPublicKey::new(params, spki)
                .verify_digest(&digest, signature)
                .is_ok()
        };
        match scheme {
            RsaScheme::Pkcs1v15 => hash.pkcs1_params().is_ok_and(check),
            RsaScheme::Pss(PssSalt::Auto) => {
                let max = self.rsa_max_salt(hlen);
                let first = [RsaPssSaltLength::Max, RsaPssSaltLength::Digest];
                let rest = (0..=max.max(0))
                    .filter_map(|n| u16::try_from(n).ok())
                    .filter(|n| usize::from(*n) != hlen && i64::from(*n) != max)
                    .map(RsaPssSaltLength::Custom);
                first
                    .into_iter()
                    .chain(rest)
                    .any(|salt| pss_params(hash, salt).is_ok_and(check))
            }
            RsaScheme::Pss(salt) => pss_params(hash, salt.for_signing()).is_ok_and(check),
        }
    }
}

/// Without the `rsa` feature no RSA key exists (making or loading one is
/// refused with [`Error::RsaNotBuilt`]), so every RSA operation answers as
/// it does for a key of another type.
#[cfg(not(feature = "rsa"))]
impl AsymmetricKey {
    pub(crate) fn rsa_encrypt(&self, _plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        Err(Error::EncryptionNotSupported(self.key_type))
    }

    pub(crate) fn rsa_encrypt_oaep(
        &self,
        _plaintext: &[u8],
        _hash: OaepHash,
    ) -> Result<Vec<u8>, Error> {
        Err(Error::EncryptionNotSupported(self.key_type))
    }

    pub(crate) fn rsa_decrypt(
        &self,
        _ciphertext: &[u8],
        _hash: OaepHash,
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        Err(Error::DecryptionNotSupported(self.key_type))
    }

    pub(crate) fn rsa_sign(
        &self,
        _scheme: RsaScheme,
        _hash: RsaHash,
        _digest: &[u8],
    ) -> Result<Vec<u8>, Error> {
        Err(Error::SigningNotSupported(self.key_type))
    }

    pub(crate) fn rsa_verify(
        &self,
        _scheme: RsaScheme,
        _hash: RsaHash,
        _digest: &[u8],
        _signature: &[u8],
    ) -> bool {
        false
    }
}

/// Go's `ed25519.Verify`.
pub(crate) fn ed25519_verify(
    public: &ed25519_dalek::VerifyingKey,
    message: &[u8],
    signature: &[u8],
) -> bool {
    let Ok(bytes) = <&[u8; 64]>::try_from(signature) else {
        return false;
    };
    let sig = ed25519_dalek::Signature::from_bytes(bytes);
    use ed25519_dalek::Verifier;
    public.verify(message, &sig).is_ok()
}

/// An ed25519 key pair from a 32-byte seed: (public key, signing key).
pub(crate) fn ed25519_from_seed(seed: &[u8]) -> Option<ed25519_dalek::SigningKey> {
    let seed: &[u8; 32] = seed.try_into().ok()?;
    Some(ed25519_dalek::SigningKey::from_bytes(seed))
}

/// Go's `hashToInt`: the leftmost `order_bits` bits of the digest, as a
/// big-endian number `field_len` bytes long (so the ECDSA crate reduces
/// exactly the value Go reduces, also for P-521 and long prehashed inputs).
fn go_hash_to_int(digest: &[u8], curve: Curve) -> Vec<u8> {
    let order_bits = curve.order_bits();
    let order_bytes = order_bits.div_ceil(8);
    let h = &digest[..digest.len().min(order_bytes)];
    let mut v = h.to_vec();
    let excess = (h.len() * 8).saturating_sub(order_bits);
    if excess > 0 {
        // Shift right by `excess` (< 8) bits.
        let mut carry = 0u8;
        for b in v.iter_mut() {
            let next = *b << (8 - excess);
            *b = (*b >> excess) | carry;
            carry = next;
        }
    }
    let len = curve.field_len();
    let mut out = vec![0u8; len];
    let take = v.len().min(len);
    out[len - take..].copy_from_slice(&v[v.len() - take..]);
    out
}

/// The hash functions of BYOK's RSA-OAEP that aws-lc-rs offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OaepHash {
    /// SHA-1.
    Sha1,
    /// SHA-256 (the default).
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// `salt_length` of RSA-PSS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PssSalt {
    /// `auto` (or `0`): maximal when signing, any when verifying.
    Auto,
    /// `hash` (or `-1`): the hash length.
    Hash,
    /// A length in bytes (1 and more).
    Len(u16),
}

#[cfg(feature = "rsa")]
impl PssSalt {
    fn for_signing(self) -> RsaPssSaltLength {
        match self {
            PssSalt::Auto => RsaPssSaltLength::Max,
            PssSalt::Hash => RsaPssSaltLength::Digest,
            PssSalt::Len(n) => RsaPssSaltLength::Custom(n),
        }
    }
}

/// An RSA signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RsaScheme {
    /// RSASSA-PSS with MGF1 over the same hash.
    Pss(PssSalt),
    /// RSASSA-PKCS1-v1_5.
    Pkcs1v15,
}

/// The hashes aws-lc-rs signs RSA with: SHA-256/384/512 (SHA-1 verifies
/// PKCS#1 v1.5 only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum RsaHash {
    /// SHA-1 (PKCS#1 v1.5 verification only).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl RsaHash {
    /// The RSA hash of a signature hash, or the error for those aws-lc-rs
    /// does not sign with.
    pub(crate) fn of(h: HashAlgorithm) -> Result<RsaHash, Error> {
        match h {
            HashAlgorithm::Sha1 => Ok(RsaHash::Sha1),
            HashAlgorithm::Sha2_256 => Ok(RsaHash::Sha256),
            HashAlgorithm::Sha2_384 => Ok(RsaHash::Sha384),
            HashAlgorithm::Sha2_512 => Ok(RsaHash::Sha512),
            other => Err(Error::RsaHashUnsupported(other.as_str())),
        }
    }

    #[cfg(feature = "rsa")]
    fn algorithms(self) -> Result<(&'static ldigest::Algorithm, usize), Error> {
        Ok(match self {
            RsaHash::Sha1 => (&ldigest::SHA1_FOR_LEGACY_USE_ONLY, 20),
            RsaHash::Sha256 => (&ldigest::SHA256, 32),
            RsaHash::Sha384 => (&ldigest::SHA384, 48),
            RsaHash::Sha512 => (&ldigest::SHA512, 64),
        })
    }

    #[cfg(feature = "rsa")]
    fn pkcs1_encoding(self) -> Result<&'static lsig::RsaSignatureEncoding, Error> {
        match self {
            RsaHash::Sha1 => Err(Error::RsaHashUnsupported("sha1")),
            RsaHash::Sha256 => Ok(&lsig::RSA_PKCS1_SHA256),
            RsaHash::Sha384 => Ok(&lsig::RSA_PKCS1_SHA384),
            RsaHash::Sha512 => Ok(&lsig::RSA_PKCS1_SHA512),
        }
    }

    #[cfg(feature = "rsa")]
    fn pkcs1_params(self) -> Result<&'static lsig::RsaParameters, Error> {
        Ok(match self {
            RsaHash::Sha1 => &lsig::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            RsaHash::Sha256 => &lsig::RSA_PKCS1_2048_8192_SHA256,
            RsaHash::Sha384 => &lsig::RSA_PKCS1_2048_8192_SHA384,
            RsaHash::Sha512 => &lsig::RSA_PKCS1_2048_8192_SHA512,
        })
    }

    /// The length of a digest of this hash.
    fn digest_len(self) -> usize {
        match self {
            RsaHash::Sha1 => 20,
            RsaHash::Sha256 => 32,
            RsaHash::Sha384 => 48,
            RsaHash::Sha512 => 64,
        }
    }

    /// The DigestInfo prefix of PKCS#1 v1.5 for this hash.
    fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            RsaHash::Sha1 => &[
                0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
                0x14,
            ],
            RsaHash::Sha256 => &[
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20,
            ],
            RsaHash::Sha384 => &[
                0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x02, 0x05, 0x00, 0x04, 0x30,
            ],
            RsaHash::Sha512 => &[
                0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x03, 0x05, 0x00, 0x04, 0x40,
            ],
        }
    }

    /// `hash_algorithm=none` with PKCS#1 v1.5 signs the raw input (Go's
    /// `SignPKCS1v15` with hash 0). aws-lc-rs pads only complete
    /// DigestInfo values, so the input must be one: its hash and digest.
    pub(crate) fn split_digest_info(raw: &[u8]) -> Option<(RsaHash, &[u8])> {
        [
            RsaHash::Sha1,
            RsaHash::Sha256,
            RsaHash::Sha384,
            RsaHash::Sha512,
        ]
        .into_iter()
        .find_map(|h| {
            let prefix = h.digest_info_prefix();
            let len = h.digest_len();
            (raw.len() == prefix.len() + len && raw.starts_with(prefix))
                .then(|| (h, &raw[prefix.len()..]))
        })
    }
}

#[cfg(feature = "rsa")]
type PssKey = (RsaHash, i32);

#[cfg(feature = "rsa")]
fn salt_key(salt: RsaPssSaltLength) -> i32 {
    match salt {
        RsaPssSaltLength::Digest => -1,
        RsaPssSaltLength::Max => -2,
        RsaPssSaltLength::Custom(n) => i32::from(n),
        _ => -3,
    }
}

/// aws-lc-rs wants `'static` PSS parameters; those for one (hash, salt)
/// are made once and kept (a few thousand at most, each tiny).
#[cfg(feature = "rsa")]
fn interned<T: Sync + Send + 'static>(
    cache: &'static OnceLock<Mutex<HashMap<PssKey, &'static T>>>,
    key: PssKey,
    make: impl FnOnce() -> T,
) -> &'static T {
    let mut map = cache
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    map.entry(key)
        .or_insert_with(|| Box::leak(Box::new(make())))
}

#[cfg(feature = "rsa")]
fn pss_encoding(
    hash: RsaHash,
    salt: RsaPssSaltLength,
) -> Result<&'static lsig::RsaSignatureEncoding, Error> {
    static CACHE: OnceLock<Mutex<HashMap<PssKey, &'static lsig::RsaSignatureEncoding>>> =
        OnceLock::new();
    let base = match hash {
        RsaHash::Sha1 => return Err(Error::RsaHashUnsupported("sha1")),
        RsaHash::Sha256 => lsig::RSA_PSS_SHA256,
        RsaHash::Sha384 => lsig::RSA_PSS_SHA384,
        RsaHash::Sha512 => lsig::RSA_PSS_SHA512,
    };
    Ok(interned(&CACHE, (hash, salt_key(salt)), || {
        base.with_pss_salt_length(salt)
    }))
}

#[cfg(feature = "rsa")]
fn pss_params(
    hash: RsaHash,
    salt: RsaPssSaltLength,
) -> Result<&'static lsig::RsaParameters, Error> {
    static CACHE: OnceLock<Mutex<HashMap<PssKey, &'static lsig::RsaParameters>>> = OnceLock::new();
    let base = match hash {
        RsaHash::Sha1 => return Err(Error::RsaHashUnsupported("sha1")),
        RsaHash::Sha256 => lsig::RSA_PSS_2048_8192_SHA256,
        RsaHash::Sha384 => lsig::RSA_PSS_2048_8192_SHA384,
        RsaHash::Sha512 => lsig::RSA_PSS_2048_8192_SHA512,
    };
    Ok(interned(&CACHE, (hash, salt_key(salt)), || {
        base.with_pss_salt_length(salt)
    }))
}

/// The PKCS#1 `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo`.
fn pkcs1_of_pkcs8(pkcs8: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let info = pkcs8::PrivateKeyInfoRef::from_der(pkcs8).ok()?;
    Some(Zeroizing::new(info.private_key.as_bytes().to_vec()))
}

/// RSA components of a PKCS#8 key (for Vault's backup blob): n, e, d, p,
/// q, dP, dQ, qInv.
pub(crate) fn rsa_components(pkcs8: &[u8]) -> Option<[Zeroizing<Vec<u8>>; 8]> {
    let pkcs1 = pkcs1_of_pkcs8(pkcs8)?;
    let k = pkcs1::RsaPrivateKey::<der::asn1::UintRef<'_>>::from_der(&pkcs1).ok()?;
    let v = |u: der::asn1::UintRef<'_>| Zeroizing::new(u.as_bytes().to_vec());
    Some([
        v(k.modulus),
        v(k.public_exponent),
        v(k.private_exponent),
        v(k.prime1),
        v(k.prime2),
        v(k.exponent1),
        v(k.exponent2),
        v(k.coefficient),
    ])
}

/// A PKCS#8 RSA key from its components (a restored backup); none without
/// the `rsa` feature (no RSA key can be made from it).
#[cfg(not(feature = "rsa"))]
pub(crate) fn rsa_pkcs8_from_components(
    _c: &[Zeroizing<Vec<u8>>; 8],
) -> Option<Zeroizing<Vec<u8>>> {
    None
}

/// A PKCS#8 RSA key from its components (a restored backup).
#[cfg(feature = "rsa")]
pub(crate) fn rsa_pkcs8_from_components(c: &[Zeroizing<Vec<u8>>; 8]) -> Option<Zeroizing<Vec<u8>>> {
    let comps = lrsa::KeyPairComponents {
        public_key: lrsa::PublicKeyComponents {
            n: &c[0][..],
            e: &c[1][..],
        },
        d: &c[2][..],
        p: &c[3][..],
        q: &c[4][..],
        dP: &c[5][..],
        dQ: &c[6][..],
        qInv: &c[7][..],
    };
    let pair = lrsa::KeyPair::from_components(&comps).ok()?;
    Some(Zeroizing::new(pair.as_der().ok()?.as_ref().to_vec()))
}

/// SPKI DER of an RSA public key from n and e.
pub(crate) fn rsa_spki_from_components(n: &[u8], e: &[u8]) -> Vec<u8> {
    let pkcs1 = der_lite::sequence(&[&der_lite::uint(n), &der_lite::uint(e)]);
    der_lite::sequence(&[
        &der_lite::sequence(&[
            &der_lite::tlv(0x06, OID_RSA.as_bytes()),
            &der_lite::tlv(0x05, &[]),
        ]),
        &der_lite::bit_string(&pkcs1),
    ])
}

/// n and e of an RSA SPKI.
pub(crate) fn rsa_public_components(spki: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let info = spki::SubjectPublicKeyInfoRef::from_der(spki).ok()?;
    let pkcs1 = info.subject_public_key.as_bytes()?;
    let k = pkcs1::RsaPublicKey::<der::asn1::UintRef<'_>>::from_der(pkcs1).ok()?;
    Some((
        k.modulus.as_bytes().to_vec(),
        k.public_exponent.as_bytes().to_vec(),
    ))
}

// --- import ---

/// An unwrapped PKCS#8 private key as Go's `x509.ParsePKCS8PrivateKey`
/// (with Vault's fallbacks for NSS-style Ed25519 and RSASSA-PSS keys)
/// would read it. The error is the text after `error importing key: `.
fn parse_pkcs8(der: &[u8]) -> Result<Parsed, String> {
    let info = pkcs8::PrivateKeyInfoRef::from_der(der).map_err(|e| {
        format!("error parsing asymmetric key: x509: failed to parse private key: {e}")
    })?;
    let oid = info.algorithm.oid;
    let key = info.private_key.as_bytes();
    if oid == OID_RSA || oid == OID_RSA_PSS {
        pkcs1::RsaPrivateKey::<der::asn1::UintRef<'_>>::from_der(key).map_err(|e| {
            format!("error parsing asymmetric key: x509: failed to parse RSA private key embedded in PKCS#8: {e}")
        })?;
        return Ok(Parsed::RsaPrivate(Zeroizing::new(der.to_vec())));
    }
    if oid == OID_ED25519 {
        if info.algorithm.parameters.is_some() {
            return Err(
                "error parsing asymmetric key: x509: invalid Ed25519 private key parameters".into(),
            );
        }
        let seed = der::asn1::OctetString::from_der(key).map_err(|e| {
            format!("error parsing asymmetric key: x509: invalid Ed25519 private key: {e}")
        })?;
        if seed.as_bytes().len() != 32 {
            return Err(format!(
                "error parsing asymmetric key: x509: invalid Ed25519 private key length: {}",
                seed.as_bytes().len()
            ));
        }
        return Ok(Parsed::Ed25519Seed(Zeroizing::new(
            seed.as_bytes().to_vec(),
        )));
    }
    if oid == OID_EC_PUBLIC_KEY {
        let curve_oid = info
            .algorithm
            .parameters
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        let ec = sec1::EcPrivateKey::from_der(key).map_err(|e| {
            format!("error parsing asymmetric key: x509: failed to parse EC private key embedded in PKCS#8: {e}")
        })?;
        return match curve_oid.as_ref().and_then(Curve::from_oid) {
            Some(curve) => {
                let d = bigdec::pad(ec.private_key, curve.field_len())
                    .ok_or("error parsing asymmetric key: x509: invalid elliptic curve private key value")?;
                Ok(Parsed::EcPrivate(curve, d))
            }
            None if curve_oid.is_some_and(|o| [OID_NSS_ED25519, OID_ED25519, OID_X25519].contains(&o)) => {
                if ec.private_key.len() != 32 {
                    return Err(format!(
                        "error parsing asymmetric key:\n - assuming contents are an ed25519 private key: ed25519: bad private key length: {}\n - original error: x509: unknown elliptic curve",
                        ec.private_key.len()
                    ));
                }
                Ok(Parsed::Ed25519Seed(Zeroizing::new(ec.private_key.to_vec())))
            }
            None => Err("error parsing asymmetric key:\n - assuming contents are an ed25519 private key: unknown curve\n - original error: x509: unknown elliptic curve".into()),
        };
    }
    Err(format!(
        "error parsing asymmetric key: x509: PKCS#8 wrapping contained private key with unknown algorithm: {oid}"
    ))
}

/// A PEM `PUBLIC KEY` as Go's `x509.ParsePKIXPublicKey` would read it.
fn parse_public_pem(text: &str) -> Result<Parsed, String> {
    let der = der_lite::pem_decode(text, "PUBLIC KEY")
        .ok_or("error parsing public key: not in PEM format")?;
    let info = spki::SubjectPublicKeyInfoRef::from_der(&der)
        .map_err(|e| format!("error parsing public key: {e}"))?;
    let oid = info.algorithm.oid;
    let bits = info
        .subject_public_key
        .as_bytes()
        .ok_or("error parsing public key: x509: invalid public key")?;
    if oid == OID_RSA {
        pkcs1::RsaPublicKey::<der::asn1::UintRef<'_>>::from_der(bits).map_err(|_| {
            "error parsing public key: x509: failed to parse RSA public key".to_string()
        })?;
        return Ok(Parsed::RsaPublic(der));
    }
    if oid == OID_ED25519 {
        if bits.len() != 32 {
            return Err("error parsing public key: x509: wrong Ed25519 public key size".into());
        }
        return Ok(Parsed::Ed25519Public(bits.to_vec()));
    }
    if oid == OID_EC_PUBLIC_KEY {
        let curve = info
            .algorithm
            .parameters
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
            .as_ref()
            .and_then(Curve::from_oid)
            .ok_or("error parsing public key: x509: unsupported elliptic curve")?;
        return Ok(Parsed::EcPublic(curve, bits.to_vec()));
    }
    Err("error parsing public key: x509: unknown public key algorithm".into())
}

impl AsymmetricKey {
    /// An imported private key (unwrapped PKCS#8 DER) for a key of
    /// `key_type`, with Vault's checks: the algorithm, the curve, the RSA
    /// size. The error is the text after `error importing key: `.
    pub(crate) fn import_private(key_type: KeyType, der: &[u8]) -> Result<AsymmetricKey, String> {
        let parsed = parse_pkcs8(der)?;
        Self::from_parsed(key_type, parsed)
    }

    /// An imported public key (PEM `PUBLIC KEY`).
    pub(crate) fn import_public(key_type: KeyType, pem: &str) -> Result<AsymmetricKey, String> {
        let parsed = parse_public_pem(pem)?;
        Self::from_parsed(key_type, parsed)
    }

    fn from_parsed(key_type: KeyType, parsed: Parsed) -> Result<AsymmetricKey, String> {
        let want = key_type.algorithm();
        let got = parsed.algorithm();
        let same_family = matches!(
            (want, got),
            (Algorithm::Ed25519, Algorithm::Ed25519)
                | (Algorithm::Ecdsa(_), Algorithm::Ecdsa(_))
                | (Algorithm::Rsa(_), Algorithm::Rsa(_))
        );
        if !same_family {
            return Err(format!(
                "invalid key type: expected {key_type}, got {}",
                go_type_name(&got, parsed.is_private())
            ));
        }
        let bad = |e: String| format!("error parsing asymmetric key: {e}");
        match (want, parsed) {
            (Algorithm::Ecdsa(curve), Parsed::EcPrivate(c, _)) if c != curve => Err(format!(
                "invalid curve: expected {}, got {}",
                curve.name(),
                c.name()
            )),
            (Algorithm::Ecdsa(curve), Parsed::EcPublic(c, _)) if c != curve => Err(format!(
                "invalid curve: expected {}, got {}",
                curve.name(),
                c.name()
            )),
            (Algorithm::Ecdsa(curve), Parsed::EcPrivate(_, d)) => {
                Self::ecdsa(key_type, curve, Some(&d), None).map_err(bad)
            }
            (Algorithm::Ecdsa(curve), Parsed::EcPublic(_, point)) => {
                Self::ecdsa(key_type, curve, None, Some(&point))
                    .map_err(|e| format!("error parsing public key: {e}"))
            }
            (_, Parsed::Ed25519Seed(seed)) => {
                Self::ed25519(key_type, Some(&seed), None).map_err(bad)
            }
            (_, Parsed::Ed25519Public(p)) => Self::ed25519(key_type, None, Some(&p))
                .map_err(|e| format!("error parsing public key: {e}")),
            #[cfg(not(feature = "rsa"))]
            (Algorithm::Rsa(_), Parsed::RsaPrivate(_) | Parsed::RsaPublic(_)) => {
                Err(Error::RsaNotBuilt.to_string())
            }
            #[cfg(feature = "rsa")]
            (Algorithm::Rsa(bits), parsed @ (Parsed::RsaPrivate(_) | Parsed::RsaPublic(_))) => {
                let key = match &parsed {
                    Parsed::RsaPrivate(der) => {
                        // Normalize RSASSA-PSS and other PKCS#8 forms to
                        // rsaEncryption by way of the PKCS#1 key inside.
                        let pkcs1 = pkcs1_of_pkcs8(der).ok_or_else(|| bad("RSA key".into()))?;
                        let pair =
                            lrsa::KeyPair::from_der(&pkcs1).map_err(|e| bad(e.to_string()))?;
                        let size = pair.public_modulus_len();
                        if size != bits.bytes() {
                            return Err(format!(
                                "invalid key size: expected {} bytes, got {size} bytes",
                                bits.bytes()
                            ));
                        }
                        let pkcs8 = pair.as_der().map_err(|_| bad("RSA key".into()))?;
                        Self::rsa_private(key_type, pkcs8.as_ref()).map_err(bad)?
                    }
                    Parsed::RsaPublic(spki) => {
                        let key = Self::rsa_public(key_type, spki)
                            .map_err(|e| format!("error parsing public key: {e}"))?;
                        let size = rsa_public_components(spki)
                            .map(|(n, _)| n.iter().skip_while(|b| **b == 0).count())
                            .unwrap_or(0);
                        if size != bits.bytes() {
                            return Err(format!(
                                "invalid key size: expected {} bytes, got {size} bytes",
                                bits.bytes()
                            ));
                        }
                        key
                    }
                    _ => return Err(bad("RSA key".into())),
                };
                Ok(key)
            }
            _ => Err(format!("invalid key type: expected {key_type}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_to_int_matches_go() {
        // P-256 takes the first 32 bytes of a longer digest.
        let d: Vec<u8> = (0u8..64).collect();
        assert_eq!(go_hash_to_int(&d, Curve::P256), d[..32].to_vec());
        // P-521: a 66-byte input keeps its leftmost 521 bits (shift by 7).
        let d = vec![0xffu8; 66];
        let z = go_hash_to_int(&d, Curve::P521);
        assert_eq!(z[0], 0x01);
        assert!(z[1..].iter().all(|b| *b == 0xff));
        // Short digests are left-padded.
        let z = go_hash_to_int(&[1, 2], Curve::P384);
        assert_eq!(z.len(), 48);
        assert_eq!(&z[46..], &[1, 2]);
    }

    #[test]
    fn stored_parts_round_trip_and_debug_is_redacted() {
        for t in [
            KeyType::Ed25519,
            KeyType::EcdsaP256,
            KeyType::EcdsaP384,
            KeyType::EcdsaP521,
            KeyType::Rsa2048,
        ] {
            let k = AsymmetricKey::generate(t).unwrap();
            let parts = k.stored();
            let back = AsymmetricKey::from_parts(
                t,
                parts.private.as_ref().map(|p| p.expose()),
                &parts.public,
            )
            .unwrap();
            assert_eq!(k, back);
            let public_only = AsymmetricKey::from_parts(t, None, &parts.public).unwrap();
            assert!(!public_only.has_private());
            assert!(public_only.same_public(&k));
            let secret = gobase64::encode(parts.private.as_ref().unwrap().expose());
            assert!(!format!("{k:?}").contains(&secret));
            assert!(!format!("{k:?}").contains(&*k.private_key_export()));
        }
    }

    #[test]
    fn digest_info_split() {
        let mut raw = RsaHash::Sha256.digest_info_prefix().to_vec();
        raw.extend_from_slice(&[7u8; 32]);
        let (h, d) = RsaHash::split_digest_info(&raw).unwrap();
        assert_eq!(h, RsaHash::Sha256);
        assert_eq!(d, &[7u8; 32]);
        assert!(RsaHash::split_digest_info(&raw[1..]).is_none());
    }
}
