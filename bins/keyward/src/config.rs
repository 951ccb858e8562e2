//! The TOML configuration file and its merge with the command line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use rbac_model::SecuritySettings;
use serde::Deserialize;

use crate::cli::ServerArgs;

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
    pub(crate) encryption_keyfolder: Option<PathBuf>,
    pub(crate) audit_log: Option<PathBuf>,
    pub(crate) security_config: Option<PathBuf>,
    pub(crate) log_format: Option<String>,
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
    pub(crate) encryption_keyfolder: Option<PathBuf>,
    /// The audit log; dev mode defaults to `DATA_DIR/audit.log`.
    pub(crate) audit_log: Option<PathBuf>,
    pub(crate) audit: AuditTable,
    pub(crate) security_config: Option<PathBuf>,
    pub(crate) log_format: LogFormat,
    pub(crate) security: SecuritySettings,
}

/// Dev mode's security settings (the OpenSearch demo's, with keyward's
/// admin certificate), used where the `[security]` table does not say.
const DEV_SECURITY_DEFAULTS: &[(&[&str], &str)] = &[
    (&["ssl_cert_reload_enabled"], "true"),
    (&["nodes_dn_dynamic_config_enabled"], "true"),
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
            encryption_keyfolder: args.encryption_keyfolder.or(file.encryption_keyfolder),
            audit_log: args.audit_log.or(file.audit_log),
            audit: file.audit.unwrap_or_default(),
            security_config: args.security_config.or(file.security_config),
            log_format,
            security,
        };
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> anyhow::Result<()> {
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
