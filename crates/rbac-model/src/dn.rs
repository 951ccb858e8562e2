//! Distinguished names compared as the plugin compares them (`LdapName`
//! equality): attribute types and values case-insensitive, spaces around
//! separators ignored, the attributes of a multi-valued RDN in any order.

use crate::Error;

/// A DN in normal form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NormalizedDn(Vec<Vec<(String, String)>>);

fn split_unescaped(s: &str, seps: &[char]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut escaped = false;
    let mut quoted = false;
    for c in s.chars() {
        if escaped {
            cur.push('\\');
            cur.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
            cur.push(c);
        } else if !quoted && seps.contains(&c) {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

fn unescape(v: &str) -> String {
    let v = v.trim();
    let v = v
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(v);
    let mut out = String::new();
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl NormalizedDn {
    /// Parses an RFC 2253 / 4514 DN.
    pub fn parse(dn: &str) -> Result<NormalizedDn, Error> {
        let bad = || Error::Setting {
            setting: "plugins.security.authcz.admin_dn".into(),
            reason: format!("{dn:?} is not a distinguished name"),
        };
        let mut rdns = Vec::new();
        for rdn in split_unescaped(dn, &[',', ';']) {
            if rdn.trim().is_empty() {
                return Err(bad());
            }
            let mut avas = Vec::new();
            for ava in split_unescaped(&rdn, &['+']) {
                let (t, v) = ava.split_once('=').ok_or_else(bad)?;
                let t = t.trim().to_ascii_uppercase();
                if t.is_empty() {
                    return Err(bad());
                }
                avas.push((t, unescape(v).to_uppercase()));
            }
            avas.sort();
            rdns.push(avas);
        }
        Ok(NormalizedDn(rdns))
    }
}

/// The admin DNs (`plugins.security.authcz.admin_dn`).
#[derive(Debug, Clone, Default)]
pub struct AdminDns(Vec<NormalizedDn>);

impl AdminDns {
    /// Parses the setting; a value that is not a DN is an error.
    pub fn new(dns: &[String]) -> Result<AdminDns, Error> {
        dns.iter()
            .map(|d| NormalizedDn::parse(d))
            .collect::<Result<_, _>>()
            .map(AdminDns)
    }

    /// True when `dn` is one of them.
    pub fn is_admin(&self, dn: &str) -> bool {
        NormalizedDn::parse(dn).is_ok_and(|n| self.0.contains(&n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_compare_as_ldap_names() {
        let admins = AdminDns::new(&["CN=admin,OU=keyward,O=keyward".into()]).unwrap();
        assert!(admins.is_admin("CN=admin,OU=keyward,O=keyward"));
        assert!(admins.is_admin("cn=Admin, ou=keyward , o=KEYWARD"));
        assert!(!admins.is_admin("CN=admin,OU=other,O=keyward"));
        assert!(!admins.is_admin("O=keyward,OU=keyward,CN=admin"));
        let multi = AdminDns::new(&["CN=a+UID=1,O=x".into()]).unwrap();
        assert!(multi.is_admin("UID=1+CN=a,O=x"));
        assert!(AdminDns::new(&["not a dn".into()]).is_err());
        assert!(
            admins.is_admin("CN=admin,OU=keyward,O=keyward")
                && !admins.is_admin("CN=admin\\,OU=keyward,O=keyward")
        );
    }
}
