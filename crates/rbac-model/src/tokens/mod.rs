//! Vault tokens: what a token grants ([`TokenEntry`]) and the store that
//! issues, looks up, renews and revokes them ([`TokenStore`]).
//!
//! Tokens are kept only as SHA-256 hashes, in storage (through the barrier,
//! under record names that are a salted HMAC of the hash) and in memory. Every token is loaded at start into an in-memory index, so
//! checking a token costs no storage read. Revoking a token revokes its
//! children, and theirs; a token past its TTL is treated as revoked.

mod entry;
mod store;

pub use entry::{TokenEntry, TokenId, TokenRequest};
pub use store::{DEFAULT_TTL_SECS, TokenError, TokenStore, TokenUse, salted_record_names};
