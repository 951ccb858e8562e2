//! The command line. Every flag of `keyward server` has a key of the same
//! name (with `_` for `-`) in the TOML configuration file.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "keyward",
    version,
    about = "keyward: encryption as a service, identity and access control, TLS and secret keys in one server"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the server.
    Server(Box<ServerArgs>),
    /// Export or import the security configuration of a running server
    /// (the OpenSearch YAML files), as the admin certificate or the root token.
    Securityadmin(SecurityadminArgs),
    /// Check a configuration file, or print the configuration reference.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Operate a keyward: snapshots of the whole store.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Print the OpenAPI document of every route.
    #[command(hide = true)]
    Openapi,
}

/// Flags of `keyward server`. A flag given on the command line wins over the
/// same key in `--config`.
#[derive(Debug, Args, Default)]
pub(crate) struct ServerArgs {
    /// Dev mode: generate what is missing under the data dir and reuse it.
    ///
    /// Generates the key folder, TLS certificates (a CA, the server's, and
    /// the admin certificate), the root token, the admin password and the
    /// transit mount, and reuses them on the next start.
    ///
    /// Default: off.
    #[arg(long)]
    pub(crate) dev: bool,
    /// A TOML configuration file.
    ///
    /// Every flag has a key of the same name with `_` for `-`; a flag wins
    /// over the key. Unknown keys are refused. Paths are relative to the
    /// file's folder.
    ///
    /// Default: none.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Where the data lives.
    ///
    /// The database (`keyward.redb`) and the keystore (`keystore.json`).
    ///
    /// Default: dev: `./keyward-data`; required otherwise.
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Address and port to listen on.
    ///
    /// The one listener serves every API family.
    ///
    /// Default: `127.0.0.1:8200`.
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: Option<SocketAddr>,
    /// Dev mode: the root token.
    ///
    /// Dev mode only.
    ///
    /// Default: generated (`kw.` and 32 characters).
    #[arg(long, value_name = "TOKEN")]
    pub(crate) dev_root_token: Option<String>,
    /// Dev mode: the password of the internal user `admin`.
    ///
    /// Dev mode only: the reserved user `admin` (backend role `admin`, mapped
    /// to `all_access`).
    ///
    /// Default: generated.
    #[arg(long, value_name = "PASSWORD")]
    pub(crate) dev_admin_password: Option<String>,
    /// Serve plain HTTP instead of HTTPS.
    ///
    /// Default: off.
    #[arg(long)]
    pub(crate) tls_disable: bool,
    /// PEM certificate chain of the server, leaf first.
    ///
    /// Reloaded by SIGHUP, `POST /_admin/server/tls` and `PUT
    /// P/ssl/http/reloadcerts`. Give the same file as --tls-key for
    /// ArangoDB's key file (chain and key in one PEM file): the `keyfile`
    /// summary of `/_admin/server/tls` is then that file's; with two files
    /// it is the certificate file's bytes followed by the key file's.
    ///
    /// Default: dev: `DIR/tls/server.pem`.
    #[arg(long, value_name = "FILE")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// PEM private key of the server.
    ///
    /// PKCS#8, PKCS#1 or SEC1.
    ///
    /// Default: dev: `DIR/tls/server-key.pem`.
    #[arg(long, value_name = "FILE")]
    pub(crate) tls_key: Option<PathBuf>,
    /// PEM CA certificates for client certificates.
    ///
    /// Client certificates (the admin certificate of `[security]
    /// authcz.admin_dn` among them) must chain to it; reported as
    /// `clientCA` by `/_admin/server/tls` and reloaded with the rest.
    ///
    /// Default: dev: `DIR/tls/ca.pem`.
    #[arg(long, value_name = "FILE")]
    pub(crate) tls_client_ca: Option<PathBuf>,
    /// Whether clients must present a certificate: none, optional or required.
    ///
    /// `optional`: every client is asked for a certificate from
    /// --tls-client-ca and none is required (one from another CA fails the
    /// handshake); `required`: a client without one fails the handshake;
    /// `none`: no certificate is asked for. `optional` and `required` need
    /// --tls-client-ca (dev mode: the dev CA).
    ///
    /// Default: `optional` with a client CA (dev mode: the dev CA), `none`
    /// without.
    #[arg(long, value_name = "MODE")]
    pub(crate) tls_client_auth: Option<String>,
    /// Serve FILE's certificate to clients that ask for NAME (SNI); repeatable.
    ///
    /// FILE holds that name's chain and key in one PEM file (ArangoDB's
    /// `--ssl.server-name-indication`); NAME is matched exactly, other names
    /// and clients that send none get --tls-cert. In the TOML file a table,
    /// `[tls_sni]` with `"NAME" = "FILE"`; a flag wins for its name. NAME
    /// must be a DNS name. The names are fixed at start; the files reload.
    ///
    /// Default: none.
    #[arg(long = "tls-sni", value_name = "NAME=FILE")]
    pub(crate) tls_sni: Vec<String>,
    /// Address of the transport (node-to-node) listener.
    ///
    /// Mutual TLS with the transport certificate; a peer is admitted only
    /// when its certificate's subject DN matches `[security] nodes_dn` or
    /// the `nodesdn` API's lists (others get 403, without a certificate from
    /// the CA no handshake). Serves `GET /_keyward/cluster/health` until
    /// cluster traffic arrives. Must differ from --listen.
    ///
    /// Default: off.
    #[arg(long, value_name = "ADDR")]
    pub(crate) cluster_listen: Option<SocketAddr>,
    /// PEM certificate chain of the transport listener.
    ///
    /// `transport_certificates_list` of `P/ssl/certs`; reloaded by `PUT
    /// P/ssl/transport/reloadcerts` and SIGHUP. Goes with
    /// --cluster-tls-key.
    ///
    /// Default: --tls-cert (dev: the dev server certificate).
    #[arg(long, value_name = "FILE")]
    pub(crate) cluster_tls_cert: Option<PathBuf>,
    /// PEM private key of the transport listener.
    ///
    /// Default: --tls-key (dev: the dev server key).
    #[arg(long, value_name = "FILE")]
    pub(crate) cluster_tls_key: Option<PathBuf>,
    /// PEM CA certificates that transport peers' certificates must chain to.
    ///
    /// Default: --tls-client-ca (dev: the dev CA).
    #[arg(long, value_name = "FILE")]
    pub(crate) cluster_tls_ca: Option<PathBuf>,
    /// Folder of 32-byte key files that protect the data at rest.
    ///
    /// They protect the data key. Without it the data key is stored
    /// unprotected (a warning says so) and `/_admin/server/encryption`
    /// answers 404.
    ///
    /// Default: dev: `DIR/keyfolder`.
    #[arg(long, value_name = "DIR")]
    pub(crate) encryption_keyfolder: Option<PathBuf>,
    /// The audit log file (JSON lines).
    ///
    /// Default: dev: `DIR/audit.log`.
    #[arg(long, value_name = "FILE")]
    pub(crate) audit_log: Option<PathBuf>,
    /// Folder of OpenSearch security YAML files read at first start.
    ///
    /// `internal_users.yml`, `roles.yml`, `roles_mapping.yml`,
    /// `action_groups.yml`, `tenants.yml`, `nodes_dn.yml`, `allowlist.yml`,
    /// `config.yml`, each with its `_meta` header (`config_version: 2`),
    /// stored at first start; a missing file leaves its type empty. Later
    /// starts use the stored configuration: change it through the REST API
    /// or `keyward securityadmin`. Outside dev mode without it, the
    /// configuration starts empty (only the static roles, action groups
    /// and tenant): manage it with an admin certificate (`[security]
    /// authcz.admin_dn` and `--tls-client-ca`).
    ///
    /// Default: dev: the demo set.
    #[arg(long, value_name = "DIR")]
    pub(crate) security_config: Option<PathBuf>,
    /// Log format: text or json.
    ///
    /// On stderr; the level comes from `KEYWARD_LOG`. Every request is one
    /// line at `info` (target `keyward::request`) with its `request_id`
    /// (also in `X-Request-Id` and Vault's envelope).
    ///
    /// Default: `text`; level `info`.
    #[arg(long, value_name = "FORMAT")]
    pub(crate) log_format: Option<String>,
    /// Serve `/v1/sys/metrics` without a token (for a Prometheus scraper).
    ///
    /// Vault's listener option of the same name; opens only that route
    /// (docs/metrics.md).
    ///
    /// Default: off.
    #[arg(long)]
    pub(crate) unauthenticated_metrics_access: bool,
    /// Open client connections the listener holds at most.
    ///
    /// A connection beyond it is closed at once (logged at most once a
    /// second). Raise the process's open-files limit to match.
    ///
    /// Default: 4096.
    #[arg(long, value_name = "N")]
    pub(crate) max_connections: Option<usize>,
    /// TLS handshakes one client address may have in progress.
    ///
    /// A connection beyond it is closed at once, so a handshake flood from
    /// one client does not starve the others.
    ///
    /// Default: 256.
    #[arg(long, value_name = "N")]
    pub(crate) max_handshakes_per_ip: Option<usize>,
    /// Time a client has to send a request's headers (HTTP/1.1).
    ///
    /// Vault's listener option of the same name. The clock starts when the
    /// connection waits for a request, so it also closes keep-alive
    /// connections idle that long. `10s`, `500ms`, `2m`; `0` turns it off.
    ///
    /// Default: `10s`.
    #[arg(long, value_name = "DURATION")]
    pub(crate) http_read_header_timeout: Option<String>,
    /// Time a client has to send a request's body, once its headers are in.
    ///
    /// Vault's `http_read_timeout`. A slower body is refused with 408 in the
    /// API family's error shape. `0` turns it off.
    ///
    /// Default: `30s`.
    #[arg(long, value_name = "DURATION")]
    pub(crate) http_read_timeout: Option<String>,
}

/// Flags of `keyward securityadmin`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("direction").required(true).args(["import", "export"])))]
pub(crate) struct SecurityadminArgs {
    /// Upload every YAML file found in DIR (each replaces its whole type).
    #[arg(long, value_name = "DIR")]
    pub(crate) import: Option<PathBuf>,
    /// Write every configuration type as a YAML file into DIR.
    #[arg(long, value_name = "DIR")]
    pub(crate) export: Option<PathBuf>,
    /// The server (default https://127.0.0.1:8200).
    #[arg(long, value_name = "URL", default_value = "https://127.0.0.1:8200")]
    pub(crate) url: String,
    /// A dev server's data dir: its CA and admin certificate are used.
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// PEM CA certificate that signed the server's certificate.
    #[arg(long, value_name = "FILE")]
    pub(crate) cacert: Option<PathBuf>,
    /// PEM admin client certificate.
    #[arg(long, value_name = "FILE")]
    pub(crate) cert: Option<PathBuf>,
    /// PEM private key of the admin client certificate.
    #[arg(long, value_name = "FILE")]
    pub(crate) key: Option<PathBuf>,
    /// The root token, instead of a certificate (also $KEYWARD_TOKEN).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "KEYWARD_TOKEN",
        hide_env_values = true
    )]
    pub(crate) token: Option<String>,
}

/// `keyward operator ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum OperatorCommand {
    /// Save or restore a snapshot of the whole store.
    #[command(subcommand)]
    Snapshot(SnapshotCommand),
}

/// `keyward operator snapshot ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum SnapshotCommand {
    /// Download a snapshot from a running server (it keeps serving).
    Save(SnapshotSaveArgs),
    /// Restore a snapshot into a stopped or fresh data dir.
    Restore(SnapshotRestoreArgs),
}

/// Flags of `keyward operator snapshot save`.
#[derive(Debug, Args)]
pub(crate) struct SnapshotSaveArgs {
    /// Where to write the snapshot (replaced atomically).
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// The server (default https://127.0.0.1:8200).
    #[arg(long, value_name = "URL", default_value = "https://127.0.0.1:8200")]
    pub(crate) url: String,
    /// A token with `read` and `sudo` on `sys/storage/raft/snapshot`
    /// (also $KEYWARD_TOKEN).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "KEYWARD_TOKEN",
        hide_env_values = true
    )]
    pub(crate) token: String,
    /// PEM CA certificate that signed the server's certificate.
    #[arg(long, value_name = "FILE")]
    pub(crate) cacert: Option<PathBuf>,
    /// A dev server's data dir: its CA is trusted.
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
}

/// Flags of `keyward operator snapshot restore`.
#[derive(Debug, Args)]
pub(crate) struct SnapshotRestoreArgs {
    /// The snapshot file.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// The data dir to restore into (no server may be running on it).
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: PathBuf,
    /// The key folder whose keys open the snapshot (default: DIR/keyfolder
    /// when it exists, as dev mode keeps it).
    #[arg(long, value_name = "DIR")]
    pub(crate) encryption_keyfolder: Option<PathBuf>,
    /// Replace a data store that is already there.
    #[arg(long)]
    pub(crate) force: bool,
}

/// `keyward config ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Validate a TOML configuration without starting: the keys, the
    /// values, and every file it names (TLS, key folder, security YAML).
    Check {
        /// The configuration file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Print the table of flags and TOML keys of docs/configuration.md.
    #[command(hide = true)]
    Reference {
        /// Update the table inside this Markdown file instead of printing it.
        #[arg(long, value_name = "FILE")]
        write: Option<PathBuf>,
    },
}
