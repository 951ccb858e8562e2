//! The Vault Transit engine: named, versioned, rotatable keys and every
//! operation on them, with Vault's formats, rules and error texts. No HTTP
//! here: `http-api` parses requests into this crate's typed values.
//!
//! - [`Transit`] is one mount: its keys in the encrypted store and in an
//!   in-memory cache ([`Transit::get`] never reads storage for a cached key),
//!   creation, rotation, configuration, trim, delete, backup and restore,
//!   auto-rotation ([`Transit::rotate_due`]).
//! - [`Policy`] is one key, an immutable snapshot: encrypt, decrypt, rewrap,
//!   data keys ([`Policy::encrypt`] ...), HMAC ([`Policy::hmac_signer`],
//!   [`Policy::verify_hmac`]) and export ([`Policy::export`]).
//! - Stateless helpers: [`HashAlgorithm`] (hash and HMAC), [`random`].
//! - [`Error`] carries Vault's exact texts and, through [`ErrorKind`], how
//!   HTTP should answer each.
//!
//! - Signing keys ([`Policy::sign`], [`Policy::verify_signature`]) and
//!   BYOK import ([`Policy::imported`], [`WrappingKey`]).
//!
//! Crypto: ring (AES-GCM, ChaCha20-Poly1305, HMAC, HKDF, SHA-1/2),
//! RustCrypto (SHA-224, SHA-3, ECDSA on P-256/384/521, ed25519-dalek,
//! AES-KWP) and aws-lc-rs for every RSA operation. Key material lives in [`SecretBytes`]
//! (zeroed on drop, `Debug` redacted) and reaches storage only through the
//! barrier, which encrypts it.
#![forbid(unsafe_code)]

mod asym;
mod backup;
mod bigdec;
mod byok;
mod cache;
mod certs;
mod cipher;
mod crypt;
pub mod der_lite;
mod engine;
mod error;
mod export;
pub mod gobase64;
pub mod gotime;
mod hash;
mod kdf;
mod key_type;
mod mac;
mod material;
mod name;
mod policy;
pub mod prefixed;
pub mod random;
mod secret;
mod sign;

pub use asym::{AsymmetricKey, OaepHash, PssSalt};
pub use byok::{
    ImportMaterial, ImportOptions, WrappingKey, byok_export, decode_ciphertext, kwp_unwrap,
    kwp_wrap, parse_hash_function,
};
pub use crypt::{CipherInput, Encrypted, sealed_len};
pub use engine::{ImportSource, RotationReport, Transit};
pub use error::{DeleteRefusal, Error, ErrorKind};
pub use export::ExportType;
pub use hash::{HashAlgorithm, HashFormat};
pub use kdf::Kdf;
pub use key_type::{Curve, KeyType, RsaBits};
pub use mac::HmacSigner;
pub use material::{CertificateChain, KeyMaterial, VersionMaterial};
pub use name::KeyName;
pub use policy::{ConfigChange, Configured, KeyOptions, Policy, RotatePeriod, Stamp};
pub use secret::SecretBytes;
pub use sign::{Marshaling, PublicKeyEntry, SignOptions, SignatureHash, Signed, parse_salt_length};
