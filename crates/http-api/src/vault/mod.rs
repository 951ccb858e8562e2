//! What the Vault family needs beyond its envelope: Vault's request
//! semantics ([`request`]), Go's parsers for its error texts ([`goparse`]),
//! the mount table ([`mounts`]) and the ACL policies ([`policies`]).

pub(crate) mod batch_json;
pub(crate) mod goparse;
pub(crate) mod mounts;
pub(crate) mod policies;
pub(crate) mod request;
