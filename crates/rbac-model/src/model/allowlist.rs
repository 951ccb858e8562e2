//! The allowlist (`allowlist.yml`, `P/allowlist`): when enabled, only the
//! listed paths and methods are served to anyone but a superuser.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::serde_util::{is_false, lenient_bool};

/// The methods an allowlist entry may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AllowlistMethod {
    /// GET
    GET,
    /// POST
    POST,
    /// PUT
    PUT,
    /// PATCH
    PATCH,
    /// DELETE
    DELETE,
    /// HEAD
    HEAD,
    /// OPTIONS
    OPTIONS,
}

impl AllowlistMethod {
    /// The method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            AllowlistMethod::GET => "GET",
            AllowlistMethod::POST => "POST",
            AllowlistMethod::PUT => "PUT",
            AllowlistMethod::PATCH => "PATCH",
            AllowlistMethod::DELETE => "DELETE",
            AllowlistMethod::HEAD => "HEAD",
            AllowlistMethod::OPTIONS => "OPTIONS",
        }
    }
}

/// The allowlist document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Allowlist {
    /// Whether it is enforced.
    #[serde(deserialize_with = "lenient_bool", skip_serializing_if = "is_false")]
    pub enabled: bool,
    /// Exact path → allowed methods.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub requests: BTreeMap<String, Vec<AllowlistMethod>>,
}

impl Default for Allowlist {
    /// The shipped `allowlist.yml`.
    fn default() -> Self {
        Allowlist {
            enabled: false,
            requests: BTreeMap::from([
                ("/_cluster/settings".to_string(), vec![AllowlistMethod::GET]),
                ("/_cat/nodes".to_string(), vec![AllowlistMethod::GET]),
            ]),
        }
    }
}

impl Allowlist {
    /// As `GET P/allowlist` shows it (under `config`).
    pub fn to_api(&self) -> Value {
        json!({"config": {"enabled": self.enabled, "requests": self.requests}})
    }

    /// True when `method path` is allowed: an exact path, with or without
    /// one trailing `/`; the query string is not part of `path`.
    pub fn allows(&self, method: &str, path: &str) -> bool {
        if !self.enabled {
            return true;
        }
        let trimmed = path.strip_suffix('/').unwrap_or(path);
        [path, trimmed].iter().any(|p| {
            self.requests
                .get(*p)
                .is_some_and(|methods| methods.iter().any(|m| m.as_str() == method))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_paths_with_or_without_one_trailing_slash() {
        let mut a = Allowlist::default();
        assert!(a.allows("DELETE", "/anything"), "off: everything passes");
        a.enabled = true;
        assert!(a.allows("GET", "/_cat/nodes"));
        assert!(a.allows("GET", "/_cat/nodes/"));
        assert!(!a.allows("GET", "/_cat/nodes//"));
        assert!(!a.allows("PUT", "/_cat/nodes"));
        assert!(!a.allows("GET", "/_cat/indices"));
        assert!(!a.allows("GET", "/_cat"));
    }
}
