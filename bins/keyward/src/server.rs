//! Starting, running and stopping the server.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use audit_config::{AuditSink, SinkConfig};
use http_api::{Api, ApiConfig, AuditSettings, Services};
use keyring_core::{Barrier, Clock, Keystore, RedbStore, Timestamp};
use rbac_model::{ConfigType, SecurityConfig};
use secrecy::SecretString;
use tls_inventory::{ClientAuth, ReloadableTls, TlsFiles};
use tokio::signal::unix::{SignalKind, signal};
use tracing_subscriber::EnvFilter;

use crate::cli::ServerArgs;
use crate::config::{LogFormat, Settings};
use crate::dev;

/// How long in-flight requests may take to finish after SIGTERM.
const DRAIN: Duration = Duration::from_secs(30);

/// The system clock, the one place keyward reads the wall clock.
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp::new(
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        )
    }
}

/// Replaces the log filter of the running subscriber.
type FilterReload = Arc<dyn Fn(EnvFilter) + Send + Sync>;

/// Starts logging to stderr and returns what changes its filter at run
/// time. `KEYWARD_LOG` (an `EnvFilter` string) is the filter at start;
/// without it, the ArangoDB topics' startup levels are (see
/// `audit_config::TRACING_TARGETS`).
fn init_logging(format: LogFormat) -> (FilterReload, bool) {
    let from_env = tracing_subscriber::EnvFilter::try_from_env("KEYWARD_LOG").ok();
    let overridden = from_env.is_some();
    let filter = from_env
        .unwrap_or_else(|| EnvFilter::new(audit_config::LogLevels::default().tracing_directives()));
    let reload: FilterReload = match format {
        LogFormat::Text => {
            let builder = tracing_subscriber::fmt()
                .with_writer(std::io::stderr)
                // On a failed write the default reports with `eprintln!`,
                // which panics when stderr is a file on a full disk: the
                // request being logged would die with it.
                .log_internal_errors(false)
                .with_env_filter(filter)
                .with_filter_reloading();
            let handle = builder.reload_handle();
            let _ = builder.try_init();
            Arc::new(move |f| {
                let _ = handle.reload(f);
            })
        }
        LogFormat::Json => {
            let builder = tracing_subscriber::fmt()
                .json()
                .with_writer(std::io::stderr)
                .log_internal_errors(false)
                .with_env_filter(filter)
                .with_filter_reloading();
            let handle = builder.reload_handle();
            let _ = builder.try_init();
            Arc::new(move |f| {
                let _ = handle.reload(f);
            })
        }
    };
    (reload, overridden)
}

/// What the API calls when the log levels change (`/_admin/log/level`):
/// keyward's own log targets follow their topics. With `KEYWARD_LOG` set,
/// its filter holds until the first change through the API.
fn log_levels_hook(reload: FilterReload, env_override: bool) -> http_api::LogLevelsHook {
    let started = std::sync::atomic::AtomicBool::new(false);
    Arc::new(move |levels: &audit_config::LogLevels| {
        let first = !started.swap(true, std::sync::atomic::Ordering::Relaxed);
        if first && env_override {
            return;
        }
        reload(EnvFilter::new(levels.tracing_directives()));
    })
}

/// Opens the audit log (dev mode: `DATA_DIR/audit.log`); none outside dev
/// mode without `--audit-log`.
fn open_audit_sink(
    settings: &Settings,
    data_dir: &Path,
    clock: Arc<SystemClock>,
) -> anyhow::Result<Option<Arc<AuditSink>>> {
    let path = match &settings.audit_log {
        Some(p) => absolute(p)?,
        None if settings.dev => data_dir.join("audit.log"),
        None => {
            tracing::warn!(
                "audit logging is off: no --audit-log (or audit_log in the config file) was given"
            );
            return Ok(None);
        }
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let config = SinkConfig {
        capacity: settings.audit.queue_capacity,
        sync_interval: Duration::from_millis(settings.audit.sync_interval_ms),
        ..SinkConfig::new(&path)
    };
    let sink = AuditSink::open(config, clock)
        .with_context(|| format!("cannot open the audit log {}", path.display()))?;
    Ok(Some(Arc::new(sink)))
}

fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    if p.is_absolute() {
        Ok(p.to_path_buf())
    } else {
        Ok(std::env::current_dir()?.join(p))
    }
}

/// Opens the store. A keystore that exists is unlocked before anything in
/// the data dir is touched, so a wrong or missing key changes no byte.
fn open_barrier(
    settings: &Settings,
    data_dir: &Path,
    keyfolder: Option<&Path>,
) -> anyhow::Result<Barrier> {
    let keystore = Keystore::new(
        data_dir.join("keystore.json"),
        keyfolder.map(Path::to_path_buf),
    );
    let db_path = data_dir.join("keyward.redb");
    let unlocked = if keystore.exists() {
        keystore.unlock()?
    } else if db_path.exists() {
        bail!(
            "{} holds a data store but no keystore.json: the key that opens it is gone, \
             and keyward will not replace it",
            data_dir.display()
        );
    } else {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create the data dir {}", data_dir.display()))?;
        if let (true, Some(folder)) = (settings.dev, keyfolder) {
            dev::ensure_key(folder)?;
        }
        keystore.initialize()?
    };
    let store =
        RedbStore::open(&db_path).with_context(|| format!("cannot open {}", db_path.display()))?;
    Ok(Barrier::new(Arc::new(store), unlocked))
}

/// The security configuration stored at first start: the YAML files of
/// `--security-config` (a missing file leaves its type empty), or in dev
/// mode the demo set.
pub(crate) fn security_bootstrap(settings: &Settings) -> anyhow::Result<Option<SecurityConfig>> {
    let Some(dir) = &settings.security_config else {
        return Ok(if settings.dev {
            Some(rbac_model::demo::config().context("the demo security configuration")?)
        } else {
            None
        });
    };
    let mut config = SecurityConfig::default();
    let mut found = 0;
    for ty in ConfigType::ALL {
        let path = dir.join(ty.file_name());
        if !path.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        config
            .load_yaml(ty, &text)
            .with_context(|| format!("{} is not a valid {} file", path.display(), ty.as_str()))?;
        found += 1;
    }
    if found == 0 {
        bail!(
            "--security-config {}: no OpenSearch security YAML file (internal_users.yml, roles.yml, ...) in it",
            dir.display()
        );
    }
    Ok(Some(config))
}

pub(crate) async fn run(args: ServerArgs) -> anyhow::Result<()> {
    let settings = Settings::resolve(args)?;
    let (reload_logs, env_filter) = init_logging(settings.log_format);
    let data_dir = absolute(&settings.data_dir)?;
    let keyfolder = match &settings.encryption_keyfolder {
        Some(f) => Some(absolute(f)?),
        None if settings.dev => Some(data_dir.join("keyfolder")),
        None => None,
    };
    let barrier = Arc::new(open_barrier(&settings, &data_dir, keyfolder.as_deref())?);
    if keyfolder.is_none() {
        tracing::warn!(
            "encryption at rest is not configured: the data key is stored unprotected in {}; \
             give --encryption-keyfolder to protect it",
            data_dir.join("keystore.json").display()
        );
    }

    let clock = Arc::new(SystemClock);
    let (tls, transport_tls) = tls_layers(&settings, &data_dir, clock.now().unix_secs())?;

    let bootstrap = security_bootstrap(&settings)?;
    let audit_sink = open_audit_sink(&settings, &data_dir, clock.clone())?;
    let api = Api::open(
        Services {
            barrier: barrier.clone(),
            clock: clock.clone(),
            tls: tls.clone(),
            transport_tls: transport_tls.clone(),
            audit_sink: audit_sink.clone(),
            log_levels: Some(log_levels_hook(reload_logs, env_filter)),
        },
        ApiConfig {
            security: settings.security.clone(),
            security_bootstrap: bootstrap,
            unauthenticated_metrics: settings.unauthenticated_metrics_access,
            body_read_timeout: settings.body_read_timeout,
            audit: AuditSettings {
                readonly: settings.audit.readonly.clone(),
            },
            ..ApiConfig::default()
        },
    )
    .await?;

    let creds = if settings.dev {
        let (creds, changed) = dev::credentials(
            &barrier,
            settings.dev_root_token.clone(),
            settings.dev_admin_password.clone(),
        )
        .await?;
        // The root token is put on every start (one small write): a data dir
        // from before tokens lived in the token store gets it there too.
        api.set_root_token(&SecretString::from(creds.root_token.clone()))
            .await?;
        if changed {
            api.set_internal_user(
                "admin",
                SecretString::from(creds.admin_password.clone()),
                vec!["admin".to_string()],
                true,
            )
            .await?;
        }
        api.ensure_transit_mount("transit", "transit engine mounted by dev mode")
            .await?;
        Some(creds)
    } else {
        None
    };

    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let cluster = match (settings.cluster_listen, &transport_tls) {
        (Some(cluster_addr), Some(t)) => {
            let l = tokio::net::TcpListener::bind(cluster_addr)
                .await
                .with_context(|| format!("cannot listen on {cluster_addr} (--cluster-listen)"))?;
            Some((l, t.clone()))
        }
        _ => None,
    };
    let cluster_addr = match &cluster {
        Some((l, _)) => Some(l.local_addr()?),
        None => None,
    };

    print_banner(
        &settings,
        &data_dir,
        keyfolder.as_deref(),
        &barrier,
        scheme,
        addr,
        tls.as_deref(),
        cluster_addr,
        creds.as_ref(),
    );

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(crate::listener::serve(
        listener,
        tls.clone(),
        api.clone(),
        crate::limits::Gate::new(settings.limits),
        stop_rx.clone(),
        DRAIN,
    ));

    let cluster_server = cluster
        .map(|(l, t)| tokio::spawn(crate::cluster::serve(l, t, api.clone(), stop_rx.clone())));

    let rotation = tokio::spawn(auto_rotation(api.clone(), clock.clone()));

    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => reload_on_hangup(&api, &tls, &transport_tls, clock.now().unix_secs()).await,
        }
    }
    tracing::info!("shutting down");
    let _ = stop_tx.send(true);
    rotation.abort();
    server.await.context("listener task")?;
    if let Some(c) = cluster_server {
        c.await.context("cluster listener task")?;
    }
    // The last references to the store go here: redb closes the file cleanly.
    drop(api);
    drop(barrier);
    // Everything queued is written and fsynced before the process ends.
    if let Some(sink) = audit_sink {
        sink.shutdown();
    }
    tracing::info!("stopped");
    Ok(())
}

/// The rustls configurations of the HTTP listener and of the transport
/// listener, built from the flags (dev mode: its own certificates where no
/// file is given).
#[allow(clippy::type_complexity)]
fn tls_layers(
    settings: &Settings,
    data_dir: &Path,
    now: i64,
) -> anyhow::Result<(Option<Arc<ReloadableTls>>, Option<Arc<ReloadableTls>>)> {
    let dev_tls = dev::DevTls::under(data_dir);
    let dev_files = settings.dev && settings.tls_cert.is_none() && !settings.tls_disable;
    let dev_needed = dev_files
        || (settings.dev
            && settings.cluster_listen.is_some()
            && settings.cluster_tls_cert.is_none()
            && settings.tls_cert.is_none());
    if dev_needed {
        dev_tls.ensure(now)?;
    }
    // The HTTP layer's certificate, key and client CA.
    let (cert, key, client_ca) = match (&settings.tls_cert, &settings.tls_key) {
        (Some(cert), Some(key)) => (
            Some(absolute(cert)?),
            Some(absolute(key)?),
            settings
                .tls_client_ca
                .as_deref()
                .map(absolute)
                .transpose()?,
        ),
        _ if settings.dev => (
            Some(dev_tls.cert.clone()),
            Some(dev_tls.key.clone()),
            match &settings.tls_client_ca {
                Some(ca) => Some(absolute(ca)?),
                None => Some(dev_tls.ca.clone()),
            },
        ),
        _ => (None, None, None),
    };
    let http = if settings.tls_disable {
        None
    } else {
        let (Some(cert), Some(key)) = (cert.clone(), key.clone()) else {
            bail!("no TLS certificate: give --tls-cert and --tls-key");
        };
        let client_auth = match (settings.tls_client_auth, &client_ca) {
            (Some(mode), _) => mode,
            // As in the OpenSearch demo: ask every client for a certificate,
            // require none.
            (None, Some(_)) => ClientAuth::Optional,
            (None, None) => ClientAuth::None,
        };
        let mut sni = std::collections::BTreeMap::new();
        for (name, file) in &settings.tls_sni {
            sni.insert(name.clone(), absolute(file)?);
        }
        let files = TlsFiles {
            cert,
            key,
            client_ca: client_ca.clone(),
            client_auth,
            sni,
        };
        Some(Arc::new(
            ReloadableTls::new(files, now).context("cannot load the TLS certificate")?,
        ))
    };
    let transport = match settings.cluster_listen {
        None => None,
        Some(_) => {
            let (cert, key) = match (&settings.cluster_tls_cert, &settings.cluster_tls_key) {
                (Some(c), Some(k)) => (absolute(c)?, absolute(k)?),
                _ => match (cert, key) {
                    (Some(c), Some(k)) => (c, k),
                    _ => (dev_tls.cert.clone(), dev_tls.key.clone()),
                },
            };
            let ca = match &settings.cluster_tls_ca {
                Some(ca) => absolute(ca)?,
                None => match client_ca {
                    Some(ca) => ca,
                    None if settings.dev => dev_tls.ca.clone(),
                    None => bail!("--cluster-listen needs --cluster-tls-ca (or --tls-client-ca)"),
                },
            };
            let files = TlsFiles {
                cert,
                key,
                client_ca: Some(ca),
                // Mutual TLS: a peer without a certificate from the CA fails the handshake.
                client_auth: ClientAuth::Required,
                sni: Default::default(),
            };
            Some(Arc::new(ReloadableTls::new(files, now).context(
                "cannot load the transport (--cluster-listen) certificate",
            )?))
        }
    };
    Ok((http, transport))
}

/// SIGHUP: every TLS layer re-reads its files, as `POST /_admin/server/tls`
/// does; a layer whose files do not load keeps serving the old ones.
async fn reload_on_hangup(
    api: &Api,
    http: &Option<Arc<ReloadableTls>>,
    transport: &Option<Arc<ReloadableTls>>,
    now: i64,
) {
    if http.is_none() && transport.is_none() {
        tracing::info!(target: "keyward::tls", "SIGHUP: TLS is disabled, nothing to reload");
        return;
    }
    for (layer, tls) in [("http", http), ("transport", transport)] {
        let Some(tls) = tls.clone() else { continue };
        match tokio::task::spawn_blocking(move || tls.reload(now)).await {
            Ok(Ok(_)) => {
                tracing::info!(target: "keyward::tls", layer, "SIGHUP: TLS certificates reloaded");
                api.tls_reloaded();
            }
            Ok(Err(e)) => {
                tracing::error!(target: "keyward::tls", layer, error = %e, "SIGHUP: TLS reload failed; the previous certificates keep serving")
            }
            Err(e) => {
                tracing::error!(target: "keyward::tls", layer, error = %e, "SIGHUP: the TLS reload task failed")
            }
        }
    }
}

/// How often the keys due for automatic rotation are looked for.
const ROTATION_CHECK: Duration = Duration::from_secs(60);

/// Rotates the transit keys whose `auto_rotate_period` has passed, once a
/// minute with the real clock (and once at start, so keys that came due
/// while the server was down rotate now).
async fn auto_rotation(api: Api, clock: Arc<SystemClock>) {
    let mut tick = tokio::time::interval(ROTATION_CHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        api.rotate_due_keys(clock.now()).await;
    }
}

#[allow(clippy::too_many_arguments)]
fn print_banner(
    settings: &Settings,
    data_dir: &Path,
    keyfolder: Option<&Path>,
    barrier: &Barrier,
    scheme: &str,
    addr: std::net::SocketAddr,
    tls: Option<&ReloadableTls>,
    cluster_addr: Option<std::net::SocketAddr>,
    creds: Option<&dev::DevCredentials>,
) {
    let mode = if settings.dev { "dev server" } else { "server" };
    println!("keyward {} {mode}", env!("CARGO_PKG_VERSION"));
    println!("  listening:        {scheme}://{addr}");
    println!("  data dir:         {}", data_dir.display());
    match keyfolder {
        Some(f) => println!(
            "  key folder:       {} ({} key(s) in use)",
            f.display(),
            barrier.user_key_hashes().len()
        ),
        None => println!("  key folder:       none (encryption at rest is not protected)"),
    }
    match &settings.audit_log {
        Some(p) => println!("  audit log:        {}", p.display()),
        None if settings.dev => println!(
            "  audit log:        {}",
            data_dir.join("audit.log").display()
        ),
        None => println!("  audit log:        none (give --audit-log)"),
    }
    if let Some(tls) = tls {
        let files = tls.files();
        println!("  server cert:      {}", files.cert.display());
        println!("  server key:       {}", files.key.display());
        if let Some(ca) = &files.client_ca {
            let mode = match files.client_auth {
                ClientAuth::None => "not asked",
                ClientAuth::Optional => "asked, optional",
                ClientAuth::Required => "required",
            };
            println!(
                "  CA (clients):     {} (client certificates {mode})",
                ca.display()
            );
        }
        for (name, file) in &files.sni {
            println!("  SNI {name}: {}", file.display());
        }
        if settings.dev {
            let dev_tls = dev::DevTls::under(data_dir);
            println!("  admin cert:       {}", dev_tls.admin_cert.display());
            println!("  admin key:        {}", dev_tls.admin_key.display());
        }
    }
    if let Some(cluster) = cluster_addr {
        println!("  cluster listen:   https://{cluster} (mutual TLS, peers by nodes_dn)");
    }
    if let Some(creds) = creds {
        println!("  transit mount:    transit/");
        println!("  root token:       {}", creds.root_token);
        println!("  admin user:       admin");
        println!("  admin password:   {}", creds.admin_password);
        println!();
        let cacert = match tls {
            Some(_) => format!("--cacert {} ", dev::DevTls::under(data_dir).ca.display()),
            None => String::new(),
        };
        let host = if addr.ip().is_loopback() {
            "127.0.0.1".to_string()
        } else {
            addr.ip().to_string()
        };
        println!(
            "  try: curl {cacert}{scheme}://{host}:{}/v1/sys/health",
            addr.port()
        );
    }
    println!("ready");
}
