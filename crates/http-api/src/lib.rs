//! Every HTTP route of keyward, behind one function: a request in, a response out.
//!
//! [`Api::handle`] takes an `http::Request` with any body and returns an
//! `http::Response`. It never opens a socket: `bins/keyward` feeds it from its
//! listeners, tests drive it in-process, and other services can mount it.
//!
//! One route table ([`routes`]) is at once the router, the permission map and
//! the source of the OpenAPI document ([`openapi::document`]). Each route names
//! its API family, which decides the shape of every error it answers with:
//!
//! | family | error body |
//! |---|---|
//! | Vault `/v1` | `{"errors": ["..."]}` |
//! | OpenSearch security | `{"status": ..., "message": ...}` and the plugin's other shapes |
//! | ArangoDB | `{"error": true, "code": N, "errorNum": N, "errorMessage": "..."}` |
//! | Atlassian | `{"message": "...", "status": "..."}` |
#![forbid(unsafe_code)]

mod api;
mod audit;
mod auth;
mod body;
mod ctx;
mod error;
mod family;
mod handlers;
mod metrics;
pub mod openapi;
mod route;
mod router;
mod security;
mod state;
pub mod upgrade;
mod vault;

pub use api::{Api, ApiConfig, ConnInfo, Services};
pub use audit::{AuditSettings, LogLevelsHook};
pub use error::Error;
pub use route::{Admin, Family, Permission, RouteInfo, routes};
