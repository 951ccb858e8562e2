//! What the Vault family needs beyond its envelope: Vault's request
//! semantics ([`request`]), Go's parsers for its error texts ([`goparse`]),
//! and the mount table ([`mounts`]).

pub(crate) mod batch_json;
pub(crate) mod goparse;
pub(crate) mod mounts;
pub(crate) mod request;
