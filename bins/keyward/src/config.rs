//! The TOML configuration file and its merge with the command line.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use rbac_model::SecuritySettings;
use serde::Deserialize;
use tls_inventory::ClientAuth;

use crate::cli::ServerArgs;
use crate::limits::{self, ConnectionLimits};

/// The configuration file. Every key mirrors a flag of `keyward server`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    pub(crate) dev: Option<bool>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) listen: Option<SocketAddr>,
    pub(crate) dev_root_token: Option<String>,
    pub(crate) dev_admin_password: Option<String>,
    pub(crate) tls_disable: Option<bool>,
    pub(crate) tls_cert: Option<PathBuf>,
    pub(crate) tls_key: Option<PathBuf>,
    pub(crate) tls_client_ca: Option<PathBuf>,
    pub(crate) tls_client_auth: Option<String>,
    /// Server name → key file (`--tls-sni NAME=FILE`).
    pub(crate) tls_sni: Option<BTreeMap<String, PathBuf>>,
    pub(crate) cluster_listen: Option<SocketAddr>,
    pub(crate) cluster_tls_cert: Option<PathBuf>,
    pub(crate) cluster_tls_key: Option<PathBuf>,
    pub(crate) cluster_tls_ca: Option<PathBuf>,
    pub(crate) encryption_keyfolder: Option<PathBuf>,
    pub(crate) audit_log: Option<PathBuf>,
    pub(crate) security_config: Option<PathBuf>,
    pub(crate) log_format: Option<String>,
    pub(crate) unauthenticated_metrics_access: Option<bool>,
    pub(crate) max_connections: Option<usize>,
    pub(crate) max_handshakes_per_ip: Option<usize>,
    pub(crate) http_read_header_timeout: Option<String>,
    pub(crate) http_read_timeout: Option<String>,
    /// The `plugins.security.*` settings, without the prefix.
    pub(crate) security: Option<toml::Table>,
    /// The `[audit]` table.
    pub(crate) audit: Option<AuditTable>,
}

/// The `[audit]` table of the configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditTable {
    /// `_readonly` of the audit API: JSON pointers into the audit
    /// configuration (`/audit/exclude_sensitive_headers`, ...) that only a
    /// superuser may change. Default: none, as the plugin ships it.
    #[serde(default)]
    pub(crate) readonly: Vec<String>,
    /// How many audit events may wait for the writer; a full queue drops
    /// events (counted, and reported in the log). Default 10,000.
    #[serde(default = "default_queue")]
    pub(crate) queue_capacity: usize,
    /// How often written events are fsynced, in milliseconds. Default 200.
    #[serde(default = "default_sync_ms")]
    pub(crate) sync_interval_ms: u64,
}

fn default_queue() -> usize {
    10_000
}

fn default_sync_ms() -> u64 {
    200
}

impl Default for AuditTable {
    fn default() -> Self {
        AuditTable {
            readonly: Vec::new(),
            queue_capacity: default_queue(),
            sync_interval_ms: default_sync_ms(),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

/// The settings the server runs with, after merging file and flags.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) dev: bool,
    pub(crate) data_dir: PathBuf,
    pub(crate) listen: SocketAddr,
    pub(crate) dev_root_token: Option<String>,
    pub(crate) dev_admin_password: Option<String>,
    pub(crate) tls_disable: bool,
    pub(crate) tls_cert: Option<PathBuf>,
    pub(crate) tls_key: Option<PathBuf>,
    pub(crate) tls_client_ca: Option<PathBuf>,
    /// `None`: optional with a client CA, none without.
    pub(crate) tls_client_auth: Option<ClientAuth>,
    pub(crate) tls_sni: BTreeMap<String, PathBuf>,
    pub(crate) cluster_listen: Option<SocketAddr>,
    pub(crate) cluster_tls_cert: Option<PathBuf>,
    pub(crate) cluster_tls_key: Option<PathBuf>,
    pub(crate) cluster_tls_ca: Option<PathBuf>,
    pub(crate) encryption_keyfolder: Option<PathBuf>,
    /// The audit log; dev mode defaults to `DATA_DIR/audit.log`.
    pub(crate) audit_log: Option<PathBuf>,
    pub(crate) audit: AuditTable,
    pub(crate) security_config: Option<PathBuf>,
    pub(crate) log_format: LogFormat,
    pub(crate) unauthenticated_metrics_access: bool,
    pub(crate) limits: ConnectionLimits,
    /// Time to read a request body (`http_read_timeout`); zero: no limit.
    pub(crate) body_read_timeout: Duration,
    pub(crate) security: SecuritySettings,
}

/// Dev mode's security settings (the OpenSearch demo's, with keyward's
/// admin certificate), used where the `[security]` table does not say.
const DEV_SECURITY_DEFAULTS: &[(&[&str], &str)] = &[
    (&["ssl_cert_reload_enabled"], "true"),
    (&["nodes_dn_dynamic_config_enabled"], "true"),
    // The dev server certificate, so that a dev node's own certificate is a
    // node on the transport listener (the demo lists its node certificate).
    (
        &["nodes_dn"],
        r#"["CN=localhost,OU=keyward dev,O=keyward"]"#,
    ),
    (
        &["authcz", "admin_dn"],
        r#"["CN=admin,OU=keyward,O=keyward"]"#,
    ),
    (
        &["restapi", "roles_enabled"],
        r#"["all_access", "security_rest_api_access"]"#,
    ),
    (&["restapi", "admin", "enabled"], "false"),
];

/// Reads the `[security]` table; in dev mode the demo's settings fill what
/// it leaves out.
fn security_settings(table: Option<toml::Table>, dev: bool) -> anyhow::Result<SecuritySettings> {
    let mut table = table.unwrap_or_default();
    if dev {
        for (path, value) in DEV_SECURITY_DEFAULTS {
            let (last, parents) = path.split_last().context("a setting path")?;
            let mut t = &mut table;
            for p in parents {
                t = t
                    .entry(p.to_string())
                    .or_insert_with(|| toml::Value::Table(Default::default()))
                    .as_table_mut()
                    .with_context(|| format!("[security] {p} must be a table"))?;
            }
            if !t.contains_key(*last) {
                let v: toml::Table = toml::from_str(&format!("v = {value}"))?;
                t.insert(last.to_string(), v["v"].clone());
            }
        }
    }
    let settings = SecuritySettings::deserialize(toml::Value::Table(table))
        .context("the [security] table is not valid")?;
    settings
        .password_policy()
        .context("the [security] table is not valid")?;
    rbac_model::AdminDns::new(&settings.authcz.admin_dn)
        .context("the [security] table is not valid")?;
    Ok(settings)
}

pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:8200";

fn client_auth(mode: &str) -> anyhow::Result<ClientAuth> {
    Ok(match mode {
        "none" => ClientAuth::None,
        "optional" => ClientAuth::Optional,
        "required" => ClientAuth::Required,
        other => bail!("--tls-client-auth must be none, optional or required, not {other:?}"),
    })
}

/// `NAME=FILE` of `--tls-sni`.
fn sni_flag(flag: &str) -> anyhow::Result<(String, PathBuf)> {
    match flag.split_once('=') {
        Some((name, file)) if !name.is_empty() && !file.is_empty() => {
            Ok((name.to_string(), PathBuf::from(file)))
        }
        _ => bail!("--tls-sni takes NAME=FILE, not {flag:?}"),
    }
}

/// A server name a client can send in SNI: a DNS name, no IP address.
fn check_sni_name(name: &str) -> anyhow::Result<()> {
    let ok = name.len() <= 253
        && name.parse::<std::net::IpAddr>().is_err()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    if !ok {
        bail!("--tls-sni: {name:?} is not a DNS name a client can ask for");
    }
    Ok(())
}

/// Paths in a config file are relative to the file's folder.
fn relative_to(base: &Path, p: Option<PathBuf>) -> Option<PathBuf> {
    p.map(|p| if p.is_relative() { base.join(p) } else { p })
}

impl Settings {
    pub(crate) fn resolve(args: ServerArgs) -> anyhow::Result<Settings> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read config file {}", path.display()))?;
                let mut cfg: FileConfig = toml::from_str(&text)
                    .with_context(|| format!("config file {} is not valid", path.display()))?;
                let base = path.parent().unwrap_or(Path::new("."));
                cfg.data_dir = relative_to(base, cfg.data_dir);
                cfg.tls_cert = relative_to(base, cfg.tls_cert);
                cfg.tls_key = relative_to(base, cfg.tls_key);
                cfg.tls_client_ca = relative_to(base, cfg.tls_client_ca);
                cfg.cluster_tls_cert = relative_to(base, cfg.cluster_tls_cert);
                cfg.cluster_tls_key = relative_to(base, cfg.cluster_tls_key);
                cfg.cluster_tls_ca = relative_to(base, cfg.cluster_tls_ca);
                if let Some(sni) = cfg.tls_sni.as_mut() {
                    for file in sni.values_mut() {
                        if file.is_relative() {
                            *file = base.join(&*file);
                        }
                    }
                }
                cfg.encryption_keyfolder = relative_to(base, cfg.encryption_keyfolder);
                cfg.audit_log = relative_to(base, cfg.audit_log);
                cfg.security_config = relative_to(base, cfg.security_config);
                cfg
            }
            None => FileConfig::default(),
        };
        let dev = args.dev || file.dev.unwrap_or(false);
        let security = security_settings(file.security, dev)?;
        let data_dir = match args.data_dir.or(file.data_dir) {
            Some(d) => d,
            None if dev => PathBuf::from("keyward-data"),
            None => {
                bail!("--data-dir (or data_dir in the config file) is required outside dev mode")
            }
        };
        let listen = match args.listen.or(file.listen) {
            Some(l) => l,
            None => DEFAULT_LISTEN.parse().context("default listen address")?,
        };
        let log_format = match args.log_format.or(file.log_format).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => bail!("--log-format must be text or json, not {other:?}"),
        };
        // The file's SNI names, then the flags' (a flag wins for its name).
        let mut tls_sni = file.tls_sni.unwrap_or_default();
        for flag in &args.tls_sni {
            let (name, path) = sni_flag(flag)?;
            tls_sni.insert(name, path);
        }
        let tls_client_auth = args
            .tls_client_auth
            .or(file.tls_client_auth)
            .as_deref()
            .map(client_auth)
            .transpose()?;
        let limits = ConnectionLimits {
            max_connections: args
                .max_connections
                .or(file.max_connections)
                .unwrap_or(limits::DEFAULT_MAX_CONNECTIONS),
            max_handshakes_per_ip: args
                .max_handshakes_per_ip
                .or(file.max_handshakes_per_ip)
                .unwrap_or(limits::DEFAULT_MAX_HANDSHAKES_PER_IP),
            header_read_timeout: duration_setting(
                "--http-read-header-timeout",
                args.http_read_header_timeout
                    .or(file.http_read_header_timeout),
                limits::DEFAULT_HEADER_READ_TIMEOUT,
            )?,
        };
        let body_read_timeout = duration_setting(
            "--http-read-timeout",
            args.http_read_timeout.or(file.http_read_timeout),
            limits::DEFAULT_READ_TIMEOUT,
        )?;
        let settings = Settings {
            dev,
            data_dir,
            listen,
            dev_root_token: args.dev_root_token.or(file.dev_root_token),
            dev_admin_password: args.dev_admin_password.or(file.dev_admin_password),
            tls_disable: args.tls_disable || file.tls_disable.unwrap_or(false),
            tls_cert: args.tls_cert.or(file.tls_cert),
            tls_key: args.tls_key.or(file.tls_key),
            tls_client_ca: args.tls_client_ca.or(file.tls_client_ca),
            tls_client_auth,
            tls_sni,
            cluster_listen: args.cluster_listen.or(file.cluster_listen),
            cluster_tls_cert: args.cluster_tls_cert.or(file.cluster_tls_cert),
            cluster_tls_key: args.cluster_tls_key.or(file.cluster_tls_key),
            cluster_tls_ca: args.cluster_tls_ca.or(file.cluster_tls_ca),
            encryption_keyfolder: args.encryption_keyfolder.or(file.encryption_keyfolder),
            audit_log: args.audit_log.or(file.audit_log),
            audit: file.audit.unwrap_or_default(),
            security_config: args.security_config.or(file.security_config),
            log_format,
            unauthenticated_metrics_access: args.unauthenticated_metrics_access
                || file.unauthenticated_metrics_access.unwrap_or(false),
            limits,
            body_read_timeout,
            security,
        };
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.limits.max_connections == 0 || self.limits.max_handshakes_per_ip == 0 {
            bail!("--max-connections and --max-handshakes-per-ip must be at least 1");
        }
        if !self.dev && (self.dev_root_token.is_some() || self.dev_admin_password.is_some()) {
            bail!("--dev-root-token and --dev-admin-password are dev-mode flags; add --dev");
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            bail!("--tls-cert and --tls-key go together");
        }
        if !self.dev && !self.tls_disable && self.tls_cert.is_none() {
            bail!(
                "outside dev mode, give --tls-cert and --tls-key (or --tls-disable to serve plain HTTP)"
            );
        }
        // Dev mode without --tls-cert makes its own CA and asks clients for
        // a certificate from it.
        let dev_ca = self.dev && self.tls_cert.is_none();
        if matches!(
            self.tls_client_auth,
            Some(ClientAuth::Optional | ClientAuth::Required)
        ) && self.tls_client_ca.is_none()
            && !dev_ca
        {
            bail!("--tls-client-auth optional or required needs --tls-client-ca");
        }
        if self.tls_disable
            && (!self.tls_sni.is_empty()
                || self.tls_client_ca.is_some()
                || self.tls_client_auth.is_some())
        {
            bail!("--tls-sni, --tls-client-ca and --tls-client-auth need TLS; drop --tls-disable");
        }
        for name in self.tls_sni.keys() {
            check_sni_name(name)?;
        }
        if self.cluster_tls_cert.is_some() != self.cluster_tls_key.is_some() {
            bail!("--cluster-tls-cert and --cluster-tls-key go together");
        }
        match self.cluster_listen {
            Some(addr) => {
                if addr == self.listen {
                    bail!("--cluster-listen must differ from --listen");
                }
                let has_cert = self.cluster_tls_cert.is_some()
                    || self.tls_cert.is_some()
                    || (self.dev && !self.tls_disable);
                if !has_cert {
                    bail!(
                        "--cluster-listen needs a certificate: --cluster-tls-cert and --cluster-tls-key"
                    );
                }
                if self.cluster_tls_ca.is_none() && self.tls_client_ca.is_none() && !dev_ca {
                    bail!(
                        "--cluster-listen needs the CA that peers' certificates chain to: --cluster-tls-ca (or --tls-client-ca)"
                    );
                }
            }
            None => {
                if self.cluster_tls_cert.is_some() || self.cluster_tls_ca.is_some() {
                    bail!(
                        "--cluster-tls-cert, --cluster-tls-key and --cluster-tls-ca need --cluster-listen"
                    );
                }
            }
        }
        if self.dev_root_token.as_deref() == Some("") {
            bail!("--dev-root-token must not be empty");
        }
        if self.dev_admin_password.as_deref() == Some("") {
            bail!("--dev-admin-password must not be empty");
        }
        if self.audit.queue_capacity == 0 {
            bail!("[audit] queue_capacity must be at least 1");
        }
        if self.audit.sync_interval_ms == 0 {
            bail!("[audit] sync_interval_ms must be at least 1");
        }
        audit_config::AuditConfig::check_readonly_paths(&self.audit.readonly)
            .context("[audit] readonly is not valid")?;
        Ok(())
    }
}

/// A duration flag or key, or its default when neither gives one.
fn duration_setting(
    flag: &str,
    text: Option<String>,
    default: Duration,
) -> anyhow::Result<Duration> {
    match text {
        None => Ok(default),
        Some(text) => limits::parse_duration(&text).map_err(|e| anyhow::anyhow!("{flag}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_the_file_and_paths_are_relative_to_it() {
        let dir = std::env::temp_dir().join(format!("kw-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("keyward.toml");
        std::fs::write(
            &file,
            "dev = true\ndata_dir = \"data\"\nlisten = \"127.0.0.1:9000\"\ntls_disable = true\n",
        )
        .unwrap();
        let args = ServerArgs {
            config: Some(file.clone()),
            listen: Some("127.0.0.1:9100".parse().unwrap()),
            ..Default::default()
        };
        let s = Settings::resolve(args).unwrap();
        assert!(s.dev && s.tls_disable);
        assert_eq!(s.listen.port(), 9100);
        assert_eq!(s.data_dir, dir.join("data"));
        std::fs::write(&file, "dev = true\nunknown_key = 1\n").unwrap();
        let err = Settings::resolve(ServerArgs {
            config: Some(file),
            ..Default::default()
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("unknown_key"), "{err:#}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_security_table_and_dev_defaults() {
        let dev = security_settings(None, true).unwrap();
        assert!(dev.ssl_cert_reload_enabled && dev.nodes_dn_dynamic_config_enabled);
        assert_eq!(dev.authcz.admin_dn, vec!["CN=admin,OU=keyward,O=keyward"]);
        let prod = security_settings(None, false).unwrap();
        assert!(!prod.ssl_cert_reload_enabled && prod.authcz.admin_dn.is_empty());
        let table: toml::Table = toml::from_str(
            "restapi.admin.enabled = true\nnodes_dn_dynamic_config_enabled = false\n[restapi.endpoints_disabled.all_access]\nROLES = [\"PUT\"]\n",
        )
        .unwrap();
        let s = security_settings(Some(table), true).unwrap();
        assert!(s.restapi.admin.enabled && !s.nodes_dn_dynamic_config_enabled);
        assert_eq!(
            s.restapi.endpoints_disabled["all_access"]["ROLES"],
            vec!["PUT"]
        );
        let bad: toml::Table = toml::from_str("unknown = 1").unwrap();
        assert!(security_settings(Some(bad), false).is_err());
        let bad: toml::Table =
            toml::from_str("restapi.password_score_based_validation_strength = \"weak\"").unwrap();
        assert!(security_settings(Some(bad), false).is_err());
    }

    #[test]
    fn the_audit_table() {
        let dir = std::env::temp_dir().join(format!("kw-audit-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("keyward.toml");
        std::fs::write(
            &file,
            "dev = true\naudit_log = \"logs/audit.log\"\n[audit]\nreadonly = [\"/audit/exclude_sensitive_headers\"]\nqueue_capacity = 50\n",
        )
        .unwrap();
        let s = Settings::resolve(ServerArgs {
            config: Some(file.clone()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(s.audit.readonly, vec!["/audit/exclude_sensitive_headers"]);
        assert_eq!(s.audit.queue_capacity, 50);
        assert_eq!(s.audit.sync_interval_ms, 200);
        assert_eq!(s.audit_log, Some(dir.join("logs/audit.log")));
        std::fs::write(&file, "dev = true\n[audit]\nreadonly = [\"/audit/nope\"]\n").unwrap();
        let err = Settings::resolve(ServerArgs {
            config: Some(file),
            ..Default::default()
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("/audit/nope"), "{err:#}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn production_mode_needs_tls_and_a_data_dir() {
        assert!(Settings::resolve(ServerArgs::default()).is_err());
        let err = Settings::resolve(ServerArgs {
            data_dir: Some("/tmp/x".into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("--tls-cert"));
    }
}
