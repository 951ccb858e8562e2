//! The Vault Transit engine: named, versioned, rotatable keys and every
//! operation on them (encrypt, decrypt, rewrap, data keys, HMAC, sign and
//! verify, hash, random, export, backup and restore, BYOK import), with
//! Vault's formats and rules. No HTTP here: `http-api` parses requests into
//! this crate's typed values.
//!
//! Status: the engine arrives with the transit issues; today the crate holds
//! its error type only.
#![forbid(unsafe_code)]

/// Everything that can go wrong in the transit engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Storage underneath the engine failed.
    #[error("storage failed: {0}")]
    Storage(String),
}
