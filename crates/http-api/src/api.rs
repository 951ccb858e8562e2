//! The public face of the crate: [`Api`], one function from request to response.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response};
use keyring_core::{Barrier, Clock};
use rbac_model::{InternalUser, PasswordHash, UserName};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tls_inventory::ReloadableTls;

use crate::Error;
use crate::auth::{Authenticator, Credentials};
use crate::body::read_limited;
use crate::ctx::{Body, Ctx};
use crate::family::vault::VaultError;
use crate::family::{self, Refusal};
use crate::route::{Family, Permission, list_method, table};
use crate::router::{Match, Router};
use crate::state::{CLUSTER_PATH, ClusterInfo, State};
use crate::vault::mounts::{Mount, Mounts};

const ROOT_TOKEN_PATH: &str = "sys/token/root";
const USERS_PREFIX: &str = "security/internalusers/";

/// What the API is built on.
pub struct Services {
    /// The encrypted store.
    pub barrier: Arc<Barrier>,
    /// The source of the current time.
    pub clock: Arc<dyn Clock>,
    /// The server's TLS configuration, when it serves TLS.
    pub tls: Option<Arc<ReloadableTls>>,
}

/// Settings of the API.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Bodies larger than this are refused with 413 (default 32 MiB, as Vault).
    pub max_body_bytes: usize,
    /// How long a verified Basic login is cached (default 60 minutes, as OpenSearch).
    pub auth_cache_ttl: Duration,
    /// The version reported by health endpoints.
    pub version: String,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            max_body_bytes: 32 * 1024 * 1024,
            auth_cache_ttl: Duration::from_secs(60 * 60),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// What the listener knows about the connection a request came on.
#[derive(Debug, Clone, Default)]
pub struct ConnInfo {
    /// The peer's address.
    pub remote_addr: Option<SocketAddr>,
    /// True when the connection is TLS.
    pub tls: bool,
    /// The peer's certificate chain (DER), leaf first, when it sent one.
    pub peer_certificates: Vec<Vec<u8>>,
}

/// keyward's HTTP API: every route of every family.
#[derive(Clone)]
pub struct Api {
    state: Arc<State>,
    router: Arc<Router>,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct RootTokenRecord {
    sha256: String,
}

fn record<T: serde::de::DeserializeOwned>(path: &str, bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::Record {
        path: path.to_string(),
        reason: e.to_string(),
    })
}

impl Api {
    /// Loads what the API keeps in memory (users, token hashes, cluster
    /// identity) from the store; creates the cluster identity at first start.
    pub async fn open(services: Services, config: ApiConfig) -> Result<Api, Error> {
        let barrier = services.barrier;
        let cluster = match barrier.get(CLUSTER_PATH).await? {
            Some(bytes) => record(CLUSTER_PATH, &bytes)?,
            None => {
                let id = uuid::Uuid::new_v4();
                let info = ClusterInfo {
                    name: format!("keyward-cluster-{}", &id.simple().to_string()[..8]),
                    id: id.to_string(),
                };
                let bytes = serde_json::to_vec(&info).map_err(|e| Error::Record {
                    path: CLUSTER_PATH.into(),
                    reason: e.to_string(),
                })?;
                barrier.put(CLUSTER_PATH, &bytes).await?;
                info
            }
        };
        let auth = Authenticator::new(config.auth_cache_ttl);
        if let Some(bytes) = barrier.get(ROOT_TOKEN_PATH).await? {
            let rec: RootTokenRecord = record(ROOT_TOKEN_PATH, &bytes)?;
            let hash: [u8; 32] = hex::decode(&rec.sha256)
                .ok()
                .and_then(|h| h.try_into().ok())
                .ok_or_else(|| Error::Record {
                    path: ROOT_TOKEN_PATH.into(),
                    reason: "not a SHA-256".into(),
                })?;
            auth.set_root_token_sha256(hash);
        }
        for (path, bytes) in barrier.scan(USERS_PREFIX).await? {
            let user: InternalUser = record(&path, &bytes)?;
            auth.set_user(&path[USERS_PREFIX.len()..], user);
        }
        let mounts = Mounts::open(barrier.clone(), services.clock.clone()).await?;
        let state = State {
            barrier,
            clock: services.clock,
            config,
            auth,
            cluster,
            mounts,
            tls: services.tls,
        };
        Ok(Api {
            state: Arc::new(state),
            router: Arc::new(Router::new(table())?),
        })
    }

    /// Sets the root token (only its SHA-256 is stored).
    pub async fn set_root_token(&self, token: &SecretString) -> Result<(), Error> {
        let hash = Authenticator::token_sha256(token);
        let rec = RootTokenRecord {
            sha256: hex::encode(hash),
        };
        let bytes = serde_json::to_vec(&rec).map_err(|e| Error::Record {
            path: ROOT_TOKEN_PATH.into(),
            reason: e.to_string(),
        })?;
        self.state.barrier.put(ROOT_TOKEN_PATH, &bytes).await?;
        self.state.auth.set_root_token_sha256(hash);
        Ok(())
    }

    /// Creates or replaces an internal user with a password (hashed with
    /// bcrypt, `$2y$`, cost 12, off the async workers).
    pub async fn set_internal_user(
        &self,
        name: &str,
        password: SecretString,
        backend_roles: Vec<String>,
        reserved: bool,
    ) -> Result<(), Error> {
        let name = UserName::new(name)?;
        let hash = tokio::task::spawn_blocking(move || {
            PasswordHash::create(&password, rbac_model::BCRYPT_COST)
        })
        .await
        .map_err(|e| rbac_model::Error::Hashing(e.to_string()))??;
        let user = InternalUser {
            hash,
            backend_roles,
            reserved,
            description: String::new(),
        };
        let path = format!("{USERS_PREFIX}{name}");
        let bytes = serde_json::to_vec(&user).map_err(|e| Error::Record {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        self.state.barrier.put(&path, &bytes).await?;
        self.state.auth.set_user(name.as_str(), user);
        Ok(())
    }

    /// Mounts the transit engine at `path` unless something is mounted
    /// there (dev mode's `transit/`).
    pub async fn ensure_transit_mount(&self, path: &str, description: &str) -> Result<(), Error> {
        if self.state.mounts.get(path).is_some() {
            return Ok(());
        }
        self.state
            .mounts
            .mount(path, Some("transit"), description)
            .await
            .map_err(|e| Error::Record {
                path: format!("sys/mounts/{path}"),
                reason: e.errors.join("; "),
            })
    }

    /// Rotates, on every transit mount, the keys whose auto-rotation period
    /// has passed at `now`. The server calls it every minute; the decision
    /// uses stored creation times, so it is right across restarts. Returns
    /// the number of keys rotated; failures are logged.
    pub async fn rotate_due_keys(&self, now: keyring_core::Timestamp) -> usize {
        let mut rotated = 0;
        for (mount, outcome) in self.state.mounts.rotate_due(now).await {
            match outcome {
                Ok(report) => {
                    for (name, version) in &report.rotated {
                        tracing::info!(target: "keyward::transit", mount = %mount, key = %name, version, "auto-rotated");
                    }
                    for (name, e) in &report.failed {
                        tracing::error!(target: "keyward::transit", mount = %mount, key = %name, error = %e, "auto-rotation failed");
                    }
                    rotated += report.rotated.len();
                }
                Err(e) => {
                    tracing::error!(target: "keyward::transit", mount = %mount, error = %e, "auto-rotation pass failed");
                }
            }
        }
        rotated
    }

    /// Answers one request. Never fails: every failure is a response in the
    /// shape of the route's API family.
    pub async fn handle<B>(&self, req: Request<B>, conn: ConnInfo) -> Response<Body>
    where
        B: http_body::Body<Data = Bytes> + Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let started = std::time::Instant::now();
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let (response, family) = self.dispatch(req, conn).await;
        tracing::info!(
            target: "keyward::request",
            %method,
            path = %path,
            status = response.status().as_u16(),
            family = ?family,
            micros = started.elapsed().as_micros() as u64,
        );
        response
    }

    async fn dispatch<B>(&self, req: Request<B>, conn: ConnInfo) -> (Response<Body>, Family)
    where
        B: http_body::Body<Data = Bytes> + Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (mut parts, body) = req.into_parts();
        let path = parts.uri.path().to_string();
        // Vault's `GET ?list=true` is the LIST verb.
        if parts.method == Method::GET && path.starts_with("/v1/") {
            match list_flag(parts.uri.query()) {
                Ok(true) => parts.method = list_method(),
                Ok(false) => {}
                Err(()) => {
                    let e = VaultError {
                        status: http::StatusCode::BAD_REQUEST,
                        errors: Vec::new(),
                    };
                    return (e.into_response(), Family::Vault);
                }
            }
        }
        let method = parts.method.clone();
        let mut mount: Option<Arc<Mount>> = None;
        let mut found = self.router.find(&method, &path);
        if let Match::NotFound {
            family: Family::Vault,
        } = found
            && let Some(rest) = path.strip_prefix("/v1/")
            && let Some((m, after)) = self.state.mounts.find(rest)
        {
            found = match self.router.find_mounted(&method, &format!("/{after}")) {
                // No route of the engine: Vault's "unsupported path".
                Match::NotFound { .. } => Match::NotFound {
                    family: Family::Vault,
                },
                other => other,
            };
            mount = Some(m);
        }
        let family = match &found {
            Match::Route { route, .. } => route.family,
            Match::NotFound { family } | Match::MethodNotAllowed { family, .. } => *family,
        };
        let open =
            matches!(&found, Match::Route { route, .. } if route.permission == Permission::Open);

        // An announced body over the limit is refused before it is read.
        let limit = self.state.config.max_body_bytes;
        let announced = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > limit as u64) {
            return (family::refuse(family, Refusal::TooLarge { limit }), family);
        }

        // Vault checks the token and the ACL before routing: without them
        // even an unknown path is "permission denied".
        let mut principal = None;
        if family == Family::Vault && !open {
            match self
                .state
                .auth
                .authenticate(Credentials::from_headers(&parts.headers))
                .await
            {
                Ok(Some(p)) if p.is_superuser() => principal = Some(p),
                Ok(Some(p)) => {
                    let refusal = Refusal::Forbidden {
                        user: p.name().to_string(),
                        permission: Permission::VaultAcl.as_str(),
                    };
                    return (family::refuse(family, refusal), family);
                }
                Ok(None) | Err(()) => {
                    return (family::refuse(family, Refusal::Unauthenticated), family);
                }
            }
        }

        let (route, params) = match found {
            Match::Route { route, params } => (route, params),
            Match::NotFound { family } => {
                if family == Family::Vault && mount.is_some() {
                    return (VaultError::unsupported_path().into_response(), family);
                }
                return (
                    family::refuse(family, Refusal::NotFound { path, method }),
                    family,
                );
            }
            Match::MethodNotAllowed { family, allowed } => {
                return (
                    family::refuse(
                        family,
                        Refusal::MethodNotAllowed {
                            path,
                            method,
                            allowed,
                        },
                    ),
                    family,
                );
            }
        };

        if principal.is_none() && route.permission != Permission::Open {
            match self
                .state
                .auth
                .authenticate(Credentials::from_headers(&parts.headers))
                .await
            {
                Ok(Some(p)) => principal = Some(p),
                Ok(None) | Err(()) => {
                    return (family::refuse(family, Refusal::Unauthenticated), family);
                }
            }
        }
        if let Some(p) = &principal {
            let denied = match route.permission {
                Permission::Cluster(action) if !p.is_superuser() => Some(action),
                Permission::VaultAcl if !p.is_superuser() => Some(Permission::VaultAcl.as_str()),
                _ => None,
            };
            if let Some(permission) = denied {
                let refusal = Refusal::Forbidden {
                    user: p.name().to_string(),
                    permission,
                };
                return (family::refuse(family, refusal), family);
            }
        }

        let body = match read_limited(body, limit).await {
            Ok(b) => b,
            Err(refusal) => return (family::refuse(family, refusal), family),
        };
        let ctx = Ctx {
            state: self.state.clone(),
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            params,
            body,
            principal,
            conn,
            request_id: uuid::Uuid::new_v4().to_string(),
            mount,
        };
        let mut response = (route.handler)(ctx).await;
        if route.deprecated {
            response.headers_mut().insert(
                http::header::WARNING,
                http::HeaderValue::from_static(family::opensearch::LEGACY_WARNING),
            );
        }
        if method == Method::HEAD {
            *response.body_mut() = Body::default();
        }
        (response, family)
    }
}

/// The `list` query parameter: absent or false is a read, true a list, and
/// anything that is not a Go bool is refused (400 with no message, as Vault).
fn list_flag(query: Option<&str>) -> Result<bool, ()> {
    let Some(query) = query else {
        return Ok(false);
    };
    match crate::vault::request::parse_urlencoded(query)
        .into_iter()
        .find(|(k, _)| k == "list")
    {
        None => Ok(false),
        Some((_, v)) if v.is_empty() => Ok(false),
        Some((_, v)) => crate::vault::goparse::parse_bool(&v).ok_or(()),
    }
}
