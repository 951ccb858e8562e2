//! Vault ACL policies for the `/v1` routes: parsing (HCL or JSON), path
//! rules with `*` prefix globs and `+` segment wildcards, capabilities, and
//! the compiled [`Acl`] of a set of policies with Vault's precedence.
//!
//! Precedence, as Vault has it: an exact rule wins; otherwise among the
//! matching glob and segment-wildcard rules the one whose first wildcard
//! comes latest wins, then a non-prefix rule over a prefix rule, then fewer
//! `+` segments, then the longer rule. Rules for the same path from several
//! policies merge their capabilities, and `deny` in any of them wins.

mod compiled;
mod policy;

pub use compiled::{Acl, AclDecision, Operation};
pub use policy::{AclPolicy, Capabilities, Capability, PathRule, PolicyError, PolicyName};
