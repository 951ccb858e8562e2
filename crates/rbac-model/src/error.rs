//! The crate's error type.

/// Everything that can go wrong in the identity model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A password could not be hashed.
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// A stored hash is not in a format this crate reads.
    #[error("unsupported password hash format")]
    UnsupportedHash,
    /// A user name is not acceptable.
    #[error("invalid user name: {0}")]
    InvalidName(String),
}
