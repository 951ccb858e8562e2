//! What the Vault family needs beyond its envelope: Vault's request
//! semantics ([`request`]), Go's parsers for its error texts ([`goparse`]),
//! the mount table ([`mounts`]), the ACL policies ([`policies`]) and the
//! rate-limit quotas ([`quotas`]).

pub(crate) mod batch_json;
pub(crate) mod goparse;
pub(crate) mod mounts;
pub(crate) mod policies;
pub(crate) mod quotas;
pub(crate) mod request;
