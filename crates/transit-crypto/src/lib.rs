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
//!
//! # Features
//!
//! - `rsa` (default): the `rsa-2048`, `rsa-3072` and `rsa-4096` key types
//!   and BYOK import (whose wrapping key is RSA-4096), on aws-lc-rs. Without
//!   it the crate builds without aws-lc (no C toolchain, a smaller binary),
//!   and making, loading, importing or restoring an RSA key is refused with
//!   [`Error::RsaNotBuilt`].
//!
//! # Example
//!
//! One mount over an encrypted store, as an application embeds it: create a
//! key, encrypt, rotate, rewrap, decrypt. The ciphertexts are Vault's
//! (`vault:v<N>:...`), so a keyward server (or Vault, given the same key
//! through backup/restore) decrypts them.
//!
//! ```
//! use std::sync::Arc;
//! use keyring_core::{Barrier, Clock, MemoryStore, Timestamp};
//! use transit_crypto::{CipherInput, KeyName, KeyOptions, KeyType, Transit};
//!
//! /// Library crates never read the wall clock: the application passes one.
//! struct Fixed;
//! impl Clock for Fixed {
//!     fn now(&self) -> Timestamp { Timestamp::from_unix_secs(1_700_000_000) }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let barrier = Arc::new(Barrier::ephemeral(Arc::new(MemoryStore::new()))?);
//! let transit = Transit::open(barrier, "app/transit/", Arc::new(Fixed)).await?;
//! let name = KeyName::parse("orders").expect("a valid name");
//! let (key, _created) = transit.create(&name, &KeyOptions::new(KeyType::Aes256Gcm96)).await?;
//!
//! let input = CipherInput { associated_data: b"order-1234", ..CipherInput::default() };
//! let sealed = key.encrypt(b"3 widgets", &input)?;
//! assert!(sealed.ciphertext.starts_with("vault:v1:"));
//!
//! let key = transit.rotate(&name).await?;
//! let rewrapped = key.rewrap(&sealed.ciphertext, &input)?;
//! assert!(rewrapped.ciphertext.starts_with("vault:v2:"));
//! assert_eq!(&key.decrypt(&rewrapped.ciphertext, &input)?[..], b"3 widgets");
//! // The associated data is part of the ciphertext's identity.
//! assert!(key.decrypt(&rewrapped.ciphertext, &CipherInput::default()).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

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
