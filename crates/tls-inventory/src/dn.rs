//! Distinguished names as Java prints them, which is what the OpenSearch
//! Security plugin shows and compares.
//!
//! [`rfc2253`] is `X500Principal.getName()` (RFC 2253): RDNs in reverse order
//! of the encoding, joined by `,` without spaces; the attributes of a
//! multi-valued RDN joined by `+` in their encoded order; the keywords `CN, C,
//! L, ST, O, OU, STREET, DC, UID`; any other attribute as its dotted OID and
//! `#` + the hex of its DER value (a keyword attribute whose value is not a
//! string too); the characters `,=+<>#;"\` escaped with a backslash wherever
//! they occur, and every leading and trailing space.
//!
//! [`java_name`] is `X500Name.toString()` (what `getSubjectDN().getName()`
//! prints, used by `sslinfo?show_dn`): RDNs joined by `, `, attributes by
//! ` + `, Java's default keywords (`EMAILADDRESS`, `SERIALNUMBER`, ...),
//! `OID.` before other OIDs, and values that hold a special character quoted.
//!
//! Comparing DNs (`admin_dn`) is `rbac_model::dn`'s job; this module only
//! renders them.

use der::asn1::Any;
use der::{Decode, Encode, Tag, Tagged};
use x509_cert::Certificate;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::Name;

/// The RFC 2253 keywords Java knows.
const RFC2253_KEYWORDS: &[(&str, &str)] = &[
    ("2.5.4.3", "CN"),
    ("2.5.4.6", "C"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.9", "STREET"),
    ("0.9.2342.19200300.100.1.25", "DC"),
    ("0.9.2342.19200300.100.1.1", "UID"),
];

/// Java's default keywords (`X500Name.toString()`), the last of each OID's
/// aliases winning as in `AVAKeyword`.
const DEFAULT_KEYWORDS: &[(&str, &str)] = &[
    ("2.5.4.3", "CN"),
    ("2.5.4.6", "C"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.12", "T"),
    ("1.3.6.1.4.1.42.2.11.2.1", "IP"),
    ("2.5.4.9", "STREET"),
    ("0.9.2342.19200300.100.1.25", "DC"),
    ("2.5.4.46", "DNQ"),
    ("2.5.4.4", "SURNAME"),
    ("2.5.4.42", "GIVENNAME"),
    ("2.5.4.43", "INITIALS"),
    ("2.5.4.44", "GENERATION"),
    ("1.2.840.113549.1.9.1", "EMAILADDRESS"),
    ("0.9.2342.19200300.100.1.1", "UID"),
    ("2.5.4.5", "SERIALNUMBER"),
];

/// The text of a DER string value, decoded as Java decodes it; `None` for a
/// value that is not one of the string types Java prints as text.
pub(crate) fn string_of(tag: Tag, bytes: &[u8]) -> Option<String> {
    match tag {
        Tag::Utf8String => std::str::from_utf8(bytes).ok().map(str::to_string),
        Tag::PrintableString | Tag::Ia5String | Tag::VisibleString | Tag::NumericString => bytes
            .is_ascii()
            .then(|| String::from_utf8_lossy(bytes).into_owned()),
        // Java reads T61 and general strings byte for byte (ISO-8859-1).
        Tag::TeletexString | Tag::GeneralString => {
            Some(bytes.iter().map(|b| char::from(*b)).collect())
        }
        Tag::BmpString => {
            if !bytes.len().is_multiple_of(2) {
                return None;
            }
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// The string types `X500Principal` prints as text (`AVA.isDerString`).
fn is_java_dn_string(tag: Tag) -> bool {
    matches!(
        tag,
        Tag::PrintableString
            | Tag::TeletexString
            | Tag::Ia5String
            | Tag::GeneralString
            | Tag::BmpString
            | Tag::Utf8String
    )
}

fn value_text(value: &Any) -> Option<String> {
    if !is_java_dn_string(value.tag()) {
        return None;
    }
    string_of(value.tag(), value.value())
}

fn hex_der(value: &Any, out: &mut String) {
    out.push('#');
    for b in value.to_der().unwrap_or_default() {
        out.push_str(&format!("{b:02x}"));
    }
}

/// RFC 2253 escaping as `AVA.toRFC2253String` does it.
fn escape_rfc2253(value: &str, out: &mut String) {
    const ESCAPEES: &str = ",=+<>#;\"\\";
    let chars: Vec<char> = value.chars().collect();
    let is_blank = |c: char| c == ' ' || c == '\r';
    let lead = chars
        .iter()
        .position(|c| !is_blank(*c))
        .unwrap_or(chars.len());
    let trail = chars.iter().rposition(|c| !is_blank(*c));
    for (i, c) in chars.iter().enumerate() {
        let outside = i < lead || trail.is_none_or(|t| i > t);
        if ESCAPEES.contains(*c) || outside {
            out.push('\\');
        }
        out.push(*c);
    }
}

fn keyword(table: &[(&str, &'static str)], oid: &str) -> Option<&'static str> {
    table.iter().find(|(o, _)| *o == oid).map(|(_, k)| *k)
}

fn render_rfc2253(atv: &AttributeTypeAndValue, out: &mut String) {
    let oid = atv.oid.to_string();
    match keyword(RFC2253_KEYWORDS, &oid) {
        Some(k) => out.push_str(k),
        None => out.push_str(&oid),
    }
    out.push('=');
    let text = keyword(RFC2253_KEYWORDS, &oid).and_then(|_| value_text(&atv.value));
    match text {
        Some(value) => escape_rfc2253(&value, out),
        None => hex_der(&atv.value, out),
    }
}

/// `AVA.toKeywordValueString`: quote a value holding a special character.
fn render_java(atv: &AttributeTypeAndValue, out: &mut String) {
    let oid = atv.oid.to_string();
    match keyword(DEFAULT_KEYWORDS, &oid) {
        Some(k) => out.push_str(k),
        None => {
            out.push_str("OID.");
            out.push_str(&oid);
        }
    }
    out.push('=');
    let Some(value) = value_text(&atv.value) else {
        hex_der(&atv.value, out);
        return;
    };
    const SPECIAL: &str = ",=\n+<>#;\\\"";
    let mut quote = value.starts_with(' ') || value.ends_with(' ') || value.contains("  ");
    let mut body = String::new();
    for c in value.chars() {
        if SPECIAL.contains(c) {
            quote = true;
        }
        if c == '"' || c == '\\' {
            body.push('\\');
        }
        body.push(c);
    }
    if quote {
        out.push('"');
        out.push_str(&body);
        out.push('"');
    } else {
        out.push_str(&value);
    }
}

fn render(
    name: &Name,
    rdn_sep: &str,
    atv_sep: &str,
    f: fn(&AttributeTypeAndValue, &mut String),
) -> String {
    let mut out = String::new();
    let rdns: Vec<_> = name.iter_rdn().collect();
    for (i, rdn) in rdns.into_iter().rev().enumerate() {
        if i > 0 {
            out.push_str(rdn_sep);
        }
        for (j, atv) in rdn.iter().enumerate() {
            if j > 0 {
                out.push_str(atv_sep);
            }
            f(atv, &mut out);
        }
    }
    out
}

/// A name in RFC 2253 as `X500Principal.getName()` prints it.
pub fn rfc2253(name: &Name) -> String {
    render(name, ",", "+", render_rfc2253)
}

/// A name as `X500Name.toString()` prints it (`getSubjectDN().getName()`).
pub fn java_name(name: &Name) -> String {
    render(name, ", ", " + ", render_java)
}

/// The subject DN (RFC 2253) of a DER certificate; `None` when it does not parse.
pub fn subject_dn(der: &[u8]) -> Option<String> {
    Certificate::from_der(der)
        .ok()
        .map(|c| rfc2253(c.tbs_certificate().subject()))
}

/// The subject DN of a DER certificate as `getSubjectDN().getName()` prints it.
pub fn subject_java_name(der: &[u8]) -> Option<String> {
    Certificate::from_der(der)
        .ok()
        .map(|c| java_name(c.tbs_certificate().subject()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn renders_in_reverse_with_java_keywords_and_escapes() {
        let name = Name::from_str("CN=node\\, one,OU=SSL,O=Test,L=Test,C=DE").unwrap();
        assert_eq!(rfc2253(&name), "CN=node\\, one,OU=SSL,O=Test,L=Test,C=DE");
        assert_eq!(
            java_name(&name),
            "CN=\"node, one\", OU=SSL, O=Test, L=Test, C=DE"
        );
        let email = Name::from_str("CN=a,1.2.840.113549.1.9.1=#160161").unwrap();
        assert_eq!(rfc2253(&email), "CN=a,1.2.840.113549.1.9.1=#160161");
        assert_eq!(java_name(&email), "CN=a, EMAILADDRESS=a");
    }

    #[test]
    fn java_escapes_equals_hash_and_every_outer_space() {
        let mut out = String::new();
        escape_rfc2253("  a=b#c  ", &mut out);
        assert_eq!(out, "\\ \\ a\\=b\\#c\\ \\ ");
        let mut out = String::new();
        escape_rfc2253("   ", &mut out);
        assert_eq!(out, "\\ \\ \\ ");
    }

    #[test]
    fn bmp_and_teletex_strings_are_text() {
        assert_eq!(
            string_of(Tag::BmpString, &[0, b'h', 0, b'i']).as_deref(),
            Some("hi")
        );
        assert_eq!(
            string_of(Tag::TeletexString, &[b'a', 0xe9]).as_deref(),
            Some("a\u{e9}")
        );
        assert_eq!(string_of(Tag::OctetString, b"x"), None);
    }
}
