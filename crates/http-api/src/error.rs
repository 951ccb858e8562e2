//! The crate's error type: failures of setting the API up (not of requests,
//! which each family answers in its own body shape).

/// What can go wrong opening or bootstrapping the API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] keyring_core::Error),
    /// The identity model refused something.
    #[error(transparent)]
    Identity(#[from] rbac_model::Error),
    /// A stored record could not be read back.
    #[error("stored record {path} is unreadable: {reason}")]
    Record {
        /// Storage path.
        path: String,
        /// Why.
        reason: String,
    },
    /// The route table is inconsistent (a programming error caught at start).
    #[error("route table: {0}")]
    Routes(String),
}
