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
    /// Print the OpenAPI document of every route.
    #[command(hide = true)]
    Openapi,
}

/// Flags of `keyward server`. A flag given on the command line wins over the
/// same key in `--config`.
#[derive(Debug, Args, Default)]
pub(crate) struct ServerArgs {
    /// Dev mode: everything generated and kept under the data dir.
    #[arg(long)]
    pub(crate) dev: bool,
    /// A TOML configuration file.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Where the data lives (dev default: ./keyward-data).
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Address to listen on (default 127.0.0.1:8200).
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: Option<SocketAddr>,
    /// Dev mode: the root token (generated unless given).
    #[arg(long, value_name = "TOKEN")]
    pub(crate) dev_root_token: Option<String>,
    /// Dev mode: the password of the internal user `admin` (generated unless given).
    #[arg(long, value_name = "PASSWORD")]
    pub(crate) dev_admin_password: Option<String>,
    /// Serve plain HTTP instead of HTTPS.
    #[arg(long)]
    pub(crate) tls_disable: bool,
    /// PEM certificate chain of the server, leaf first.
    #[arg(long, value_name = "FILE")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// PEM private key of the server.
    #[arg(long, value_name = "FILE")]
    pub(crate) tls_key: Option<PathBuf>,
    /// PEM CA certificates for client certificates.
    #[arg(long, value_name = "FILE")]
    pub(crate) tls_client_ca: Option<PathBuf>,
    /// Folder of 32-byte key files that protect the data at rest.
    #[arg(long, value_name = "DIR")]
    pub(crate) encryption_keyfolder: Option<PathBuf>,
    /// The audit log file (JSON lines; dev mode: DATA_DIR/audit.log).
    #[arg(long, value_name = "FILE")]
    pub(crate) audit_log: Option<PathBuf>,
    /// Folder of OpenSearch security YAML files read at first start.
    #[arg(long, value_name = "DIR")]
    pub(crate) security_config: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long, value_name = "FORMAT")]
    pub(crate) log_format: Option<String>,
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
