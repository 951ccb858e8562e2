//! `keyward securityadmin --export DIR | --import DIR`: the OpenSearch YAML
//! files of a running server, moved over HTTPS as the admin certificate (or
//! the root token). Each configuration type is read or replaced whole, as
//! the plugin's securityadmin.sh does.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, bail};
use rbac_model::{ConfigType, SecurityConfig};

use crate::cli::SecurityadminArgs;

struct Client {
    agent: ureq::Agent,
    url: String,
    token: Option<String>,
}

impl Client {
    fn new(args: &SecurityadminArgs) -> anyhow::Result<Client> {
        let dev = args.data_dir.as_ref().map(|d| d.join("tls"));
        let pick = |given: &Option<PathBuf>, dev_file: &str| {
            given
                .clone()
                .or_else(|| dev.as_ref().map(|d| d.join(dev_file)))
        };
        let cacert = pick(&args.cacert, "ca.pem");
        let (cert, key) = if args.token.is_some() && args.cert.is_none() {
            (None, None)
        } else {
            (
                pick(&args.cert, "admin.pem"),
                pick(&args.key, "admin-key.pem"),
            )
        };
        let client_cert = match (&cert, &key) {
            (Some(cert), Some(key)) => Some((cert.as_path(), key.as_path())),
            (None, None) if args.token.is_some() => None,
            _ => bail!(
                "give the admin certificate (--cert and --key, or --data-dir of a dev server) or --token"
            ),
        };
        let agent = crate::client::agent(cacert.as_deref(), client_cert)?;
        Ok(Client {
            agent,
            url: args.url.trim_end_matches('/').to_string(),
            token: args.token.clone(),
        })
    }

    fn call(&self, method: &str, ty: ConfigType, body: Option<Vec<u8>>) -> anyhow::Result<Vec<u8>> {
        let url = format!(
            "{}/_plugins/_security/api/securityadmin/{}",
            self.url,
            ty.as_str()
        );
        let mut req = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(t) = &self.token {
            req = req.header("X-Vault-Token", t);
        }
        if body.is_some() {
            req = req.header("Content-Type", "application/json");
        }
        let req = req.body(body.unwrap_or_default())?;
        let mut resp = self
            .agent
            .run(req)
            .with_context(|| format!("{method} {url}"))?;
        let status = resp.status().as_u16();
        let mut out = Vec::new();
        resp.body_mut().as_reader().read_to_end(&mut out)?;
        if status != 200 {
            bail!(
                "{method} {url} answered {status}: {}",
                String::from_utf8_lossy(&out)
            );
        }
        Ok(out)
    }
}

/// Runs the subcommand.
pub(crate) fn run(args: &SecurityadminArgs) -> anyhow::Result<()> {
    let client = Client::new(args)?;
    if let Some(dir) = &args.export {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for ty in ConfigType::ALL {
            let body = client.call("GET", ty, None)?;
            let value: serde_json::Value = serde_json::from_slice(&body)
                .context("the server answered something else than JSON")?;
            let mut config = SecurityConfig::default();
            config.set_type_from_value(ty, value)?;
            let path = dir.join(ty.file_name());
            std::fs::write(&path, config.to_yaml(ty))
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!("exported {} to {}", ty.as_str(), path.display());
        }
    }
    if let Some(dir) = &args.import {
        let mut any = false;
        for ty in ConfigType::ALL {
            let path = dir.join(ty.file_name());
            if !path.exists() {
                continue;
            }
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let mut config = SecurityConfig::default();
            config.load_yaml(ty, &text).with_context(|| {
                format!("{} is not a valid {} file", path.display(), ty.as_str())
            })?;
            let body = serde_json::to_vec(&config.type_to_value(ty))?;
            client.call("PUT", ty, Some(body))?;
            println!("imported {} from {}", ty.as_str(), path.display());
            any = true;
        }
        if !any {
            bail!("{}: no OpenSearch security YAML file in it", dir.display());
        }
    }
    Ok(())
}
