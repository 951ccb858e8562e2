//! The HTTPS client the operator commands use to talk to a running server.

use std::path::Path;

use anyhow::{Context, bail};

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// An agent that trusts `cacert` (or the system roots) and presents the
/// client certificate `(chain, key)` when given. Statuses are answers, not
/// errors: the caller reads them.
pub(crate) fn agent(
    cacert: Option<&Path>,
    client_cert: Option<(&Path, &Path)>,
) -> anyhow::Result<ureq::Agent> {
    let mut tls = ureq::tls::TlsConfig::builder();
    if let Some(ca) = cacert {
        let ca = ureq::tls::Certificate::from_pem(&read(ca)?)
            .with_context(|| format!("{} is not a PEM certificate", ca.display()))?;
        tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&[ca]));
    }
    if let Some((cert, key)) = client_cert {
        let chain = ureq::tls::parse_pem(&read(cert)?)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect::<Vec<_>>();
        if chain.is_empty() {
            bail!("{} holds no PEM certificate", cert.display());
        }
        let key = ureq::tls::PrivateKey::from_pem(&read(key)?)
            .with_context(|| format!("{} is not a PEM private key", key.display()))?;
        tls = tls.client_cert(Some(ureq::tls::ClientCert::new_with_certs(&chain, key)));
    }
    Ok(ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(tls.build())
        .build()
        .new_agent())
}
