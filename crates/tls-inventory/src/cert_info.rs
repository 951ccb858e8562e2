//! X.509 details in the OpenSearch Security plugin's formats, for
//! `GET /_plugins/_security/api/ssl/certs` and `/certificates`.

use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use der::Decode;
use der::asn1::Utf8StringRef;
use serde::Serialize;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

use crate::dn::rfc2253;

/// One certificate as the plugin describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateInfo {
    /// Issuer DN in RFC 2253.
    pub issuer_dn: String,
    /// Subject DN in RFC 2253.
    pub subject_dn: String,
    /// Subject alternative names as Java prints a sorted list of `[type, value]`
    /// pairs: `[[2, localhost], [7, 127.0.0.1]]`; `""` without the extension.
    pub san: String,
    /// Start of validity, ISO-8601 UTC (`2023-04-14T13:23:00Z`).
    pub not_before: String,
    /// End of validity, ISO-8601 UTC.
    pub not_after: String,
    /// Serial number in decimal.
    pub serial_number: String,
    /// Seconds since the epoch of `not_before`.
    #[serde(skip)]
    pub not_before_unix: i64,
    /// Seconds since the epoch of `not_after`.
    #[serde(skip)]
    pub not_after_unix: i64,
}

/// Java's `InetAddress.getHostAddress()`: IPv6 in full, without `::`.
fn java_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => v6
            .segments()
            .iter()
            .map(|s| format!("{s:x}"))
            .collect::<Vec<_>>()
            .join(":"),
    }
}

fn ip_from(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => java_ip(IpAddr::V4(Ipv4Addr::new(
            bytes[0], bytes[1], bytes[2], bytes[3],
        ))),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(bytes);
            java_ip(IpAddr::V6(Ipv6Addr::from(a)))
        }
        _ => bytes.iter().map(|b| format!("{b:02x}")).collect(),
    }
}

/// `(type, value)` of one general name, as the plugin renders it.
fn general_name(name: &GeneralName) -> (u8, String) {
    match name {
        GeneralName::OtherName(other) => {
            // The plugin prints an otherName as `[oid, value]`, the value as a
            // string when it is one.
            let value = Utf8StringRef::try_from(&other.value)
                .map(|s| s.as_str().to_string())
                .or_else(|_| {
                    other
                        .value
                        .decode_as::<der::asn1::Any>()
                        .ok()
                        .and_then(|inner| {
                            Utf8StringRef::try_from(&inner)
                                .ok()
                                .map(|s| s.as_str().to_string())
                        })
                        .ok_or(())
                })
                .unwrap_or_else(|_| "?".into());
            (0, format!("[{}, {value}]", other.type_id))
        }
        GeneralName::Rfc822Name(s) => (1, s.to_string()),
        GeneralName::DnsName(s) => (2, s.to_string()),
        GeneralName::DirectoryName(n) => (4, rfc2253(n)),
        GeneralName::EdiPartyName(_) => (5, String::new()),
        GeneralName::UniformResourceIdentifier(s) => (6, s.to_string()),
        GeneralName::IpAddress(o) => (7, ip_from(o.as_bytes())),
        GeneralName::RegisteredId(oid) => (8, oid.to_string()),
    }
}

/// Java's `Instant.toString()` for whole seconds.
fn iso8601(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Iso8601::DEFAULT)
                .ok()
                .map(|s| {
                    // "2023-04-14T13:23:00.000000000Z" → "2023-04-14T13:23:00Z"
                    match s.split_once('.') {
                        Some((head, _)) => format!("{head}Z"),
                        None => s,
                    }
                })
        })
        .unwrap_or_default()
}

/// Decimal digits of a big-endian unsigned integer.
fn decimal(bytes: &[u8]) -> String {
    let mut digits: Vec<u8> = vec![0];
    for &byte in bytes {
        let mut carry = u32::from(byte);
        for d in digits.iter_mut() {
            let v = u32::from(*d) * 256 + carry;
            *d = (v % 10) as u8;
            carry = v / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    }
    let mut s = String::new();
    for d in digits.iter().rev() {
        let _ = write!(s, "{d}");
    }
    s
}

impl CertificateInfo {
    /// Describes one DER certificate. `None` when it does not parse.
    pub fn from_der(der: &[u8]) -> Option<Self> {
        let cert = Certificate::from_der(der).ok()?;
        let tbs = cert.tbs_certificate();
        let san = match tbs.get_extension::<SubjectAltName>() {
            Ok(Some((_, san))) => {
                let mut pairs: Vec<(u8, String)> = san.0.iter().map(general_name).collect();
                pairs.sort();
                let inner: Vec<String> = pairs.iter().map(|(t, v)| format!("[{t}, {v}]")).collect();
                format!("[{}]", inner.join(", "))
            }
            _ => String::new(),
        };
        let nb = tbs.validity().not_before.to_unix_duration().as_secs() as i64;
        let na = tbs.validity().not_after.to_unix_duration().as_secs() as i64;
        Some(CertificateInfo {
            issuer_dn: rfc2253(tbs.issuer()),
            subject_dn: rfc2253(tbs.subject()),
            san,
            not_before: iso8601(nb),
            not_after: iso8601(na),
            serial_number: decimal(tbs.serial_number().as_bytes()),
            not_before_unix: nb,
            not_after_unix: na,
        })
    }

    /// True when `now_unix` lies within the validity period.
    pub fn is_valid_at(&self, now_unix: i64) -> bool {
        self.not_before_unix <= now_unix && now_unix <= self.not_after_unix
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_of_big_endian_bytes() {
        assert_eq!(decimal(&[0x01, 0x00]), "256");
        assert_eq!(
            decimal(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            "18446744073709551615"
        );
        assert_eq!(decimal(&[]), "0");
    }

    #[test]
    fn java_renders_ipv6_in_full() {
        assert_eq!(java_ip("::1".parse().unwrap()), "0:0:0:0:0:0:0:1");
        assert_eq!(java_ip("127.0.0.1".parse().unwrap()), "127.0.0.1");
    }

    #[test]
    fn iso8601_like_java_instant() {
        assert_eq!(iso8601(1_681_478_580), "2023-04-14T13:23:00Z");
    }

    #[test]
    fn dev_certificate_is_described() {
        let pki = crate::DevPki::generate(1_800_000_000).unwrap();
        let der = rustls_pki_types::pem::PemObject::from_pem_slice(pki.server_chain.as_bytes())
            .map(|c: rustls_pki_types::CertificateDer<'static>| c.to_vec())
            .unwrap();
        let info = CertificateInfo::from_der(&der).unwrap();
        assert_eq!(info.subject_dn, "CN=localhost,OU=keyward dev,O=keyward");
        assert_eq!(info.issuer_dn, "CN=keyward dev CA,OU=keyward dev,O=keyward");
        assert_eq!(info.san, "[[2, localhost], [7, 127.0.0.1]]");
        assert!(info.is_valid_at(1_800_000_000));
        assert!(!info.is_valid_at(1_700_000_000));
    }
}
