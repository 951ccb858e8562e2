//! `keyward config check FILE`: everything a start would refuse in a
//! configuration, found without starting: unknown keys, bad values, and
//! the files it names (TLS certificate and key, client CA, SNI files, the
//! transport listener's certificate and CA, key folder, security YAML).
//! Nothing is written and no port is opened.

use std::path::{Path, PathBuf};

use anyhow::Context;
use keyring_core::KeyFolder;
use tls_inventory::{ClientAuth, TlsFiles};

use crate::cli::ServerArgs;
use crate::config::Settings;

/// Runs the check; `Ok` means a start with this file would get past the
/// configuration. Prints what was checked.
pub(crate) fn check(file: &Path) -> anyhow::Result<()> {
    let settings = Settings::resolve(ServerArgs {
        config: Some(file.to_path_buf()),
        ..Default::default()
    })?;
    println!("{}: keys and values are valid", file.display());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    if settings.tls_disable {
        println!("TLS: disabled (plain HTTP)");
    } else if let (Some(cert), Some(key)) = (&settings.tls_cert, &settings.tls_key) {
        let files = TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: settings.tls_client_ca.clone(),
            client_auth: settings
                .tls_client_auth
                .unwrap_or(if settings.tls_client_ca.is_some() {
                    ClientAuth::Optional
                } else {
                    ClientAuth::None
                }),
            sni: settings.tls_sni.clone(),
        };
        let loaded = files
            .load(now)
            .with_context(|| format!("the TLS files ({}, {})", cert.display(), key.display()))?;
        println!(
            "TLS: {} certificate(s) in the chain, private key matches{}",
            loaded.inventory.keyfile.certificates.len(),
            if settings.tls_client_ca.is_some() {
                ", client CA readable"
            } else {
                ""
            }
        );
        for name in loaded.inventory.sni.keys() {
            println!("TLS: SNI {name}: chain and key match");
        }
    } else {
        println!("TLS: dev certificates under the data dir");
    }
    if settings.cluster_listen.is_some() && !settings.dev {
        // The transport files default to the HTTP ones and their CA to the client CA.
        let (cert, key) = match (&settings.cluster_tls_cert, &settings.cluster_tls_key) {
            (Some(c), Some(k)) => (c.clone(), k.clone()),
            _ => (
                settings.tls_cert.clone().unwrap_or_default(),
                settings.tls_key.clone().unwrap_or_default(),
            ),
        };
        let files = TlsFiles {
            client_ca: settings
                .cluster_tls_ca
                .clone()
                .or_else(|| settings.tls_client_ca.clone()),
            client_auth: ClientAuth::Required,
            ..TlsFiles::simple(cert.clone(), key.clone())
        };
        files.load(now).with_context(|| {
            format!(
                "the transport TLS files ({}, {})",
                cert.display(),
                key.display()
            )
        })?;
        println!("transport TLS: private key matches, peers' CA readable");
    }
    if let Some(folder) = &settings.encryption_keyfolder {
        let keys = KeyFolder::read(folder)
            .with_context(|| format!("the key folder {}", folder.display()))?;
        println!(
            "key folder {}: {} key(s)",
            folder.display(),
            keys.keys().len()
        );
    }
    if settings.security_config.is_some() {
        crate::server::security_bootstrap(&settings)?;
        println!("security configuration: the YAML files parse");
    }
    let data_dir: &PathBuf = &settings.data_dir;
    let keystore = data_dir.join("keystore.json");
    if keystore.exists() {
        // The format fence: a data dir this keyward cannot open fails the check.
        let format = keyring_core::Keystore::new(&keystore, None).format()?;
        let note = if format < keyring_core::DATA_FORMAT {
            " (migrated at the next start; take a snapshot first)"
        } else {
            ""
        };
        println!(
            "data dir {}: holds a data store, format {format}{note}",
            data_dir.display()
        );
    } else {
        println!(
            "data dir {}: new (created at first start)",
            data_dir.display()
        );
    }
    Ok(())
}
