//! The route table: one list that is the router, the permission map and the
//! source of the OpenAPI document.

use std::sync::{Arc, LazyLock};

use http::Method;
use rbac_model::Endpoint;
use serde::Serialize;

use crate::ctx::{Ctx, HandlerFuture};
use crate::handlers;

/// The API family of a route: it decides the shape of error bodies and how an
/// authentication failure looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// HashiCorp Vault (`/v1/...`).
    Vault,
    /// The OpenSearch Security plugin (`/_plugins/_security/...`).
    OpenSearch,
    /// ArangoDB (`/_admin/...`, `/_db/{db}/_admin/...`).
    Arango,
    /// Atlassian Data Center (`/rest/...`).
    Atlassian,
}

impl Family {
    /// The family's name in metrics and logs.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Family::Vault => "vault",
            Family::OpenSearch => "opensearch",
            Family::Arango => "arango",
            Family::Atlassian => "atlassian",
        }
    }
}

/// What a caller must hold to use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Anyone, without credentials (health endpoints only).
    Open,
    /// Any authenticated caller.
    Authenticated,
    /// A cluster action a role can grant in `cluster_permissions`; the root
    /// token, the admin certificate and `all_access` hold every one.
    Cluster(&'static str),
    /// An endpoint of the OpenSearch security REST API: the REST-API gate
    /// for the endpoint (`restapi.roles_enabled`, `endpoints_disabled`),
    /// then what `Admin` asks for on top.
    SecurityApi(Endpoint, Admin),
    /// A Vault ACL capability on the request path (`/v1/...`). Until ACL
    /// policies land, only superusers (the root token, `all_access`) hold
    /// it; anyone else gets Vault's 403 `permission denied`.
    VaultAcl,
}

/// What a security REST API route asks for beyond the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Admin {
    /// Nothing more.
    No,
    /// REST admin for the endpoint: the admin certificate, or (with
    /// `restapi.admin.enabled`) the endpoint's `restapi:admin/*` permission.
    RestAdmin,
    /// `PUT`/`PATCH P/securityconfig`: REST admin for `restapi:admin/config/update`
    /// when `restapi.admin.enabled`, else `allow_securityconfig_modification`.
    ConfigUpdate,
    /// The admin certificate or the root token only (keyward's securityadmin).
    Superuser,
    /// REST admin through this `restapi:admin/*` permission (the endpoints
    /// whose methods need different ones: `ssl/certs` and `reloadcerts`).
    Explicit(&'static str),
}

/// The name of the REST-API gate of an endpoint, as documents show it.
fn gate_name(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::Account => "restapi:gate/ACCOUNT",
        Endpoint::ActionGroups => "restapi:gate/ACTIONGROUPS",
        Endpoint::Allowlist => "restapi:gate/ALLOWLIST",
        Endpoint::Cache => "restapi:gate/CACHE",
        Endpoint::Config => "restapi:gate/CONFIG",
        Endpoint::InternalUsers => "restapi:gate/INTERNALUSERS",
        Endpoint::NodesDn => "restapi:gate/NODESDN",
        Endpoint::PermissionsInfo => "restapi:gate/PERMISSIONSINFO",
        Endpoint::Roles => "restapi:gate/ROLES",
        Endpoint::RolesMapping => "restapi:gate/ROLESMAPPING",
        Endpoint::Tenants => "restapi:gate/TENANTS",
        Endpoint::Audit => "restapi:gate/AUDIT",
        Endpoint::Ssl => "restapi:gate/SSL",
        _ => "restapi:gate",
    }
}

impl Permission {
    /// The permission as one string, for documents: `open`, `authenticated`,
    /// or the cluster action.
    pub fn as_str(&self) -> &'static str {
        match self {
            Permission::Open => "open",
            Permission::Authenticated => "authenticated",
            Permission::Cluster(action) => action,
            Permission::SecurityApi(endpoint, Admin::No) => gate_name(*endpoint),
            Permission::SecurityApi(endpoint, Admin::RestAdmin) => endpoint
                .rest_admin_permission()
                .unwrap_or_else(|| gate_name(*endpoint)),
            Permission::SecurityApi(_, Admin::ConfigUpdate) => "restapi:admin/config/update",
            Permission::SecurityApi(_, Admin::Superuser) => "superuser",
            Permission::SecurityApi(_, Admin::Explicit(permission)) => permission,
            Permission::VaultAcl => "vault-acl",
        }
    }
}

pub(crate) type Handler = Arc<dyn Fn(Ctx) -> HandlerFuture + Send + Sync>;

/// One route of the table.
#[derive(Clone)]
pub(crate) struct Route {
    pub(crate) methods: &'static [Method],
    pub(crate) path: String,
    pub(crate) family: Family,
    pub(crate) permission: Permission,
    pub(crate) summary: &'static str,
    /// Set on the legacy aliases that answer with a deprecation warning.
    pub(crate) deprecated: bool,
    /// Query parameters the route reads (OpenSearch routes refuse others).
    pub(crate) query: &'static [&'static str],
    /// A setting that must be on for the route to exist.
    pub(crate) feature: Option<Feature>,
    /// Vault: how a POST/PUT tells `create` from `update`.
    pub(crate) existence: Existence,
    /// Vault: the path is root-protected (the ACL rule must grant `sudo`).
    pub(crate) sudo: bool,
    /// The handler waits for every other request and replaces the state
    /// (a snapshot restore), so its request does not hold the shared gate.
    pub(crate) exclusive: bool,
    pub(crate) handler: Handler,
}

/// How a Vault write decides between the `create` and `update`
/// capabilities: only routes with an existence check can be `create`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existence {
    /// No check: a write is `update`.
    None,
    /// `encrypt/{name}`: `create` when the key does not exist (upsert).
    TransitKey,
    /// `sys/policies/acl/{name}`, `sys/policy/{name}`: `create` for a new policy.
    Policy,
}

/// Settings that switch routes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Feature {
    /// `nodes_dn_dynamic_config_enabled`.
    NodesDn,
}

/// A read-only view of one route, for documents and tests.
#[derive(Debug, Clone, Serialize)]
pub struct RouteInfo {
    /// HTTP methods (the Vault family also accepts `LIST`).
    pub methods: Vec<String>,
    /// Path pattern with `{param}` segments.
    pub path: String,
    /// The API family.
    pub family: Family,
    /// What a caller must hold.
    pub permission: &'static str,
    /// One line saying what the route does.
    pub summary: &'static str,
    /// True for legacy aliases.
    pub deprecated: bool,
}

/// The route table, as data.
pub fn routes() -> Vec<RouteInfo> {
    table()
        .into_iter()
        .map(|r| RouteInfo {
            methods: r.methods.iter().map(|m| m.as_str().to_string()).collect(),
            path: r.path,
            family: r.family,
            permission: r.permission.as_str(),
            summary: r.summary,
            deprecated: r.deprecated,
        })
        .collect()
}

pub(crate) fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Ctx) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = http::Response<crate::ctx::Body>> + Send + 'static,
{
    Arc::new(move |ctx| Box::pin(f(ctx)))
}

/// Vault's `LIST` verb (not a constant in `http`).
pub(crate) fn list_method() -> Method {
    Method::from_bytes(b"LIST").unwrap_or(Method::GET)
}

static LIST: LazyLock<[Method; 1]> = LazyLock::new(|| [list_method()]);

pub(crate) const GET: &[Method] = &[Method::GET];
pub(crate) const DELETE: &[Method] = &[Method::DELETE];
const WRITE: &[Method] = &[Method::POST, Method::PUT];
const GET_HEAD: &[Method] = &[Method::GET, Method::HEAD];
pub(crate) const GET_POST: &[Method] = &[Method::GET, Method::POST];
pub(crate) const POST: &[Method] = &[Method::POST];
pub(crate) const PUT: &[Method] = &[Method::PUT];
pub(crate) const PATCH: &[Method] = &[Method::PATCH];

/// Where mount-relative routes start: `/v1/{mount}/encrypt/{name}` is the
/// route `/encrypt/{name}` of whatever mount the request path names.
pub(crate) const MOUNT_PREFIX: &str = "/v1/{mount}";

/// The cluster action that rotates the encryption-at-rest user keys.
pub(crate) const ENCRYPTION_ROTATE: &str = "cluster:admin/keyward/encryption/rotate";

/// The cluster action that reads the TLS inventory (every authenticated
/// caller holds it, as in ArangoDB).
pub(crate) const TLS_MONITOR: &str = "cluster:monitor/keyward/tls";
/// The cluster action that reloads the TLS files (ArangoDB's superuser-only POST).
pub(crate) const TLS_RELOAD: &str = "cluster:admin/keyward/tls/reload";
/// The cluster action of the log level API (`/_admin/log/level`).
pub(crate) const LOG_LEVEL: &str = "cluster:admin/keyward/log/level";
/// The cluster action that rotates the AES key of the secret store.
pub(crate) const SECRETS_ROTATE: &str = "cluster:admin/keyward/secrets/keys/rotate";
/// The cluster action that lists and deletes inactive AES keys.
pub(crate) const SECRETS_INACTIVE: &str = "cluster:admin/keyward/secrets/keys/inactive";
/// The cluster action that reads secrets (and lists their names).
pub(crate) const SECRETS_READ: &str = "cluster:admin/keyward/secrets/read";
/// The cluster action that writes and deletes secrets.
pub(crate) const SECRETS_WRITE: &str = "cluster:admin/keyward/secrets/write";
/// The cluster action that reads the server's metrics.
pub(crate) const METRICS: &str = "cluster:monitor/keyward/metrics";

/// Every keyward cluster action of DESIGN.md and every `restapi:admin/*`
/// permission: the evaluator precomputes its answer for each of them. The
/// routes of the TLS, log-level and secret-key issues take their names from
/// this list.
pub(crate) const KNOWN_ACTIONS: &[&str] = &[
    ENCRYPTION_ROTATE,
    TLS_MONITOR,
    TLS_RELOAD,
    LOG_LEVEL,
    SECRETS_ROTATE,
    SECRETS_INACTIVE,
    SECRETS_READ,
    SECRETS_WRITE,
    METRICS,
    crate::handlers::security::WHOAMI_PROTECTED,
    "restapi:admin/actiongroups",
    "restapi:admin/allowlist",
    "restapi:admin/config/update",
    "restapi:admin/internalusers",
    "restapi:admin/nodesdn",
    "restapi:admin/ratelimiters",
    "restapi:admin/roles",
    "restapi:admin/rolesmapping",
    "restapi:admin/ssl/certs/info",
    "restapi:admin/ssl/certs/reload",
    "restapi:admin/tenants",
];

/// Builds the table. Every route is listed once; aliases (`/_db/{db}/...`,
/// `/_opendistro/...`) are generated here so the list stays the one truth.
pub(crate) fn table() -> Vec<Route> {
    let mut t = Table::default();

    // Vault sys/
    t.add(
        Family::Vault,
        GET_HEAD,
        "/v1/sys/health",
        Permission::Open,
        "Health of the server, with Vault's fields (initialized, sealed, standby, ...)",
        handler(handlers::health::vault),
    );

    let acl = Permission::VaultAcl;
    t.add(
        Family::Vault,
        GET,
        "/v1/sys/mounts",
        acl,
        "Every mounted secrets engine, by path",
        handler(handlers::sys_mounts::list),
    );
    t.add(
        Family::Vault,
        GET,
        "/v1/sys/mounts/{*path}",
        acl,
        "The mount at a path",
        handler(handlers::sys_mounts::read),
    );
    t.add(
        Family::Vault,
        WRITE,
        "/v1/sys/mounts/{*path}",
        acl,
        "Mount a secrets engine at a path ({\"type\":\"transit\"})",
        handler(handlers::sys_mounts::mount),
    );
    t.add(
        Family::Vault,
        DELETE,
        "/v1/sys/mounts/{*path}",
        acl,
        "Unmount the engine at a path and delete its keys",
        handler(handlers::sys_mounts::unmount),
    );
    policy_and_token_routes(&mut t);
    transit_routes(&mut t);

    // OpenSearch Security plugin
    t.add_opensearch(
        GET_POST,
        "/health",
        Permission::Open,
        "Health of the security plugin: {\"message\":null,\"mode\":\"strict\",\"status\":\"UP\"}",
        handler(handlers::health::opensearch),
    );
    t.with_query(&["mode"]);
    crate::handlers::security::routes(&mut t);
    crate::handlers::audit::routes(&mut t);

    // ArangoDB
    t.add_arango(POST, "/_admin/server/encryption", Permission::Cluster(ENCRYPTION_ROTATE),
        "Rotate the encryption-at-rest user keys: re-read the key folder and re-wrap the internal key",
        handler(handlers::encryption::rotate));
    t.add_arango(
        GET,
        "/_admin/server/availability",
        Permission::Open,
        "Readiness: 200 while the store answers and takes writes, 503 with the reason otherwise",
        handler(handlers::health::availability),
    );
    t.add_arango(
        GET,
        "/_admin/server/encryption",
        Permission::Authenticated,
        "SHA-256 of each encryption-at-rest user key now in use",
        handler(handlers::encryption::read),
    );
    handlers::tls::routes(&mut t);
    crate::handlers::log_level::routes(&mut t);
    t.add_arango(
        GET,
        "/_admin/metrics/v2",
        Permission::Cluster(METRICS),
        "keyward's metrics in the Prometheus text format (the audit queue: written, dropped, waiting)",
        handler(handlers::metrics::read),
    );

    // Atlassian Data Center
    crate::handlers::secrets::routes(&mut t);

    t.routes
}

/// Vault's rate-limit quotas.
fn quota_routes(t: &mut Table) {
    use handlers::sys_quotas as q;
    let acl = Permission::VaultAcl;
    let vault = Family::Vault;
    let list: &'static [Method] = &*LIST;
    t.add(
        vault,
        GET,
        "/v1/sys/quotas/config",
        acl,
        "Read the quota settings: exempt paths, rate-limit headers and audit",
        handler(q::read_config),
    );
    t.add(
        vault,
        WRITE,
        "/v1/sys/quotas/config",
        acl,
        "Replace the quota settings (rate_limit_exempt_paths, enable_rate_limit_response_headers, enable_rate_limit_audit_logging)",
        handler(q::write_config),
    );
    t.add(
        vault,
        list,
        "/v1/sys/quotas/rate-limit",
        acl,
        "List the rate-limit quotas (also GET ?list=true)",
        handler(q::list),
    );
    t.add(
        vault,
        GET,
        "/v1/sys/quotas/rate-limit/{name}",
        acl,
        "Read a rate-limit quota",
        handler(q::read),
    );
    t.add(
        vault,
        WRITE,
        "/v1/sys/quotas/rate-limit/{name}",
        acl,
        "Create or replace a rate-limit quota: rate per interval and client IP, on the server, a mount or a path",
        handler(q::write),
    );
    t.add(
        vault,
        DELETE,
        "/v1/sys/quotas/rate-limit/{name}",
        acl,
        "Delete a rate-limit quota",
        handler(q::delete),
    );
}

/// ACL policies, capabilities, tokens and the userpass login.
fn policy_and_token_routes(t: &mut Table) {
    use handlers::{auth_token as tok, sys_capabilities as caps, sys_policies as pol};
    let acl = Permission::VaultAcl;
    let vault = Family::Vault;
    let list: &'static [Method] = &*LIST;
    t.add(
        vault,
        list,
        "/v1/sys/policies/acl",
        acl,
        "List the ACL policies (also GET ?list=true)",
        handler(pol::list_acl),
    );
    t.add(
        vault,
        GET,
        "/v1/sys/policies/acl/{name}",
        acl,
        "Read an ACL policy: {name, policy}",
        handler(pol::read_acl),
    );
    t.add(
        vault,
        WRITE,
        "/v1/sys/policies/acl/{name}",
        acl,
        "Create or replace an ACL policy (HCL or JSON in `policy`)",
        handler(pol::write_acl),
    );
    t.with_existence(Existence::Policy);
    t.add(
        vault,
        DELETE,
        "/v1/sys/policies/acl/{name}",
        acl,
        "Delete an ACL policy (not `default` or `root`)",
        handler(pol::delete),
    );
    t.add(
        vault,
        GET,
        "/v1/sys/policy",
        acl,
        "List the ACL policies (the older API): keys and policies",
        handler(pol::list_legacy),
    );
    t.add(
        vault,
        GET,
        "/v1/sys/policy/{name}",
        acl,
        "Read an ACL policy (the older API): {name, rules}",
        handler(pol::read_legacy),
    );
    t.add(
        vault,
        WRITE,
        "/v1/sys/policy/{name}",
        acl,
        "Create or replace an ACL policy (the older API; `policy` or `rules`)",
        handler(pol::write_legacy),
    );
    t.with_existence(Existence::Policy);
    t.add(
        vault,
        DELETE,
        "/v1/sys/policy/{name}",
        acl,
        "Delete an ACL policy (the older API)",
        handler(pol::delete),
    );
    quota_routes(t);
    t.add(
        vault,
        WRITE,
        "/v1/sys/capabilities-self",
        acl,
        "The calling token's capabilities on paths",
        handler(caps::this_token),
    );
    t.add(
        vault,
        WRITE,
        "/v1/sys/capabilities",
        acl,
        "A token's capabilities on paths",
        handler(caps::of_token),
    );
    t.add(
        vault,
        WRITE,
        "/v1/sys/capabilities-accessor",
        acl,
        "The capabilities on paths of the token with an accessor",
        handler(caps::of_accessor),
    );
    t.add(vault, WRITE, "/v1/auth/token/create", acl, "Create a child token (policies, ttl, explicit_max_ttl, renewable, num_uses, no_parent, display_name, meta)", handler(tok::create_token));
    t.add(
        vault,
        WRITE,
        "/v1/auth/token/create-orphan",
        acl,
        "Create a token without a parent",
        handler(tok::create_orphan),
    );
    t.add(
        vault,
        GET_POST,
        "/v1/auth/token/lookup-self",
        acl,
        "Look up the calling token",
        handler(tok::lookup_self),
    );
    t.add(
        vault,
        WRITE,
        "/v1/auth/token/lookup",
        acl,
        "Look up a token (`token`; none: the caller's own)",
        handler(tok::lookup),
    );
    t.add(
        vault,
        WRITE,
        "/v1/auth/token/lookup-accessor",
        acl,
        "Look up a token by accessor",
        handler(tok::lookup_accessor),
    );
    t.add(
        vault,
        WRITE,
        "/v1/auth/token/renew-self",
        acl,
        "Renew the calling token (`increment`)",
        handler(tok::renew_self),
    );
    t.add(
        vault,
        WRITE,
        "/v1/auth/token/renew",
        acl,
        "Renew a token (`token`, `increment`)",
        handler(tok::renew),
    );
    t.add(
        vault,
        WRITE,
        "/v1/auth/token/renew-accessor",
        acl,
        "Renew a token by accessor",
        handler(tok::renew_accessor),
    );
    t.add(
        vault,
        WRITE,
        "/v1/auth/token/revoke-self",
        acl,
        "Revoke the calling token and its children",
        handler(tok::revoke_self),
    );
    t.add(
        vault,
        WRITE,
        "/v1/auth/token/revoke",
        acl,
        "Revoke a token and its children (`token`)",
        handler(tok::revoke),
    );
    t.add(
        vault,
        WRITE,
        "/v1/auth/token/revoke-accessor",
        acl,
        "Revoke the token with an accessor, and its children",
        handler(tok::revoke_accessor),
    );
    t.add(
        vault,
        list,
        "/v1/auth/token/accessors",
        acl,
        "List the accessors of every live token (needs sudo)",
        handler(tok::accessors),
    );
    t.with_sudo();
    t.add(
        vault,
        GET,
        "/v1/sys/metrics",
        acl,
        "Metrics in Vault's JSON form, or Prometheus text with ?format=prometheus",
        handler(handlers::sys_metrics::read),
    );
    t.add(
        vault,
        GET,
        "/v1/sys/storage/raft/snapshot",
        acl,
        "Download a snapshot of the whole store (sealed, with its keystore, SHA-256 checked)",
        handler(handlers::sys_snapshot::take),
    );
    t.with_sudo();
    t.add(
        vault,
        WRITE,
        "/v1/sys/storage/raft/snapshot",
        acl,
        "Restore a snapshot of this data store into the running server",
        handler(handlers::sys_snapshot::restore),
    );
    t.with_sudo();
    t.with_exclusive();
    t.add(vault, WRITE, "/v1/auth/userpass/login/{username}", Permission::Open, "Log in as an internal user: a token with the policies named like the user's security roles", handler(tok::userpass_login));
}

/// The transit engine's routes, relative to a mount.
fn transit_routes(t: &mut Table) {
    use handlers::transit::{byok, certs, crypt, export, keys, mac, settings, sign, tools};
    let list: &'static [Method] = &*LIST;
    t.add_mount(
        list,
        "/keys",
        "List the keys (also GET ?list=true)",
        handler(keys::list),
    );
    t.add_mount(
        WRITE,
        "/keys/{name}",
        "Create a key (an existing key is returned unchanged)",
        handler(keys::create),
    );
    t.add_mount(
        GET,
        "/keys/{name}",
        "Read a key: settings and versions",
        handler(keys::read),
    );
    t.add_mount(
        DELETE,
        "/keys/{name}",
        "Delete a key (needs deletion_allowed)",
        handler(keys::delete),
    );
    t.add_mount(
        WRITE,
        "/keys/{name}/config",
        "Configure a key: minimum versions, deletion, export, backup, auto-rotation",
        handler(keys::config),
    );
    t.add_mount(
        WRITE,
        "/keys/{name}/rotate",
        "Rotate a key: a new latest version",
        handler(keys::rotate),
    );
    t.add_mount(
        WRITE,
        "/keys/{name}/trim",
        "Delete the versions below min_available_version for good",
        handler(keys::trim),
    );
    t.add_mount(
        WRITE,
        "/encrypt/{name}",
        "Encrypt (single or batch_input); creates a missing key unless upsert is disabled",
        handler(crypt::encrypt),
    );
    t.with_existence(Existence::TransitKey);
    t.add_mount(
        WRITE,
        "/decrypt/{name}",
        "Decrypt (single or batch_input)",
        handler(crypt::decrypt),
    );
    t.add_mount(
        WRITE,
        "/rewrap/{name}",
        "Re-encrypt a ciphertext with the latest (or a given) version",
        handler(crypt::rewrap),
    );
    t.add_mount(
        WRITE,
        "/datakey/{plaintext}/{name}",
        "A new data key, encrypted (wrapped) and optionally in plaintext",
        handler(crypt::datakey),
    );
    t.add_mount(WRITE, "/random", "Random bytes", handler(tools::random));
    t.add_mount(
        WRITE,
        "/random/{source}",
        "Random bytes (source or byte count in the URL)",
        handler(tools::random),
    );
    t.add_mount(
        WRITE,
        "/random/{source}/{*urlbytes}",
        "Random bytes from a source, byte count in the URL",
        handler(tools::random),
    );
    t.add_mount(
        WRITE,
        "/hash",
        "Hash data (SHA-2, SHA-3)",
        handler(tools::hash),
    );
    t.add_mount(
        WRITE,
        "/hash/{*urlalgorithm}",
        "Hash data with the algorithm in the URL",
        handler(tools::hash),
    );
    t.add_mount(
        WRITE,
        "/hmac/{name}",
        "HMAC of data with a key's HMAC key",
        handler(mac::hmac),
    );
    t.add_mount(
        WRITE,
        "/hmac/{name}/{*urlalgorithm}",
        "HMAC with the algorithm in the URL",
        handler(mac::hmac),
    );
    t.add_mount(
        WRITE,
        "/keys/{name}/import",
        "Import a key (BYOK): material wrapped for the wrapping key, or a public key",
        handler(byok::import),
    );
    t.add_mount(
        WRITE,
        "/keys/{name}/import_version",
        "Import a new version of an imported key, or the private half of a public-only version",
        handler(byok::import_version),
    );
    t.add_mount(
        GET,
        "/wrapping_key",
        "The RSA-4096 public key that wraps imported keys (made on first use)",
        handler(byok::wrapping_key),
    );
    t.add_mount(
        WRITE,
        "/sign/{name}",
        "Sign data with an ed25519, ECDSA or RSA key",
        handler(sign::sign),
    );
    t.add_mount(
        WRITE,
        "/sign/{name}/{*urlalgorithm}",
        "Sign with the hash algorithm in the URL",
        handler(sign::sign),
    );
    t.add_mount(
        WRITE,
        "/verify/{name}",
        "Verify a signature or an HMAC",
        handler(mac::verify),
    );
    t.add_mount(
        WRITE,
        "/verify/{name}/{*urlalgorithm}",
        "Verify with the algorithm in the URL",
        handler(mac::verify),
    );
    t.add_mount(
        GET,
        "/export/{type}/{name}",
        "Export key material of an exportable key",
        handler(export::export),
    );
    t.add_mount(
        GET,
        "/export/{type}/{name}/{*version}",
        "Export one version (a number or latest)",
        handler(export::export),
    );
    t.add_mount(
        GET,
        "/byok-export/{destination}/{source}",
        "Export every version of a key wrapped for another key (BYOK import format)",
        handler(certs::byok_export),
    );
    t.add_mount(
        GET,
        "/byok-export/{destination}/{source}/{*version}",
        "Export one version wrapped for another key (a number, v<n> or latest)",
        handler(certs::byok_export),
    );
    t.add_mount(
        WRITE,
        "/keys/{name}/csr",
        "A certificate signing request signed with a signing key (from an optional template)",
        handler(certs::csr),
    );
    t.add_mount(
        WRITE,
        "/keys/{name}/set-certificate",
        "Attach a certificate chain (leaf first) to a version of a signing key",
        handler(certs::set_certificate),
    );
    t.add_mount(
        GET,
        "/backup/{name}",
        "A plaintext backup of a key (Vault's backup format)",
        handler(export::backup),
    );
    t.add_mount(
        WRITE,
        "/restore",
        "Restore a backup under its own name",
        handler(export::restore),
    );
    t.add_mount(
        WRITE,
        "/restore/{*name}",
        "Restore a backup under a name",
        handler(export::restore),
    );
    t.add_mount(
        GET,
        "/cache-config",
        "The size of the key cache",
        handler(settings::cache_read),
    );
    t.add_mount(
        WRITE,
        "/cache-config",
        "Set the size of the key cache (0 or >= 10)",
        handler(settings::cache_write),
    );
    t.add_mount(
        GET,
        "/config/keys",
        "Mount-wide key settings (disable_upsert)",
        handler(settings::keys_read),
    );
    t.add_mount(
        WRITE,
        "/config/keys",
        "Set disable_upsert",
        handler(settings::keys_write),
    );
}

#[derive(Default)]
pub(crate) struct Table {
    routes: Vec<Route>,
    /// How many routes the last `add*` call pushed (for `with_*`).
    last: usize,
}

impl Table {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        family: Family,
        methods: &'static [Method],
        path: String,
        permission: Permission,
        summary: &'static str,
        deprecated: bool,
        handler: Handler,
    ) {
        self.routes.push(Route {
            methods,
            path,
            family,
            permission,
            summary,
            deprecated,
            query: &[],
            feature: None,
            existence: Existence::None,
            sudo: false,
            exclusive: false,
            handler,
        });
        self.last = 1;
    }

    pub(crate) fn add(
        &mut self,
        family: Family,
        methods: &'static [Method],
        path: &str,
        permission: Permission,
        summary: &'static str,
        handler: Handler,
    ) {
        self.push(
            family,
            methods,
            path.to_string(),
            permission,
            summary,
            false,
            handler,
        );
        self.last = 1;
    }

    /// A route relative to a Vault mount: `/v1/{mount}<suffix>`.
    fn add_mount(
        &mut self,
        methods: &'static [Method],
        suffix: &str,
        summary: &'static str,
        handler: Handler,
    ) {
        self.push(
            Family::Vault,
            methods,
            format!("{MOUNT_PREFIX}{suffix}"),
            Permission::VaultAcl,
            summary,
            false,
            handler,
        );
    }

    /// A plugin route under `/_plugins/_security` and its deprecated
    /// `/_opendistro/_security` alias.
    pub(crate) fn add_opensearch(
        &mut self,
        methods: &'static [Method],
        suffix: &str,
        permission: Permission,
        summary: &'static str,
        handler: Handler,
    ) {
        self.push(
            Family::OpenSearch,
            methods,
            format!("/_plugins/_security{suffix}"),
            permission,
            summary,
            false,
            handler.clone(),
        );
        self.push(
            Family::OpenSearch,
            methods,
            format!("/_opendistro/_security{suffix}"),
            permission,
            summary,
            true,
            handler,
        );
        self.last = 2;
    }

    /// A plugin route that exists under `/_plugins/_security` only.
    pub(crate) fn add_plugins_only(
        &mut self,
        methods: &'static [Method],
        suffix: &str,
        permission: Permission,
        summary: &'static str,
        handler: Handler,
    ) {
        self.push(
            Family::OpenSearch,
            methods,
            format!("/_plugins/_security{suffix}"),
            permission,
            summary,
            false,
            handler,
        );
        self.last = 1;
    }

    /// The query parameters the routes just added read.
    pub(crate) fn with_query(&mut self, query: &'static [&'static str]) {
        let n = self.routes.len();
        for r in &mut self.routes[n - self.last..] {
            r.query = query;
        }
    }

    /// The existence check of the Vault routes just added.
    pub(crate) fn with_existence(&mut self, existence: Existence) {
        let n = self.routes.len();
        for r in &mut self.routes[n - self.last..] {
            r.existence = existence;
        }
    }

    /// The Vault routes just added are root-protected.
    pub(crate) fn with_sudo(&mut self) {
        let n = self.routes.len();
        for r in &mut self.routes[n - self.last..] {
            r.sudo = true;
        }
    }

    /// The routes just added replace the state (see [`Route::exclusive`]).
    pub(crate) fn with_exclusive(&mut self) {
        let n = self.routes.len();
        for r in &mut self.routes[n - self.last..] {
            r.exclusive = true;
        }
    }

    /// The setting the routes just added need.
    pub(crate) fn with_feature(&mut self, feature: Feature) {
        let n = self.routes.len();
        for r in &mut self.routes[n - self.last..] {
            r.feature = Some(feature);
        }
    }

    /// An ArangoDB route, reachable as is (database `_system`) and under
    /// `/_db/{db}` as python-arango sends it.
    pub(crate) fn add_arango(
        &mut self,
        methods: &'static [Method],
        path: &str,
        permission: Permission,
        summary: &'static str,
        handler: Handler,
    ) {
        self.push(
            Family::Arango,
            methods,
            path.to_string(),
            permission,
            summary,
            false,
            handler.clone(),
        );
        self.push(
            Family::Arango,
            methods,
            format!("/_db/{{db}}{path}"),
            permission,
            summary,
            false,
            handler,
        );
        self.last = 2;
    }
}
