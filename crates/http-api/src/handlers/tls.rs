//! The TLS inventory and its reload, in two families' words:
//!
//! - ArangoDB: `GET /_admin/server/tls` (any authenticated caller) and
//!   `POST` (reload the key file, client CA and SNI files of the HTTP
//!   listener; superuser or `cluster:admin/keyward/tls/reload`), both also
//!   under `/_db/{db}`, in the "ok" envelope; a reload that fails is
//!   400 / errorNum 34 and leaves the old certificates serving.
//! - The OpenSearch Security plugin: `GET P/ssl/certs` (the leaf
//!   certificates of the HTTP and transport layers), `GET
//!   /_plugins/_security/api/certificates[/{nodeId}]` (every certificate of
//!   each layer, CAs first), `PUT P/ssl/{http|transport}/reloadcerts` (the
//!   plugin's checks on new certificates) and `GET
//!   /_opendistro/_security/sslinfo` (the caller's TLS session).
//!
//! Reading files and building a configuration happens off the async workers.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::{Method, StatusCode};
use rbac_model::Endpoint;
use serde::Serialize;
use tls_inventory::{CertificateInfo, PemSummary, ReloadableTls, Replacement, TlsInventory};

use super::security::flag;
use crate::auth::client_certificate_dn;
use crate::ctx::{Body, Ctx};
use crate::family::arango::{self, ArangoError, error_num};
use crate::family::{json_response, opensearch};
use crate::route::{Admin, Family, GET, Permission, TLS_MONITOR, TLS_RELOAD, Table, handler};

/// REST admin permission of `GET P/ssl/certs` and `GET .../certificates`.
const CERTS_INFO: &str = "restapi:admin/ssl/certs/info";
/// REST admin permission of `PUT P/ssl/{type}/reloadcerts`.
const CERTS_RELOAD: &str = "restapi:admin/ssl/certs/reload";
const POST: &[Method] = &[Method::POST];
const PUT: &[Method] = &[Method::PUT];

/// The TLS provider keyward reports where the plugin says `JDK` or `OPENSSL`.
const PROVIDER: &str = "rustls";

/// The OpenSearch deprecation warning of `GET P/ssl/certs`.
const SSL_CERTS_WARNING: &str = "299 OpenSearch-keyward \"[/ssl/certs] is a deprecated endpoint. Please use [/certificates] instead.\"";

pub(crate) fn routes(t: &mut Table) {
    t.add_arango(
        GET,
        "/_admin/server/tls",
        Permission::Cluster(TLS_MONITOR),
        "Summary of the TLS files serving now: keyfile, clientCA and SNI (SHA-256 of each file, its certificates, SHA-256 of its private key)",
        handler(arango_read),
    );
    t.add_arango(
        POST,
        "/_admin/server/tls",
        Permission::Cluster(TLS_RELOAD),
        "Reload the key file, client CA and SNI files; answers the new summary (400 errorNum 34 and nothing changes when a file cannot be loaded)",
        handler(arango_reload),
    );
    let info = Permission::SecurityApi(Endpoint::Ssl, Admin::Explicit(CERTS_INFO));
    let reload = Permission::SecurityApi(Endpoint::Ssl, Admin::Explicit(CERTS_RELOAD));
    t.add_opensearch(
        GET,
        "/api/ssl/certs",
        info,
        "The leaf certificates of the HTTP and transport layers (deprecated in favour of /certificates; REST admin only)",
        handler(ssl_certs),
    );
    t.add_opensearch(
        PUT,
        "/api/ssl/{certType}/reloadcerts",
        reload,
        "Reload the http or transport certificates; new ones must be valid now and, while enforce_cert_reload_dn_verification, keep the subject DNs, issuer DNs and SANs (needs ssl_cert_reload_enabled; REST admin only)",
        handler(reload_certs),
    );
    t.add_plugins_only(
        GET,
        "/api/certificates",
        info,
        "Every certificate of each layer of each node, CAs first (REST admin only)",
        handler(certificates),
    );
    t.with_query(&["cert_type", "timeout"]);
    t.add_plugins_only(
        GET,
        "/api/certificates/{nodeId}",
        info,
        "The certificates of the named nodes (`_local`, `_all`, a node id or name, comma-separated)",
        handler(certificates),
    );
    t.with_query(&["cert_type", "timeout"]);
    t.add(
        Family::OpenSearch,
        GET,
        "/_opendistro/_security/sslinfo",
        Permission::Authenticated,
        "The caller's TLS session: client certificate DN, protocol, cipher (show_dn lists the DNs of both chains)",
        handler(sslinfo),
    );
    t.with_query(&["show_dn"]);
}

// ---------------------------------------------------------------------------
// ArangoDB

/// `result` of `/_admin/server/tls`, keys in ArangoDB's order.
#[derive(Serialize)]
struct ArangoTls<'a> {
    keyfile: &'a PemSummary,
    #[serde(rename = "clientCA")]
    client_ca: &'a PemSummary,
    #[serde(rename = "SNI", skip_serializing_if = "BTreeMap::is_empty")]
    sni: &'a BTreeMap<String, PemSummary>,
}

/// `200 {"error":false,"code":200,"result":...}` with a typed result.
fn arango_ok(inventory: Option<&TlsInventory>) -> http::Response<Body> {
    #[derive(Serialize)]
    struct Envelope<'a> {
        error: bool,
        code: u16,
        result: ArangoTls<'a>,
    }
    let content_type = "application/json; charset=utf-8";
    match inventory {
        Some(inv) => json_response(
            StatusCode::OK,
            content_type,
            &Envelope {
                error: false,
                code: 200,
                result: ArangoTls {
                    keyfile: &inv.keyfile,
                    client_ca: &inv.client_ca,
                    sni: &inv.sni,
                },
            },
        ),
        // No TLS: `result: {}`.
        None => arango::ok(serde_json::json!({})),
    }
}

/// `GET /_admin/server/tls`.
async fn arango_read(ctx: Ctx) -> http::Response<Body> {
    if let Err(e) = arango::check_database(ctx.param("db")) {
        return e.into_response();
    }
    let loaded = ctx.state.tls.as_ref().map(|t| t.loaded());
    arango_ok(loaded.as_ref().map(|l| &l.inventory))
}

/// `POST /_admin/server/tls`.
async fn arango_reload(ctx: Ctx) -> http::Response<Body> {
    if let Err(e) = arango::check_database(ctx.param("db")) {
        return e.into_response();
    }
    let Some(tls) = ctx.state.tls.clone() else {
        return arango_ok(None);
    };
    let now = ctx.state.clock.now().unix_secs();
    match tokio::task::spawn_blocking(move || tls.reload(now)).await {
        Ok(Ok(loaded)) => {
            tracing::info!(target: "keyward::tls", "TLS files reloaded through /_admin/server/tls");
            arango_ok(Some(&loaded.inventory))
        }
        Ok(Err(e)) => {
            tracing::error!(target: "keyward::tls", error = %e, "TLS reload refused; the previous certificates keep serving");
            ArangoError::new(
                StatusCode::BAD_REQUEST,
                error_num::CANNOT_READ_FILE,
                format!("Could not reload TLS context from files. {e}"),
            )
            .into_response()
        }
        Err(e) => {
            tracing::error!(target: "keyward::tls", error = %e, "the TLS reload task failed");
            ArangoError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                error_num::INTERNAL,
                "the TLS reload did not finish; the previous certificates keep serving",
            )
            .into_response()
        }
    }
}

// ---------------------------------------------------------------------------
// OpenSearch

/// A layer's entry of `P/ssl/certs`, keys in the plugin's order.
#[derive(Serialize)]
struct CertDetail<'a> {
    issuer_dn: &'a str,
    subject_dn: &'a str,
    san: &'a str,
    not_before: &'a str,
    not_after: &'a str,
}

impl<'a> From<&'a CertificateInfo> for CertDetail<'a> {
    fn from(c: &'a CertificateInfo) -> Self {
        CertDetail {
            issuer_dn: &c.issuer_dn,
            subject_dn: &c.subject_dn,
            san: &c.san,
            not_before: &c.not_before,
            not_after: &c.not_after,
        }
    }
}

fn leaves(layer: Option<&Arc<ReloadableTls>>) -> Option<Vec<CertificateInfo>> {
    layer.map(|t| t.loaded().inventory.leaves.clone())
}

/// `GET P/ssl/certs`.
async fn ssl_certs(ctx: Ctx) -> http::Response<Body> {
    #[derive(Serialize)]
    struct Lists<'a> {
        http_certificates_list: Option<Vec<CertDetail<'a>>>,
        transport_certificates_list: Option<Vec<CertDetail<'a>>>,
    }
    let http = leaves(ctx.state.tls.as_ref());
    let transport = leaves(ctx.state.transport_tls.as_ref());
    let lists = Lists {
        http_certificates_list: http.as_ref().map(|l| l.iter().map(Into::into).collect()),
        transport_certificates_list: transport
            .as_ref()
            .map(|l| l.iter().map(Into::into).collect()),
    };
    let mut response = opensearch::json(StatusCode::OK, &lists, flag(&ctx, "pretty"));
    response.headers_mut().append(
        http::header::WARNING,
        http::HeaderValue::from_static(SSL_CERTS_WARNING),
    );
    response
}

/// One certificate of `/certificates`, keys in the plugin's order.
#[derive(Serialize)]
struct NodeCert<'a> {
    format: &'static str,
    alias: Option<&'static str>,
    subject_dn: &'a str,
    san: &'a str,
    serial_number: &'a str,
    issuer_dn: &'a str,
    has_private_key: bool,
    not_after: &'a str,
    /// The plugin fills this with `not_after`; keyward with `not_before`.
    not_before: &'a str,
}

fn node_cert(c: &CertificateInfo, has_private_key: bool) -> NodeCert<'_> {
    NodeCert {
        format: "pem",
        alias: None,
        subject_dn: &c.subject_dn,
        san: &c.san,
        serial_number: &c.serial_number,
        issuer_dn: &c.issuer_dn,
        has_private_key,
        not_after: &c.not_after,
        not_before: &c.not_before,
    }
}

/// A layer's certificates as the plugin lists them: those without a private
/// key (CAs, the rest of the chains) first, then the leaves.
fn node_certs(inv: &TlsInventory) -> Vec<NodeCert<'_>> {
    inv.authorities
        .iter()
        .map(|c| node_cert(c, false))
        .chain(inv.leaves.iter().map(|c| node_cert(c, true)))
        .collect()
}

/// The plugin's certificate types and the layer each reads.
const CERT_TYPES: [&str; 3] = ["http", "transport", "transport_client"];

/// `GET /_plugins/_security/api/certificates[/{nodeId}]`.
async fn certificates(ctx: Ctx) -> http::Response<Body> {
    let state = &ctx.state;
    let node_id = state.cluster.id.clone();
    let node_name = format!("{}-node-1", state.cluster.name);
    let selected = match ctx.param("nodeId") {
        None => true,
        Some(ids) => ids.split(',').any(|id| {
            let id = id.trim();
            ["_local", "_all", "*", node_id.as_str(), node_name.as_str()].contains(&id)
        }),
    };
    let cert_type = super::security::query(&ctx, "cert_type").filter(|t| *t != "all");
    let http = state.tls.as_ref().map(|t| t.loaded());
    let transport = state.transport_tls.as_ref().map(|t| t.loaded());
    let mut by_type: Vec<(&str, Vec<NodeCert<'_>>)> = Vec::new();
    for name in CERT_TYPES {
        if cert_type.is_some_and(|t| !t.eq_ignore_ascii_case(name)) {
            continue;
        }
        let layer = if name == "http" { &http } else { &transport };
        let certs = layer
            .as_ref()
            .map(|l| node_certs(&l.inventory))
            .unwrap_or_default();
        by_type.push((name, certs));
    }
    let certificates: serde_json::Map<String, serde_json::Value> = by_type
        .into_iter()
        .map(|(k, v)| (k.to_string(), serde_json::to_value(v).unwrap_or_default()))
        .collect();
    let mut nodes = serde_json::Map::new();
    if selected {
        nodes.insert(
            node_id,
            serde_json::json!({"name": node_name, "certificates": certificates}),
        );
    }
    let n = nodes.len();
    let body = serde_json::json!({
        "_nodes": {"total": n, "successful": n, "failed": 0},
        "cluster_name": state.cluster.name,
        "nodes": nodes,
    });
    opensearch::json(StatusCode::OK, &body, flag(&ctx, "pretty"))
}

/// The plugin's name and text for a refused replacement: the Java class
/// of the exception and its message.
fn java_exception(e: &tls_inventory::Error) -> Option<(&'static str, &'static str, String)> {
    use tls_inventory::Error as E;
    match e {
        E::SubjectDnsDiffer { .. } | E::IssuerDnsDiffer { .. } | E::SansDiffer { .. } => Some((
            "java.security.cert.CertificateException",
            "certificate_exception",
            e.to_string(),
        )),
        E::NotValidNow { certificate, .. } => Some(if e.expired() == Some(true) {
            (
                "java.security.cert.CertificateExpiredException",
                "certificate_expired_exception",
                format!(
                    "NotAfter: {}",
                    tls_inventory::java_date(certificate.not_after_unix)
                ),
            )
        } else {
            (
                "java.security.cert.CertificateNotYetValidException",
                "certificate_not_yet_valid_exception",
                format!(
                    "NotBefore: {}",
                    tls_inventory::java_date(certificate.not_before_unix)
                ),
            )
        }),
        _ => None,
    }
}

/// `PUT P/ssl/{certType}/reloadcerts`.
async fn reload_certs(ctx: Ctx) -> http::Response<Body> {
    let settings = &ctx.state.security.settings;
    if !settings.ssl_cert_reload_enabled {
        return opensearch::status_message(
            StatusCode::BAD_REQUEST,
            &format!(
                "no handler found for uri [{}] and method [{}]. In order to use SSL reload functionality set plugins.security.ssl_cert_reload_enabled to true",
                ctx.uri.path(),
                ctx.method
            ),
        );
    }
    let cert_type = ctx
        .param("certType")
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    let (layer, verify) = match cert_type.as_str() {
        "http" => match &ctx.state.tls {
            Some(t) => (
                t.clone(),
                settings.ssl.http.enforce_cert_reload_dn_verification,
            ),
            None => {
                return opensearch::status_message(
                    StatusCode::BAD_REQUEST,
                    "SSL for HTTP is disabled",
                );
            }
        },
        "transport" => match &ctx.state.transport_tls {
            Some(t) => (
                t.clone(),
                settings.ssl.transport.enforce_cert_reload_dn_verification,
            ),
            None => {
                return opensearch::status_message(
                    StatusCode::BAD_REQUEST,
                    "SSL for transport is disabled: keyward was started without --cluster-listen",
                );
            }
        },
        _ => {
            return opensearch::status_message(
                StatusCode::FORBIDDEN,
                "invalid uri path, please use /_plugins/_security/api/ssl/http/reload or /_plugins/_security/api/ssl/transport/reload",
            );
        }
    };
    let now = ctx.state.clock.now().unix_secs();
    let outcome = tokio::task::spawn_blocking(move || layer.reload_checked(now, verify)).await;
    match outcome {
        Ok(Ok(replacement)) => {
            let what = match replacement {
                Replacement::Unchanged(_) => "unchanged",
                Replacement::Replaced(_) => "replaced",
            };
            tracing::info!(target: "keyward::tls", layer = %cert_type, outcome = what, "reloadcerts");
            let body = serde_json::json!({"message": format!("updated {cert_type} certs")});
            opensearch::json(StatusCode::OK, &body, flag(&ctx, "pretty"))
        }
        Ok(Err(e)) => {
            tracing::warn!(target: "keyward::tls", layer = %cert_type, error = %e, "reloadcerts refused; the previous certificates keep serving");
            // The plugin answers these with 500; they are the caller's files.
            match java_exception(&e) {
                Some((class, kind, message)) => opensearch::core_error_caused(
                    StatusCode::BAD_REQUEST,
                    "exception",
                    &format!("{class}: {message}"),
                    (kind, &message),
                ),
                None => {
                    opensearch::core_error(StatusCode::BAD_REQUEST, "exception", &e.to_string())
                }
            }
        }
        Err(e) => {
            tracing::error!(target: "keyward::tls", error = %e, "the reloadcerts task failed");
            opensearch::status_message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the reload did not finish; the previous certificates keep serving",
            )
        }
    }
}

/// `paramAsBoolean(name, false)`: absent is false, empty is true, else
/// `true` or `false`; any other value is returned as the error.
fn bool_param<'a>(ctx: &'a Ctx, name: &str) -> Result<bool, &'a str> {
    match super::security::query(ctx, name) {
        None => Ok(false),
        Some("") | Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(other),
    }
}

/// `GET /_opendistro/_security/sslinfo`.
async fn sslinfo(ctx: Ctx) -> http::Response<Body> {
    #[derive(Serialize)]
    struct SslInfo {
        principal: Option<String>,
        peer_certificates: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        peer_certificates_list: Option<Option<Vec<String>>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        local_certificates_list: Option<Option<Vec<String>>>,
        ssl_protocol: Option<String>,
        ssl_cipher: Option<String>,
        ssl_provider_http: Option<&'static str>,
        ssl_provider_transport_server: Option<&'static str>,
        ssl_provider_transport_client: Option<&'static str>,
    }
    let show_dn = match bool_param(&ctx, "show_dn") {
        Ok(b) => b,
        Err(other) => {
            return opensearch::core_error(
                StatusCode::BAD_REQUEST,
                "illegal_argument_exception",
                &format!("Failed to parse value [{other}] as only [true] or [false] are allowed."),
            );
        }
    };
    let conn = &ctx.conn;
    let names = |chain: &[Vec<u8>]| -> Option<Vec<String>> {
        (conn.tls && !chain.is_empty()).then(|| {
            chain
                .iter()
                .filter_map(|c| tls_inventory::dn::subject_java_name(c))
                .collect()
        })
    };
    let transport = ctx.state.transport_tls.is_some().then_some(PROVIDER);
    let info = SslInfo {
        principal: client_certificate_dn(conn),
        peer_certificates: conn.peer_certificates.len().to_string(),
        peer_certificates_list: show_dn.then(|| names(&conn.peer_certificates)),
        local_certificates_list: show_dn.then(|| names(&conn.local_certificates)),
        ssl_protocol: conn.tls_protocol.clone(),
        ssl_cipher: conn.tls_cipher.clone(),
        ssl_provider_http: ctx.state.tls.is_some().then_some(PROVIDER),
        ssl_provider_transport_server: transport,
        ssl_provider_transport_client: transport,
    };
    opensearch::json(StatusCode::OK, &info, flag(&ctx, "pretty"))
}
