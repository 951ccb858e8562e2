//! Certificates for the TLS tests: a CA kept in memory that issues leaves
//! with a chosen subject, SANs and validity, written as PEM files.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

/// Seconds since the epoch, now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

fn dn(parts: &[(&str, &str)]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for (kind, value) in parts {
        let t = match *kind {
            "CN" => DnType::CommonName,
            "O" => DnType::OrganizationName,
            "OU" => DnType::OrganizationalUnitName,
            "C" => DnType::CountryName,
            "L" => DnType::LocalityName,
            "ST" => DnType::StateOrProvinceName,
            other => panic!("no DN type {other} in the test PKI"),
        };
        dn.push(t, *value);
    }
    dn
}

fn time(unix: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(unix).expect("a valid time")
}

/// A CA whose key stays in memory.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate.
    pub cert_pem: String,
}

/// A certificate and its key, as PEM.
pub struct Issued {
    /// The certificate.
    pub cert_pem: String,
    /// Its private key (PKCS#8).
    pub key_pem: String,
}

impl Issued {
    /// Writes `<name>.pem` and `<name>-key.pem` under `dir`; returns their paths.
    pub fn write(&self, dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let cert = dir.join(format!("{name}.pem"));
        let key = dir.join(format!("{name}-key.pem"));
        std::fs::write(&cert, &self.cert_pem).expect("write cert");
        std::fs::write(&key, &self.key_pem).expect("write key");
        (cert, key)
    }

    /// Writes one file holding the certificate, then the key (a keyfile).
    pub fn write_keyfile(&self, path: &Path) {
        std::fs::write(path, format!("{}{}", self.cert_pem, self.key_pem)).expect("write keyfile");
    }
}

impl TestCa {
    /// A CA named `CN=<cn>,O=keyward tests`, valid from a day ago for ten years.
    pub fn new(cn: &str) -> TestCa {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::default();
        // DER order: O then CN, so RFC 2253 prints CN first.
        params.distinguished_name = dn(&[("O", "keyward tests"), ("CN", cn)]);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = time(now() - 86_400);
        params.not_after = time(now() + 10 * 365 * 86_400);
        let cert = params.self_signed(&key).expect("self-signed CA");
        TestCa {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// Writes the CA certificate to `path`.
    pub fn write(&self, path: &Path) {
        std::fs::write(path, &self.cert_pem).expect("write CA");
    }

    /// A leaf for `subject` (in DER order: the RFC 2253 rendering is the
    /// reverse) with `sans` (IP addresses or DNS names), valid from
    /// `from` to `to` (seconds since the epoch), usable by servers and clients.
    pub fn issue_between(
        &self,
        subject: &[(&str, &str)],
        sans: &[&str],
        from: i64,
        to: i64,
    ) -> Issued {
        let key = KeyPair::generate().expect("key");
        let mut params =
            CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .expect("SANs");
        params.distinguished_name = dn(subject);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.not_before = time(from);
        params.not_after = time(to);
        let cert = params.signed_by(&key, &self.issuer).expect("signed leaf");
        Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// A leaf valid from an hour ago for a year.
    pub fn issue(&self, subject: &[(&str, &str)], sans: &[&str]) -> Issued {
        self.issue_between(subject, sans, now() - 3600, now() + 365 * 86_400)
    }
}
