//! The certificates dev mode generates: a CA, a server certificate for
//! `localhost` and `127.0.0.1`, and an admin client certificate.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use time::OffsetDateTime;

use crate::Error;

/// The subject DN of the dev admin certificate, in RFC 2253 order.
pub const ADMIN_DN: &str = "CN=admin,OU=keyward,O=keyward";

const VALIDITY_SECS: i64 = 5 * 365 * 24 * 3600;

/// PEM text of the dev certificates and keys.
pub struct DevPki {
    /// The CA certificate (trust anchor for clients).
    pub ca_cert: String,
    /// The server certificate chain: leaf, then the CA.
    pub server_chain: String,
    /// The server's private key (PKCS#8).
    pub server_key: String,
    /// The admin client certificate.
    pub admin_cert: String,
    /// The admin client's private key (PKCS#8).
    pub admin_key: String,
}

impl std::fmt::Debug for DevPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DevPki([certificates and REDACTED keys])")
    }
}

fn gen_err(e: rcgen::Error) -> Error {
    Error::Generate(e.to_string())
}

fn dn(parts: &[(DnType, &str)]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for (t, v) in parts {
        dn.push(t.clone(), *v);
    }
    dn
}

impl DevPki {
    /// Generates a fresh CA and the two certificates it signs, valid from one
    /// hour before `now_unix_secs` for five years.
    pub fn generate(now_unix_secs: i64) -> Result<Self, Error> {
        let not_before = OffsetDateTime::from_unix_timestamp(now_unix_secs - 3600)
            .map_err(|e| Error::Generate(e.to_string()))?;
        let not_after = OffsetDateTime::from_unix_timestamp(now_unix_secs + VALIDITY_SECS)
            .map_err(|e| Error::Generate(e.to_string()))?;

        let ca_key = KeyPair::generate().map_err(gen_err)?;
        let mut ca = CertificateParams::default();
        ca.distinguished_name = dn(&[
            (DnType::OrganizationName, "keyward"),
            (DnType::OrganizationalUnitName, "keyward dev"),
            (DnType::CommonName, "keyward dev CA"),
        ]);
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca.not_before = not_before;
        ca.not_after = not_after;
        let ca_cert = ca.self_signed(&ca_key).map_err(gen_err)?;
        let ca_pem = ca_cert.pem();
        let issuer = Issuer::new(ca, ca_key);

        let server_key = KeyPair::generate().map_err(gen_err)?;
        let mut server =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .map_err(gen_err)?;
        server.distinguished_name = dn(&[
            (DnType::OrganizationName, "keyward"),
            (DnType::OrganizationalUnitName, "keyward dev"),
            (DnType::CommonName, "localhost"),
        ]);
        server.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        server.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        server.not_before = not_before;
        server.not_after = not_after;
        let server_cert = server.signed_by(&server_key, &issuer).map_err(gen_err)?;

        let admin_key = KeyPair::generate().map_err(gen_err)?;
        let mut admin = CertificateParams::default();
        // DER order is the reverse of the RFC 2253 rendering of ADMIN_DN.
        admin.distinguished_name = dn(&[
            (DnType::OrganizationName, "keyward"),
            (DnType::OrganizationalUnitName, "keyward"),
            (DnType::CommonName, "admin"),
        ]);
        admin.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        admin.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        admin.not_before = not_before;
        admin.not_after = not_after;
        let admin_cert = admin.signed_by(&admin_key, &issuer).map_err(gen_err)?;

        Ok(DevPki {
            server_chain: format!("{}{}", server_cert.pem(), ca_pem),
            ca_cert: ca_pem,
            server_key: server_key.serialize_pem(),
            admin_cert: admin_cert.pem(),
            admin_key: admin_key.serialize_pem(),
        })
    }
}
