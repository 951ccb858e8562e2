//! The public face of the crate: [`Api`], one function from request to response.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use audit_config::{AuditCategory, AuditSink, AuditTopic, ComplianceAction, NodeIdentity};
use bytes::Bytes;
use http::{Method, Request, Response};
use keyring_core::{Barrier, Clock, SecretStore};
use rbac_model::settings::SecuritySettings;
use rbac_model::{CertStatus, Principal, SecurityConfig, UserName};
use secrecy::SecretString;
use tls_inventory::ReloadableTls;

use crate::Error;
use crate::audit::{Audit, AuditSettings, LogLevelsHook, RequestView, Who};
use crate::auth::{AuthOutcome, Authenticator, Credentials, client_certificate_dn};
use crate::body::read_limited;
use crate::ctx::{Body, Ctx};
use crate::family::vault::VaultError;
use crate::family::{self, Refusal};
use crate::route::{Admin, Existence, Family, Feature, Permission, Route, list_method, table};
use crate::router::{Match, Router};
use crate::security::{Security, Snapshot};
use crate::state::{CLUSTER_PATH, ClusterInfo, State};
use crate::vault::mounts::{Mount, Mounts};
use crate::vault::policies::Policies;
use crate::vault::quotas::Quotas;
use crate::vault::quotas::enforce::{Quota, enforce, headers};
use arc_swap::ArcSwap;

use crate::metrics::{Metrics, RotationKind};
use rbac_model::tokens::{TokenStore, TokenUse};

/// Where the secret store keeps its keys and values.
const SECRETS_PREFIX: &str = "secrets/";
/// Bodies up to this size are read before the request is routed.
const EARLY_READ_LIMIT: u64 = 64 * 1024;

/// The metrics route, open without a token when configured so.
pub(crate) const METRICS_PATH: &str = "/v1/sys/metrics";

/// What the API is built on.
#[derive(Clone)]
pub struct Services {
    /// The encrypted store.
    pub barrier: Arc<Barrier>,
    /// The source of the current time.
    pub clock: Arc<dyn Clock>,
    /// The server's TLS configuration, when it serves TLS.
    pub tls: Option<Arc<ReloadableTls>>,
    /// The transport (node-to-node) listener's TLS, when there is one.
    pub transport_tls: Option<Arc<ReloadableTls>>,
    /// Where audit events go (none: they are decided on and dropped).
    pub audit_sink: Option<Arc<AuditSink>>,
    /// Called with the log levels at start and after every change through
    /// `/_admin/log/level`, so the server can apply them to its own logs.
    pub log_levels: Option<LogLevelsHook>,
}

/// Settings of the API.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Bodies larger than this are refused with 413 (default 32 MiB, as Vault).
    pub max_body_bytes: usize,
    /// A body that takes longer than this to arrive is refused with 408
    /// (Vault's `http_read_timeout`); zero: no limit. The default is zero
    /// because the limit needs a Tokio runtime with timers enabled; the
    /// keyward binary sets 30 s (`--http-read-timeout`).
    pub body_read_timeout: std::time::Duration,
    /// The version reported by health endpoints.
    pub version: String,
    /// The `plugins.security.*` settings (the `[security]` table).
    pub security: SecuritySettings,
    /// The security configuration stored at first start (the YAML files of
    /// `--security-config`, or dev mode's demo set); none: empty.
    pub security_bootstrap: Option<SecurityConfig>,
    /// `/v1/sys/metrics` answers without a token (Vault's listener option
    /// `unauthenticated_metrics_access`).
    pub unauthenticated_metrics: bool,
    /// The `[audit]` settings.
    pub audit: AuditSettings,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            max_body_bytes: 32 * 1024 * 1024,
            body_read_timeout: std::time::Duration::ZERO,
            version: env!("CARGO_PKG_VERSION").to_string(),
            security: SecuritySettings::default(),
            security_bootstrap: None,
            unauthenticated_metrics: false,
            audit: AuditSettings::default(),
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
    /// The TLS protocol negotiated (`TLSv1.3`), when TLS.
    pub tls_protocol: Option<String>,
    /// The cipher suite negotiated, by its IANA name, when TLS.
    pub tls_cipher: Option<String>,
    /// The certificate chain the server presented (DER), leaf first.
    pub local_certificates: Vec<Vec<u8>>,
}

/// keyward's HTTP API: every route of every family.
#[derive(Clone)]
pub struct Api {
    life: Arc<Lifecycle>,
    router: Arc<Router>,
}

/// The state requests see, and what it takes to build it again from the
/// store (after a snapshot restore replaced what the store holds).
pub(crate) struct Lifecycle {
    current: ArcSwap<State>,
    services: Services,
    /// The configuration, without the first-start bootstrap.
    config: ApiConfig,
    /// Requests hold it shared while they run; a restore holds it alone, so
    /// no request sees a half-restored store or writes into one.
    gate: tokio::sync::RwLock<()>,
    /// Counters and histograms; a restore keeps them.
    pub(crate) metrics: Metrics,
}

impl Lifecycle {
    /// The current state.
    pub(crate) fn state(&self) -> Arc<State> {
        self.current.load_full()
    }

    /// Waits for the requests in flight, then keeps new ones out until the
    /// guard drops.
    pub(crate) async fn exclusive(&self) -> tokio::sync::RwLockWriteGuard<'_, ()> {
        self.gate.write().await
    }

    /// Builds the in-memory state again from the store and puts it in
    /// place. The caller holds [`Lifecycle::exclusive`].
    pub(crate) async fn reload(&self) -> Result<(), Error> {
        let state = load_state(self.services.clone(), self.config.clone()).await?;
        self.current.store(Arc::new(state));
        Ok(())
    }
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").finish_non_exhaustive()
    }
}

fn record<T: serde::de::DeserializeOwned>(path: &str, bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::Record {
        path: path.to_string(),
        reason: e.to_string(),
    })
}

impl Api {
    /// Loads what the API keeps in memory (the security configuration,
    /// token hashes, cluster identity) from the store; creates the cluster
    /// identity and stores `config.security_bootstrap` at first start.
    pub async fn open(services: Services, config: ApiConfig) -> Result<Api, Error> {
        let state = load_state(services.clone(), config.clone()).await?;
        let config = ApiConfig {
            security_bootstrap: None,
            ..config
        };
        let routes = table();
        // The transit operations counted per key type: the first segment
        // after the mount of every mount-relative route.
        let operations: Vec<String> = routes
            .iter()
            .filter_map(|r| r.path.strip_prefix("/v1/{mount}/"))
            .filter_map(|rest| rest.split('/').next())
            .map(str::to_string)
            .collect();
        Ok(Api {
            life: Arc::new(Lifecycle {
                current: ArcSwap::from_pointee(state),
                services,
                config,
                gate: tokio::sync::RwLock::new(()),
                metrics: Metrics::new(operations),
            }),
            router: Arc::new(Router::new(routes)?),
        })
    }

    fn state(&self) -> Arc<State> {
        self.life.state()
    }
}

/// Loads what the API keeps in memory from the store (creating the cluster
/// identity and storing `config.security_bootstrap` at first start).
async fn load_state(services: Services, config: ApiConfig) -> Result<State, Error> {
    let barrier = services.barrier;
    // Records in an older layout (a data dir from an older keyward, or a
    // snapshot of one just restored) are brought up to date first.
    crate::upgrade::migrate(&barrier).await?;

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
    let security = Security::open(
        &barrier,
        config.security.clone(),
        config.security_bootstrap.clone(),
    )
    .await?;
    let ttl = Duration::from_secs(config.security.cache.ttl_minutes.saturating_mul(60));
    let tokens = Arc::new(
        TokenStore::open(barrier.clone())
            .await
            .map_err(|e| Error::Record {
                path: "auth/token/".into(),
                reason: e.to_string(),
            })?,
    );
    let auth = Authenticator::new(ttl, tokens);
    auth.failures
        .configure(&security.current().config.dynamic.auth_failure_listeners);
    let policies = Policies::open(barrier.clone(), services.clock.now()).await?;
    let mounts = Mounts::open(barrier.clone(), services.clock.clone()).await?;
    let quotas = Quotas::open(barrier.clone()).await?;
    let node = NodeIdentity {
        node_name: Some(Arc::from(format!("{}-node-1", cluster.name))),
        cluster_name: Some(Arc::from(cluster.name.as_str())),
    };
    let audit = Audit::open(
        &barrier,
        &config.audit,
        services.audit_sink,
        services.log_levels,
        node,
        services.clock.clone(),
    )
    .await?;
    let secrets = SecretStore::open(barrier.clone(), SECRETS_PREFIX, services.clock.now()).await?;
    let state = State {
        barrier,
        clock: services.clock,
        config,
        auth,
        security,
        cluster,
        mounts,
        policies,
        quotas,
        tls: services.tls,
        transport_tls: services.transport_tls,
        audit,
        secrets,
    };
    Ok(state)
}

impl Api {
    /// Makes `token` the root token (only its SHA-256 is stored).
    pub async fn set_root_token(&self, token: &SecretString) -> Result<(), Error> {
        self.state()
            .auth
            .tokens
            .put_root(token, self.state().clock.now())
            .await
            .map_err(|e| Error::Record {
                path: "auth/token/".into(),
                reason: e.to_string(),
            })?;
        Ok(())
    }

    /// Creates an internal user or sets its password (hashed with bcrypt,
    /// `$2y$`, cost 12, off the async workers), with these backend roles and
    /// reserved flag; other fields of an existing user are kept.
    pub async fn set_internal_user(
        &self,
        name: &str,
        password: SecretString,
        backend_roles: Vec<String>,
        reserved: bool,
    ) -> Result<(), Error> {
        let name = UserName::new(name)?;
        let security = &self.state().security;
        let _guard = security.write_lock.lock().await;
        let state = self.state();
        let hash = tokio::task::spawn_blocking(move || state.security.hash_password(&password))
            .await
            .map_err(|e| rbac_model::Error::Hashing(e.to_string()))??;
        let current = security.current();
        let mut config = current.config.clone();
        let user = config
            .internal_users
            .entry(name.as_str().to_string())
            .or_default();
        user.hash = hash;
        user.backend_roles = backend_roles;
        user.reserved = reserved;
        security.commit(&self.state().barrier, config).await?;
        self.state().auth.flush_cache();
        Ok(())
    }

    /// Mounts the transit engine at `path` unless something is mounted
    /// there (dev mode's `transit/`).
    pub async fn ensure_transit_mount(&self, path: &str, description: &str) -> Result<(), Error> {
        if self.state().mounts.get(path).is_some() {
            return Ok(());
        }
        self.state()
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
        for (mount, outcome) in self.state().mounts.rotate_due(now).await {
            match outcome {
                Ok(report) => {
                    for (name, version) in &report.rotated {
                        tracing::info!(target: "keyward::transit", mount = %mount, key = %name, version, "auto-rotated");
                    }
                    if !report.rotated.is_empty() {
                        let names = report
                            .rotated
                            .iter()
                            .map(|(name, _)| format!("{mount}{name}"))
                            .collect();
                        self.state().audit.local(
                            AuditTopic::Collection,
                            ComplianceAction::Rotate,
                            "transit/keys",
                            names,
                        );
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
        self.life
            .metrics
            .rotations(RotationKind::TransitKeyAuto, rotated as u64);
        rotated
    }

    /// Whether a transport peer whose certificate's subject DN (RFC 2253)
    /// is `dn` is a node: the DN, or the DN without spaces, matches an entry
    /// of the static `nodes_dn` or, with `nodes_dn_dynamic_config_enabled`,
    /// of the `nodesdn` API's lists (the plugin's `WildcardMatcher`: exact,
    /// `*`/`?` wildcards, `/regex/`; case-sensitive).
    pub fn admits_node(&self, dn: &str) -> bool {
        let state = self.state();
        let security = &state.security;
        let compact = dn.replace(' ', "");
        let matches = |pattern: &String| {
            let p = rbac_model::pattern::Pattern::new(pattern);
            p.matches(dn) || p.matches(&compact)
        };
        if security.settings.nodes_dn.iter().any(matches) {
            return true;
        }
        security.settings.nodes_dn_dynamic_config_enabled
            && security
                .current()
                .config
                .nodes_dn
                .values()
                .any(|entry| entry.nodes_dn.iter().any(matches))
    }

    /// Records a TLS handshake that failed (the audit category
    /// SSL_EXCEPTION); the listener calls it.
    pub fn tls_handshake_failed(&self, remote: Option<SocketAddr>, reason: &str) {
        self.state()
            .audit
            .tls_failure(remote.map(|a| a.ip()), reason);
    }

    /// Records a reload of the TLS certificates the server made itself
    /// (SIGHUP), as a compliance event of origin `LOCAL`.
    pub fn tls_reloaded(&self) {
        self.state().audit.local(
            AuditTopic::Service,
            ComplianceAction::Reload,
            "tls",
            vec!["server".into()],
        );
    }

    /// Answers one request. Never fails: every failure is a response in the
    /// shape of the route's API family.
    pub async fn handle<B>(&self, req: Request<B>, conn: ConnInfo) -> Response<Body>
    where
        B: http_body::Body<Data = Bytes> + Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let started = std::time::Instant::now();
        // One id per request: in the log line, in `X-Request-Id`, and as
        // `request_id` in Vault's envelope.
        let request_id = uuid::Uuid::new_v4().to_string();
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        // A small body is read before anything else: a request refused
        // early then still leaves its connection clean for the next one.
        // A large or chunked body is read only once the request is
        // authorized; if it is refused first, the connection closes.
        let announced = req
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let chunked = req.headers().contains_key(http::header::TRANSFER_ENCODING);
        let http1 = req.version() < http::Version::HTTP_2;
        let small = !chunked && announced.unwrap_or(0) <= EARLY_READ_LIMIT;
        let (mut response, family) = if small {
            let (parts, body) = req.into_parts();
            let config = &self.state().config;
            match read_limited(body, config.max_body_bytes, config.body_read_timeout).await {
                Ok(bytes) => {
                    let req = Request::from_parts(parts, http_body_util::Full::new(bytes));
                    self.dispatch(req, conn, &request_id).await
                }
                Err(refusal) => {
                    let family = family::family_of_path(&path);
                    (family::refuse(family, refusal), family)
                }
            }
        } else {
            self.dispatch(req, conn, &request_id).await
        };
        // A failure caused by the store refusing writes (a full disk, an I/O
        // error) is not a bug of the route: say so, as 503, in the family's
        // shape, instead of the route's 500.
        if response.status() == http::StatusCode::INTERNAL_SERVER_ERROR
            && let Some(reason) = self.state().barrier.write_failure()
        {
            response = family::refuse(family, Refusal::StoreUnavailable { reason });
        }
        if !small && http1 && response.status().as_u16() >= 400 {
            response.headers_mut().insert(
                http::header::CONNECTION,
                http::HeaderValue::from_static("close"),
            );
        }
        self.life.metrics.request(
            family,
            response.status().as_u16(),
            started.elapsed().as_secs_f64(),
        );
        if let Ok(id) = http::HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("x-request-id", id);
        }
        tracing::info!(
            target: "keyward::request",
            request_id = %request_id,
            %method,
            path = %path,
            status = response.status().as_u16(),
            family = ?family,
            micros = started.elapsed().as_micros() as u64,
        );
        response
    }

    async fn dispatch<B>(
        &self,
        req: Request<B>,
        conn: ConnInfo,
        request_id: &str,
    ) -> (Response<Body>, Family)
    where
        B: http_body::Body<Data = Bytes> + Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (mut parts, body) = req.into_parts();
        let path = parts.uri.path().to_string();
        // Vault answers a method it has no operation for (TRACE, OPTIONS,
        // ...) with 405 before it looks at the token.
        if (path == "/v1" || path.starts_with("/v1/")) && !vault_method(&parts.method) {
            let mut response = VaultError {
                status: http::StatusCode::METHOD_NOT_ALLOWED,
                errors: Vec::new(),
            }
            .into_response();
            // The methods of the path, or of the engine route under its
            // first segment taken as a mount (mounted or not: the method is
            // refused either way).
            let allowed = match self.router.find(&parts.method, &path) {
                Match::MethodNotAllowed { allowed, .. } => allowed,
                _ => path
                    .strip_prefix("/v1/")
                    .and_then(|rest| rest.split_once('/'))
                    .map(|(_, after)| {
                        match self
                            .router
                            .find_mounted(&parts.method, &format!("/{after}"))
                        {
                            Match::MethodNotAllowed { allowed, .. } => allowed,
                            _ => Vec::new(),
                        }
                    })
                    .unwrap_or_default(),
            };
            if let Some(allow) = family::allow_header(&allowed) {
                response.headers_mut().insert(http::header::ALLOW, allow);
            }
            return (response, Family::Vault);
        }
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
        // Vault's rate-limit quotas count a request before anything else,
        // its token included.
        let mut counted = None;
        if path.starts_with("/v1/") {
            let state = self.state();
            match enforce(&state, &self.life.metrics, &parts, &conn, request_id) {
                Quota::NotCounted => {}
                Quota::Counted(take) => counted = Some(take),
                Quota::Refused(refused) => return (refused, Family::Vault),
            }
        }
        let (mut response, family) = self.route_and_run(parts, body, conn, request_id).await;
        if let Some(take) = counted {
            headers(&mut response, take);
        }
        (response, family)
    }

    /// Routes an admitted request, authenticates and authorizes it, and runs
    /// its handler.
    async fn route_and_run<B>(
        &self,
        parts: http::request::Parts,
        body: B,
        conn: ConnInfo,
        request_id: &str,
    ) -> (Response<Body>, Family)
    where
        B: http_body::Body<Data = Bytes> + Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let path = parts.uri.path().to_string();
        let method = parts.method.clone();
        let shared = Some(self.life.gate.read().await);
        let state = &self.state();
        let mut found = match self.router.find(&method, &path) {
            Match::Route { route, .. } if route.feature.is_some_and(|f| !self.feature_on(f)) => {
                Match::NotFound {
                    family: route.family,
                }
            }
            other => other,
        };
        // `/v1/<mount>/...`: the longest mounted prefix, then the engine's routes.
        let mut mount: Option<Arc<Mount>> = None;
        if let Match::NotFound {
            family: Family::Vault,
        } = found
            && let Some(rest) = path.strip_prefix("/v1/")
            && let Some((m, after)) = state.mounts.find(rest)
        {
            found = match self.router.find_mounted(&method, &format!("/{after}")) {
                Match::NotFound { .. } => Match::NotFound {
                    family: Family::Vault,
                },
                other => other,
            };
            mount = Some(m);
        }
        let family = match &found {
            Match::Route { route, .. } => route.family,
            Match::MethodNotAllowed { family, .. } | Match::NotFound { family } => *family,
        };
        let (route, params, miss) = match found {
            Match::Route { route, params } => (Some(route), params, None),
            other => (None, Vec::new(), Some(other)),
        };

        let ip = conn.remote_addr.map(|a| a.ip());
        let audit = &state.audit;
        let view = RequestView {
            method: &method,
            path: &path,
            query: parts.uri.query(),
            headers: &parts.headers,
            remote: ip,
            request_id,
            secret_bodies: crate::audit::secret_bodies(family),
        };

        // The plugin's internal headers are never accepted from a client.
        if has_bad_headers(&parts.headers) {
            audit.rest(AuditCategory::BadHeaders, &view, Who::default());
            return (family::refuse(family, Refusal::BadHeaders), family);
        }

        if route.is_some() {
            // An announced body over the limit is refused before it is read.
            let limit = state.config.max_body_bytes;
            let announced = parts
                .headers
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if announced.is_some_and(|n| n > limit as u64) {
                return (family::refuse(family, Refusal::TooLarge { limit }), family);
            }
        }

        // The login cache's generation is read before the configuration, so
        // a login checked against a configuration replaced meanwhile is not cached.
        let generation = state.auth.generation();
        let snapshot = state.security.current();
        let allowlist_on = snapshot.config.allowlist.enabled;
        let needs_auth = match route {
            Some(r) => {
                r.permission != Permission::Open
                    && !(state.config.unauthenticated_metrics && r.path == METRICS_PATH)
            }
            // ArangoDB authenticates before it routes: 401 comes first.
            // Vault too, except on a path whose routes need no token
            // (`sys/health`, a login): a wrong method there is a 405.
            None => {
                allowlist_on
                    || family == Family::Arango
                    || (family == Family::Vault && !self.open_path(miss.as_ref(), &path))
            }
        };
        let cert_dn = client_certificate_dn(&conn);
        let admin_cert = cert_dn
            .as_deref()
            .filter(|dn| state.security.admin_dns.is_admin(dn));
        let principal = match admin_cert {
            Some(dn) => {
                self.life.metrics.auth("certificate", "success");
                Some(Principal::admin_certificate(dn))
            }
            None if needs_auth => {
                let creds = Credentials::from_headers(&parts.headers);
                let login = creds.login_name();
                let method = match creds {
                    Credentials::Token(_) => "token",
                    Credentials::Basic { .. } => "basic",
                    Credentials::None => "none",
                    Credentials::Malformed => "malformed",
                };
                let outcome = state
                    .auth
                    .authenticate(creds, &snapshot.config, ip, generation, state.clock.now())
                    .await;
                let metrics = &self.life.metrics;
                match outcome {
                    AuthOutcome::Principal(p) => {
                        metrics.auth(method, "success");
                        Some(p)
                    }
                    AuthOutcome::Blocked => {
                        metrics.auth(method, "blocked");
                        return (family::refuse(family, Refusal::Blocked), family);
                    }
                    outcome @ (AuthOutcome::Anonymous | AuthOutcome::Failed) => {
                        if method != "none" {
                            metrics.auth(method, "failure");
                        }
                        let user = match outcome {
                            AuthOutcome::Anonymous => Some(NO_USER),
                            _ => login.as_deref(),
                        };
                        let who = Who {
                            user,
                            ..Who::default()
                        };
                        audit.rest(AuditCategory::FailedLogin, &view, who);
                        return (family::refuse(family, Refusal::Unauthenticated), family);
                    }
                }
            }
            None => None,
        };
        let who = |privilege: Option<&'static str>| Who {
            user: principal.as_ref().map(Principal::name),
            is_admin: principal.as_ref().is_some_and(Principal::is_superuser),
            privilege,
            body: None,
        };
        if principal.is_some() {
            audit.rest(AuditCategory::Authenticated, &view, who(None));
        }

        // Vault checks the token's ACL before routing: without the
        // capability even an unknown path is "permission denied".
        if family == Family::Vault
            && needs_auth
            && let Some(p) = &principal
            && let Err(refusal) = self
                .vault_acl(
                    p,
                    &snapshot,
                    ip,
                    &method,
                    &path,
                    route,
                    &params,
                    mount.as_deref(),
                )
                .await
        {
            audit.rest(
                AuditCategory::MissingPrivileges,
                &view,
                who(Some(Permission::VaultAcl.as_str())),
            );
            return (family::refuse(family, refusal), family);
        }

        // The allowlist spares only the superusers.
        if allowlist_on
            && !principal.as_ref().is_some_and(Principal::is_superuser)
            && !snapshot.config.allowlist.allows(method.as_str(), &path)
        {
            let refusal = Refusal::NotAllowlisted {
                method: method.clone(),
                path: path.clone(),
            };
            return (family::refuse(family, refusal), family);
        }

        let Some(route) = route else {
            if family == Family::Vault
                && mount.is_some()
                && matches!(miss, Some(Match::NotFound { .. }))
            {
                return (VaultError::unsupported_path().into_response(), family);
            }
            let refusal = match miss {
                Some(Match::MethodNotAllowed { allowed, .. }) => Refusal::MethodNotAllowed {
                    path: path.clone(),
                    method: method.clone(),
                    allowed,
                },
                _ => Refusal::NotFound {
                    path: path.clone(),
                    method: method.clone(),
                },
            };
            return (family::refuse(family, refusal), family);
        };

        // From here on the plugin's own handler answers, so a legacy path's
        // answers carry the deprecation warning (the 401s above do not, as
        // the plugin's authentication filter runs before it).
        let refuse = |refusal: Refusal| {
            let mut response = family::refuse(family, refusal);
            if route.deprecated {
                add_deprecation_warning(&mut response);
            }
            (response, family)
        };
        if family == Family::OpenSearch
            && let Some(param) = unknown_parameter(parts.uri.query(), route.query)
        {
            return refuse(Refusal::UnknownParameter {
                path: path.clone(),
                param,
            });
        }

        if let Some(p) = &principal
            && let Err(refusal) = self.authorize(route, p, &snapshot, ip, &method, &conn)
        {
            audit.rest(
                AuditCategory::MissingPrivileges,
                &view,
                who(Some(route.permission.as_str())),
            );
            return refuse(refusal);
        }

        // A token limited in uses spends one on every authorized request;
        // the last use revokes it.
        let mut spent_token = None;
        if let Some(grant) = principal
            .as_ref()
            .and_then(Principal::token_grant)
            .filter(|g| g.limited_uses)
        {
            match state.auth.tokens.spend_use(grant.id).await {
                Ok(TokenUse::Counted) => {}
                Ok(TokenUse::Last(entry)) => spent_token = Some(entry),
                // Another request spent the last use since authentication.
                Ok(TokenUse::Gone) => {
                    return (family::refuse(family, Refusal::Unauthenticated), family);
                }
                Err(e) => {
                    tracing::error!(target: "keyward::tokens", error = %e, "could not count a token use");
                    return (family::refuse(family, Refusal::Unauthenticated), family);
                }
            }
        }

        let limit = state.config.max_body_bytes;
        let body = match read_limited(body, limit, state.config.body_read_timeout).await {
            Ok(b) => b,
            Err(refusal) => return (family::refuse(family, refusal), family),
        };
        let observed_key = mount.clone().zip(
            params
                .iter()
                .find(|(k, _)| k == "name")
                .map(|(_, v)| v.clone()),
        );
        if principal.is_some() {
            let who = Who {
                body: Some(&body),
                ..who(Some(route.permission.as_str()))
            };
            audit.rest(AuditCategory::GrantedPrivileges, &view, who);
        }
        let ctx = Ctx {
            state: self.state(),
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            params,
            body,
            principal,
            conn,
            request_id: request_id.to_string(),
            mount,
            spent_token,
            life: self.life.clone(),
        };
        // A restore waits for every other request; its own must not count.
        if route.exclusive {
            drop(shared);
        }
        let mut response = (route.handler)(ctx).await;
        if response.status().is_success() {
            self.observe_success(route, &method, observed_key);
        }
        if route.deprecated {
            add_deprecation_warning(&mut response);
        }
        if method == Method::HEAD {
            *response.body_mut() = Body::default();
        }
        (response, family)
    }

    /// Counts what a successful request did: a transit operation (by the
    /// key's type, read from the engine's in-memory cache, where the
    /// handler just put it) or a rotation.
    fn observe_success(
        &self,
        route: &crate::route::Route,
        method: &Method,
        key: Option<(Arc<Mount>, String)>,
    ) {
        let metrics = &self.life.metrics;
        if let Some(op) = route.path.strip_prefix("/v1/{mount}/") {
            let operation = op.split('/').next().unwrap_or(op);
            if op.ends_with("/rotate") {
                metrics.rotations(RotationKind::TransitKey, 1);
            }
            if let Some((mount, name)) = key
                && let Some(key_type) = mount.transit.cached_key_type(&name)
            {
                metrics.transit(operation, key_type);
            }
        } else if route.path.ends_with("/_admin/server/encryption") && method == Method::POST {
            metrics.rotations(RotationKind::EncryptionAtRest, 1);
        } else if route.path == "/rest/secrets/1.0/keys/rotate" && method == Method::POST {
            metrics.rotations(RotationKind::SecretsAesKey, 1);
        }
    }

    /// Vault's ACL check of one request: the path after `/v1/`, and the
    /// capability its method needs (`create` for a write to something that
    /// does not exist yet, on routes with an existence check).
    #[allow(clippy::too_many_arguments)]
    async fn vault_acl(
        &self,
        p: &Principal,
        snapshot: &Snapshot,
        ip: Option<std::net::IpAddr>,
        method: &Method,
        path: &str,
        route: Option<&Route>,
        params: &[(String, String)],
        mount: Option<&Mount>,
    ) -> Result<(), Refusal> {
        use rbac_model::acl::Operation;
        let acl = self
            .state()
            .policies
            .acl_for(&snapshot.vault_policies(p, ip));
        if acl.is_root() {
            return Ok(());
        }
        let relative = path.strip_prefix("/v1/").unwrap_or(path);
        let op = if *method == Method::GET || *method == Method::HEAD {
            Operation::Read
        } else if *method == Method::DELETE {
            Operation::Delete
        } else if *method == Method::PATCH {
            Operation::Patch
        } else if *method == list_method() {
            Operation::List
        } else if self.target_exists(route, params, mount).await {
            Operation::Update
        } else {
            Operation::Create
        };
        let acl_path = if op == Operation::List && !relative.ends_with('/') {
            format!("{relative}/")
        } else {
            relative.to_string()
        };
        let decision = acl.decide(&acl_path, op);
        if decision.allowed && (!route.is_some_and(|r| r.sudo) || decision.root_privs) {
            Ok(())
        } else {
            Err(Refusal::Forbidden {
                user: p.name().to_string(),
                permission: Permission::VaultAcl.as_str(),
            })
        }
    }

    /// For a write: true unless the route checks existence and its target
    /// is missing (then the write is a `create`).
    async fn target_exists(
        &self,
        route: Option<&Route>,
        params: &[(String, String)],
        mount: Option<&Mount>,
    ) -> bool {
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        match route.map(|r| r.existence) {
            Some(Existence::TransitKey) => {
                let (Some(mount), Some(name)) = (mount, param("name")) else {
                    return true;
                };
                match transit_crypto::KeyName::parse(name) {
                    Some(key) => matches!(mount.transit.get(&key).await, Ok(Some(_))),
                    None => true,
                }
            }
            Some(Existence::Policy) => {
                param("name").is_some_and(|n| self.state().policies.exists(n))
            }
            _ => true,
        }
    }

    /// True when the path exists only for other methods, and every route
    /// it has is open (needs no credentials).
    fn open_path(&self, miss: Option<&Match<'_>>, path: &str) -> bool {
        let Some(Match::MethodNotAllowed { allowed, .. }) = miss else {
            return false;
        };
        allowed.iter().all(|m| {
            matches!(self.router.find(m, path),
                Match::Route { route, .. } if route.permission == Permission::Open)
        })
    }

    fn feature_on(&self, feature: Feature) -> bool {
        match feature {
            Feature::NodesDn => {
                self.state()
                    .security
                    .settings
                    .nodes_dn_dynamic_config_enabled
            }
        }
    }

    /// The route's permission for an authenticated caller.
    fn authorize(
        &self,
        route: &Route,
        principal: &Principal,
        snapshot: &Snapshot,
        ip: Option<std::net::IpAddr>,
        method: &Method,
        conn: &ConnInfo,
    ) -> Result<(), Refusal> {
        let security = &self.state().security;
        match route.permission {
            Permission::Open | Permission::Authenticated => Ok(()),
            // Decided in `dispatch` by `vault_acl`, before routing, as Vault does.
            Permission::VaultAcl => Ok(()),
            Permission::Cluster(action) => {
                if principal.is_superuser()
                    || snapshot
                        .evaluator
                        .allows(&snapshot.roles_of(principal, ip), action)
                {
                    Ok(())
                } else {
                    Err(Refusal::Forbidden {
                        user: principal.name().to_string(),
                        permission: action,
                    })
                }
            }
            Permission::SecurityApi(endpoint, admin) => {
                if principal.is_superuser() {
                    return Ok(());
                }
                let roles = snapshot.roles_of(principal, ip);
                let names = snapshot.evaluator.role_names(&roles);
                let cert = match (conn.tls, client_certificate_dn(conn)) {
                    (false, _) => CertStatus::NoTls,
                    (true, None) => CertStatus::NoCertificate,
                    (true, Some(dn)) => CertStatus::NotAdmin(dn),
                };
                security
                    .gate
                    .check(principal.name(), &names, endpoint, method.as_str(), &cert)
                    .map_err(Refusal::GateDenied)?;
                let allowed = match admin {
                    Admin::No => true,
                    Admin::RestAdmin => security.is_rest_admin(
                        snapshot,
                        principal,
                        &roles,
                        endpoint.rest_admin_permission(),
                    ),
                    Admin::ConfigUpdate => {
                        if security.settings.restapi.admin.enabled {
                            security.is_rest_admin(
                                snapshot,
                                principal,
                                &roles,
                                Some("restapi:admin/config/update"),
                            )
                        } else {
                            security
                                .settings
                                .unsupported
                                .restapi
                                .allow_securityconfig_modification
                        }
                    }
                    Admin::Superuser => false,
                    Admin::Explicit(permission) => {
                        security.is_rest_admin(snapshot, principal, &roles, Some(permission))
                    }
                };
                if allowed {
                    Ok(())
                } else {
                    Err(Refusal::AccessDenied)
                }
            }
        }
    }
}

/// The effective user of a failed login that gave no credentials, as the plugin names it.
const NO_USER: &str = "<NONE>";

/// True when a header name starts with the plugin's internal prefix
/// (`_opendistro_security_`): such a request is spoofing the plugin.
fn has_bad_headers(headers: &http::HeaderMap) -> bool {
    const PREFIX: &str = "_opendistro_security_";
    headers.keys().any(|k| {
        k.as_str()
            .get(..PREFIX.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX))
    })
}

fn add_deprecation_warning(response: &mut Response<Body>) {
    // Appended: a handler may have added a warning of its own.
    response.headers_mut().append(
        http::header::WARNING,
        http::HeaderValue::from_static(family::opensearch::LEGACY_WARNING),
    );
}

/// Query parameters every OpenSearch route accepts (opensearch-py sends them).
const COMMON_PARAMETERS: &[&str] = &["pretty", "filter_path", "error_trace", "human", "source"];

/// The first query parameter the route does not read.
fn unknown_parameter(query: Option<&str>, route_params: &[&str]) -> Option<String> {
    query?
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| kv.split_once('=').map_or(kv, |(k, _)| k))
        .find(|k| !COMMON_PARAMETERS.contains(k) && !route_params.contains(k))
        .map(|k| crate::ctx::percent_decode(k).unwrap_or_else(|| k.to_string()))
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

/// The HTTP methods Vault maps to an operation (LIST is Vault's own).
fn vault_method(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::POST | Method::PUT | Method::DELETE | Method::PATCH
    ) || method.as_str() == "LIST"
}

#[cfg(test)]
mod tests {
    use super::unknown_parameter;

    #[test]
    fn unknown_query_parameters_are_found() {
        assert_eq!(unknown_parameter(None, &[]), None);
        assert_eq!(unknown_parameter(Some("pretty&filter_path=a"), &[]), None);
        assert_eq!(
            unknown_parameter(Some("filterBy=internal"), &["filterBy"]),
            None
        );
        assert_eq!(
            unknown_parameter(Some("pretty&aaaaa=bbbbb"), &["filterBy"]).as_deref(),
            Some("aaaaa")
        );
        assert_eq!(
            unknown_parameter(Some("a%5Bb=1"), &[]).as_deref(),
            Some("a[b")
        );
    }
}
