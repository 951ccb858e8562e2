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
//!
//! # Embedding: keyward's routes inside another service
//!
//! [`Api`] is cheap to clone (an `Arc` inside) and answers any
//! `http::Request` whose body is an `http_body::Body` of `Bytes`: hyper's
//! `Incoming`, axum's `Body`, or `Full<Bytes>` in a test. Mount it behind a
//! prefix check in your own `service_fn` (see
//! `examples/embed_http_api.rs`), or call it in-process as below: the answers
//! are the binary's, byte for byte, because the binary's listener does
//! nothing else (`tests/tests/embedding.rs` compares them).
//!
//! ```
//! use std::sync::Arc;
//! use bytes::Bytes;
//! use http_api::{Api, ApiConfig, ConnInfo, Services};
//! use http_body_util::{BodyExt, Full};
//! use keyring_core::{Barrier, Clock, MemoryStore, Timestamp};
//! use secrecy::SecretString;
//!
//! struct Fixed;
//! impl Clock for Fixed {
//!     fn now(&self) -> Timestamp { Timestamp::from_unix_secs(1_700_000_000) }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let services = Services {
//!     barrier: Arc::new(Barrier::ephemeral(Arc::new(MemoryStore::new()))?),
//!     clock: Arc::new(Fixed),
//!     tls: None,
//!     transport_tls: None,
//!     audit_sink: None,
//!     log_levels: None,
//! };
//! let api = Api::open(services, ApiConfig::default()).await?;
//! api.set_root_token(&SecretString::from("my-root-token")).await?;
//! api.ensure_transit_mount("transit", "").await?;
//!
//! let request = http::Request::post("/v1/transit/keys/orders")
//!     .header("X-Vault-Token", "my-root-token")
//!     .body(Full::new(Bytes::new()))?;
//! let response = api.handle(request, ConnInfo::default()).await;
//! assert!(response.status().is_success());
//!
//! // Without a token, Vault's answer.
//! let request = http::Request::get("/v1/transit/keys/orders").body(Full::new(Bytes::new()))?;
//! let response = api.handle(request, ConnInfo::default()).await;
//! assert_eq!(response.status(), 403);
//! let body = response.into_body().collect().await?.to_bytes();
//! assert_eq!(&body[..], br#"{"errors":["permission denied"]}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
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

/// Go's parsers as Vault applies them to request fields (`time.ParseDuration`,
/// `parseutil.ParseDurationSecond`, `strconv`), for the fuzz targets; not a
/// supported API.
#[doc(hidden)]
pub mod go_parsers {
    pub use crate::vault::goparse::{
        parse_bool, parse_duration_secs, parse_float, parse_go_duration, parse_int,
    };
}
pub use audit::{AuditSettings, LogLevelsHook};
pub use ctx::Body;
pub use error::Error;
pub use route::{Admin, Family, Permission, RouteInfo, routes};
