//! Identity and access control: who a caller is ([`Principal`]), how a
//! password is checked ([`PasswordHash`]), and, as the identity issue grows
//! this crate, roles, mappings, action groups, tokens and ACL policies with
//! one compiled evaluator.
//!
//! No HTTP here: `http-api` turns credentials into calls of this crate.
#![forbid(unsafe_code)]

pub mod acl;
mod error;
mod password;
mod principal;
pub mod tokens;
mod user;

pub use error::Error;
pub use password::{BCRYPT_COST, PasswordHash};
pub use principal::{Principal, PrincipalKind, UserName};
pub use user::InternalUser;
