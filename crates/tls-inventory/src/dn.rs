//! Distinguished names as the OpenSearch Security plugin prints and compares
//! them.
//!
//! Rendering follows Java's `X500Principal.getName()` (RFC 2253): RDNs in
//! reverse order of the encoding, joined by `,` without spaces; the keywords
//! `CN, C, L, ST, O, OU, STREET, DC, UID`; any other attribute as its dotted
//! OID and `#` + the hex of its DER value; the characters `,=+<>#;"\` escaped
//! with a backslash, and a leading or trailing space too.
//!
//! Comparison ([`DnMatcher`]) follows `LdapName` equality, which the plugin
//! uses for `admin_dn` and `nodes_dn`: attribute types compared without case,
//! values unescaped, trimmed and compared without case.

use der::asn1::{Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
use der::{Encode, Tag, Tagged};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::Name;

const KEYWORDS: &[(&str, &str)] = &[
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

const ESCAPED: &str = ",=+<>#;\"\\";

fn string_value(atv: &AttributeTypeAndValue) -> Option<String> {
    let v = &atv.value;
    let s = match v.tag() {
        Tag::Utf8String => Utf8StringRef::try_from(v).ok()?.as_str().to_string(),
        Tag::PrintableString => PrintableStringRef::try_from(v).ok()?.as_str().to_string(),
        Tag::Ia5String => Ia5StringRef::try_from(v).ok()?.as_str().to_string(),
        Tag::TeletexString => TeletexStringRef::try_from(v).ok()?.as_str().to_string(),
        _ => return None,
    };
    Some(s)
}

fn escape(value: &str, out: &mut String) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        if ESCAPED.contains(c) || (c == ' ' && (i == 0 || i == last)) {
            out.push('\\');
        }
        if c == '\0' {
            out.push_str("00");
        } else {
            out.push(c);
        }
    }
}

fn render_atv(atv: &AttributeTypeAndValue, out: &mut String) {
    let oid = atv.oid.to_string();
    let keyword = KEYWORDS.iter().find(|(o, _)| *o == oid).map(|(_, k)| *k);
    match (keyword, string_value(atv)) {
        (Some(k), Some(value)) => {
            out.push_str(k);
            out.push('=');
            escape(&value, out);
        }
        _ => {
            out.push_str(&oid);
            out.push_str("=#");
            for b in atv.value.to_der().unwrap_or_default() {
                out.push_str(&format!("{b:02x}"));
            }
        }
    }
}

/// A name in RFC 2253 as Java prints it.
pub fn rfc2253(name: &Name) -> String {
    let mut out = String::new();
    for (i, rdn) in name
        .iter_rdn()
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .enumerate()
    {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            render_atv(atv, &mut out);
        }
    }
    out
}

/// One attribute of a parsed DN string: upper-case type, unescaped value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Attr {
    kind: String,
    value: String,
}

/// A DN string parsed for comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedDn(Vec<Vec<Attr>>);

/// Splits `s` at unescaped `sep`.
fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            current.push(c);
            if let Some(n) = chars.next() {
                current.push(n);
            }
        } else if c == sep {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(c);
        }
    }
    parts.push(current);
    parts
}

fn unescape(value: &str) -> String {
    let mut out = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(h1)
                if h1.is_ascii_hexdigit() && chars.peek().is_some_and(char::is_ascii_hexdigit) =>
            {
                let h2 = chars.next().unwrap_or('0');
                if let Ok(b) = u8::from_str_radix(&format!("{h1}{h2}"), 16) {
                    out.push(char::from(b));
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

impl NormalizedDn {
    /// Parses an RFC 2253 / RFC 4514 string. `None` when a part has no `=`.
    pub fn parse(dn: &str) -> Option<Self> {
        let mut rdns = Vec::new();
        for rdn in split_unescaped(dn, ',') {
            let mut attrs = Vec::new();
            for atv in split_unescaped(&rdn, '+') {
                let (kind, value) = atv.split_once('=')?;
                let kind = kind.trim().to_ascii_uppercase();
                if kind.is_empty() {
                    return None;
                }
                attrs.push(Attr {
                    kind,
                    value: unescape(value.trim()).trim().to_lowercase(),
                });
            }
            // Multi-valued RDNs compare as sets.
            attrs.sort();
            rdns.push(attrs);
        }
        Some(NormalizedDn(rdns))
    }
}

/// A list of DNs (`admin_dn`, `nodes_dn`) to match names against.
#[derive(Debug, Clone, Default)]
pub struct DnMatcher {
    dns: Vec<NormalizedDn>,
}

impl DnMatcher {
    /// A matcher for `dns`; strings that do not parse as DNs are skipped.
    pub fn new<'a>(dns: impl IntoIterator<Item = &'a str>) -> Self {
        DnMatcher {
            dns: dns.into_iter().filter_map(NormalizedDn::parse).collect(),
        }
    }

    /// True when `dn` equals one of the list.
    pub fn matches(&self, dn: &str) -> bool {
        NormalizedDn::parse(dn).is_some_and(|n| self.dns.contains(&n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn renders_in_reverse_with_java_keywords_and_escapes() {
        let name = Name::from_str("CN=node\\, one,OU=SSL,O=Test,L=Test,C=DE").unwrap();
        assert_eq!(rfc2253(&name), "CN=node\\, one,OU=SSL,O=Test,L=Test,C=DE");
        let email = Name::from_str("CN=a,1.2.840.113549.1.9.1=#160161").unwrap();
        assert_eq!(rfc2253(&email), "CN=a,1.2.840.113549.1.9.1=#160161");
    }

    #[test]
    fn matching_ignores_case_spaces_and_escaping_style() {
        let m = DnMatcher::new(["CN=admin,OU=keyward,O=keyward"]);
        assert!(m.matches("cn=Admin, ou=keyward , o=KEYWARD"));
        assert!(!m.matches("CN=admin,OU=other,O=keyward"));
        assert!(!m.matches("CN=admin,O=keyward,OU=keyward"), "order matters");
        let multi = DnMatcher::new(["CN=a+UID=b,O=x"]);
        assert!(
            multi.matches("UID=b+CN=a,O=x"),
            "multi-valued RDNs compare as sets"
        );
        assert!(DnMatcher::new(["CN=a\\,b,O=x"]).matches("CN=a\\2cb,O=x"));
        assert!(!m.matches("not a dn"));
    }
}
