//! X.509 details in the OpenSearch Security plugin's formats, for
//! `GET /_plugins/_security/api/ssl/certs` and `/certificates`.

use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

use der::asn1::Any;
use der::{Decode, Tag, Tagged};
use ring::digest::{SHA256, digest};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

use crate::dn::{java_name, rfc2253, string_of};

/// One certificate as the plugin describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// Issuer DN in RFC 2253, as `X500Principal.getName()` prints it.
    pub issuer_dn: String,
    /// Subject DN in RFC 2253.
    pub subject_dn: String,
    /// Subject alternative names as Java prints the plugin's sorted set of
    /// `[type, value]` pairs: `[[2, localhost], [7, 127.0.0.1]]`; `""`
    /// without the extension.
    pub san: String,
    /// Start of validity, ISO-8601 UTC as `Instant.toString()` prints it.
    pub not_before: String,
    /// End of validity, ISO-8601 UTC.
    pub not_after: String,
    /// Serial number in decimal (`BigInteger.toString()`).
    pub serial_number: String,
    /// Lowercase hex SHA-256 of the DER encoding.
    pub sha256_fingerprint: String,
    /// Seconds since the epoch of `not_before`.
    pub not_before_unix: i64,
    /// Seconds since the epoch of `not_after`.
    pub not_after_unix: i64,
}

/// Java's `InetAddress.getHostAddress()`: IPv6 in full, without `::`; an
/// IPv4-mapped IPv6 address as IPv4.
fn java_ip(bytes: &[u8]) -> Option<String> {
    match bytes.len() {
        4 => Some(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).to_string()),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(bytes);
            let v6 = Ipv6Addr::from(a);
            if let Some(v4) = v6.to_ipv4_mapped() {
                return Some(v4.to_string());
            }
            Some(
                v6.segments()
                    .iter()
                    .map(|s| format!("{s:x}"))
                    .collect::<Vec<_>>()
                    .join(":"),
            )
        }
        _ => None,
    }
}

/// The text of an otherName value as the plugin reads it with Bouncy
/// Castle: a string, possibly inside one more explicit tag.
fn other_name_text(value: &Any) -> Option<String> {
    if let Tag::ContextSpecific { .. } = value.tag() {
        let inner = Any::from_der(value.value()).ok()?;
        return string_of(inner.tag(), inner.value());
    }
    string_of(value.tag(), value.value())
}

/// `(type, value)` of one general name, as the plugin renders it; `None`
/// for the names it leaves out (an otherName that is not a string) or
/// cannot render (x400Address, ediPartyName).
fn general_name(name: &GeneralName) -> Option<(u8, String)> {
    Some(match name {
        GeneralName::OtherName(other) => {
            let value = other_name_text(&other.value)?;
            (0, format!("[{}, {value}]", other.type_id))
        }
        GeneralName::Rfc822Name(s) => (1, s.to_string()),
        GeneralName::DnsName(s) => (2, s.to_string()),
        // `X509Certificate.getSubjectAlternativeNames` prints a directory
        // name with `X500Name.toString()`.
        GeneralName::DirectoryName(n) => (4, java_name(n)),
        GeneralName::EdiPartyName(_) => return None,
        GeneralName::UniformResourceIdentifier(s) => (6, s.to_string()),
        GeneralName::IpAddress(o) => (7, java_ip(o.as_bytes())?),
        GeneralName::RegisteredId(oid) => (8, oid.to_string()),
    })
}

fn offset(unix: i64) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp(unix).ok()
}

/// Java's `Instant.toString()` for whole seconds: `2023-04-14T13:23:00Z`.
pub fn iso8601(unix: i64) -> String {
    offset(unix)
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// Java's `Date.toString()` in UTC: `Thu Apr 11 13:22:53 UTC 2033` (what
/// `CertificateExpiredException` messages carry).
pub fn java_date(unix: i64) -> String {
    offset(unix)
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[weekday repr:short] [month repr:short] [day] [hour]:[minute]:[second] UTC [year]"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// Decimal digits of a big-endian two's-complement integer (Java's
/// `BigInteger.toString()`).
fn decimal(bytes: &[u8]) -> String {
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let magnitude: Vec<u8> = if negative {
        // Two's complement: invert and add one.
        let mut m: Vec<u8> = bytes.iter().map(|b| !b).collect();
        for b in m.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
        m
    } else {
        bytes.to_vec()
    };
    let mut digits: Vec<u8> = vec![0];
    for &byte in &magnitude {
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
    while digits.len() > 1 && digits.last() == Some(&0) {
        digits.pop();
    }
    let mut s = String::new();
    if negative {
        s.push('-');
    }
    for d in digits.iter().rev() {
        let _ = write!(s, "{d}");
    }
    s
}

pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
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
                let mut pairs: Vec<(u8, String)> = san.0.iter().filter_map(general_name).collect();
                // The plugin collects them into a TreeSet: sorted, no duplicates.
                pairs.sort();
                pairs.dedup();
                let inner: Vec<String> = pairs.iter().map(|(t, v)| format!("[{t}, {v}]")).collect();
                format!("[{}]", inner.join(", "))
            }
            _ => String::new(),
        };
        let nb = i64::try_from(tbs.validity().not_before.to_unix_duration().as_secs()).ok()?;
        let na = i64::try_from(tbs.validity().not_after.to_unix_duration().as_secs()).ok()?;
        Some(CertificateInfo {
            issuer_dn: rfc2253(tbs.issuer()),
            subject_dn: rfc2253(tbs.subject()),
            san,
            not_before: iso8601(nb),
            not_after: iso8601(na),
            serial_number: decimal(tbs.serial_number().as_bytes()),
            sha256_fingerprint: hex_lower(digest(&SHA256, der).as_ref()),
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
    fn decimal_of_twos_complement_bytes() {
        assert_eq!(decimal(&[0x01, 0x00]), "256");
        assert_eq!(
            decimal(&[0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            "18446744073709551615"
        );
        assert_eq!(decimal(&[]), "0");
        assert_eq!(decimal(&[0xff]), "-1");
        assert_eq!(decimal(&[0x80, 0x00]), "-32768");
    }

    #[test]
    fn java_renders_ipv6_in_full_and_mapped_v4_as_v4() {
        let v6: Ipv6Addr = "::1".parse().unwrap();
        assert_eq!(java_ip(&v6.octets()).as_deref(), Some("0:0:0:0:0:0:0:1"));
        let mapped: Ipv6Addr = "::ffff:10.1.2.3".parse().unwrap();
        assert_eq!(java_ip(&mapped.octets()).as_deref(), Some("10.1.2.3"));
        assert_eq!(java_ip(&[127, 0, 0, 1]).as_deref(), Some("127.0.0.1"));
        assert_eq!(java_ip(&[1, 2, 3]), None);
    }

    #[test]
    fn dates_like_java() {
        assert_eq!(iso8601(1_681_478_580), "2023-04-14T13:23:00Z");
        assert_eq!(java_date(1_996_838_573), "Mon Apr 11 13:22:53 UTC 2033");
        assert_eq!(java_date(1_681_478_580), "Fri Apr 14 13:23:00 UTC 2023");
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
        assert_eq!(info.sha256_fingerprint.len(), 64);
        assert!(info.is_valid_at(1_800_000_000));
        assert!(!info.is_valid_at(1_700_000_000));
    }
}
