//! Which events the configuration wants written, compiled once per change.

use crate::{AuditCategory, AuditConfig};

/// `*` matches any run of characters, `?` one character. No allocation
/// when both sides are ASCII (the request path asks on every event).
fn glob(pattern: &str, text: &str) -> bool {
    if pattern.is_ascii() && text.is_ascii() {
        glob_in(pattern.as_bytes(), text.as_bytes(), b'*', b'?')
    } else {
        let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
        glob_in(&p, &t, '*', '?')
    }
}

fn glob_in<T: PartialEq + Copy>(p: &[T], t: &[T], many: T, one: T) -> bool {
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == one || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == many {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == many)
}

/// Headers that carry credentials. Their values never reach the audit log:
/// with `exclude_sensitive_headers` (the default) they are left out, without
/// it they appear with the value `__SENSITIVE__` (the plugin would log them
/// in full; keyward never does).
pub const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-vault-token",
    "cookie",
    "set-cookie",
    "x-api-key",
];

/// The audit configuration in the form the request path asks.
#[derive(Debug, Clone)]
pub struct AuditFilter {
    config: AuditConfig,
    ignore_users: Vec<String>,
}

impl AuditFilter {
    /// Compiles `config`.
    pub fn new(config: &AuditConfig) -> Self {
        let ignore_users = match config.audit.ignore_users.as_slice() {
            [only] if only == "NONE" => Vec::new(),
            users => users.to_vec(),
        };
        AuditFilter {
            config: config.clone(),
            ignore_users,
        }
    }

    /// The configuration it was compiled from.
    pub fn config(&self) -> &AuditConfig {
        &self.config
    }

    fn ignored_user(&self, user: Option<&str>) -> bool {
        user.is_some_and(|u| self.ignore_users.iter().any(|p| glob(p, u)))
    }

    /// True when a REST event of `category` by `user` on `path` is written.
    pub fn wants_rest(&self, category: AuditCategory, user: Option<&str>, path: &str) -> bool {
        self.config.enabled
            && self.config.audit.enable_rest
            && !self
                .config
                .audit
                .disabled_rest_categories
                .contains(&category)
            && !self.ignored_user(user)
            && !self
                .config
                .audit
                .ignore_requests
                .iter()
                .any(|p| glob(p, path))
    }

    /// True when a change of the server's own configuration or keys by
    /// `user` is written (compliance, internal config).
    pub fn wants_config_write(&self, user: Option<&str>) -> bool {
        let c = &self.config.compliance;
        self.config.enabled
            && c.enabled
            && c.internal_config
            && !user.is_some_and(|u| c.write_ignore_users.iter().any(|p| glob(p, u)))
    }

    /// True when request bodies may be attached (always redacted).
    pub fn log_request_body(&self) -> bool {
        self.config.audit.log_request_body
    }

    /// What becomes of a request header: `None` leaves it out, else the
    /// value to log (credentials never keep theirs).
    pub fn header<'v>(&self, name: &str, value: &'v str) -> Option<&'v str> {
        if self
            .config
            .audit
            .ignore_headers
            .iter()
            .any(|p| glob(&p.to_ascii_lowercase(), &name.to_ascii_lowercase()))
        {
            return None;
        }
        if SENSITIVE_HEADERS
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name))
        {
            return (!self.config.audit.exclude_sensitive_headers).then_some(crate::REDACTED);
        }
        Some(value)
    }

    /// True when a URL parameter is logged.
    pub fn logs_param(&self, name: &str) -> bool {
        !self
            .config
            .audit
            .ignore_url_params
            .iter()
            .any(|p| glob(p, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn globs() {
        assert!(glob("kibana*", "kibanaserver"));
        assert!(glob("*", ""));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "ac"));
        assert!(!glob("kibana", "kibanaserver"));
        assert!(glob("/_plugins/*/health", "/_plugins/_security/health"));
        assert!(glob("jö?g*", "jörgen"), "not only ASCII");
        assert!(!glob("jö?g", "jörgen"));
    }

    proptest! {
        #[test]
        fn a_literal_pattern_matches_only_itself(a in "[a-z]{0,8}", b in "[a-z]{0,8}") {
            prop_assert_eq!(glob(&a, &b), a == b);
            prop_assert!(glob("*", &b));
            let starred = format!("{a}*");
            let joined = format!("{a}{b}");
            prop_assert!(glob(&starred, &joined));
        }
    }

    #[test]
    fn the_shipped_config_filters_as_the_plugin() {
        let f = AuditFilter::new(&AuditConfig::shipped());
        assert!(f.wants_rest(AuditCategory::FailedLogin, Some("bob"), "/x"));
        assert!(
            !f.wants_rest(AuditCategory::Authenticated, Some("bob"), "/x"),
            "disabled by default"
        );
        assert!(
            !f.wants_rest(AuditCategory::FailedLogin, Some("kibanaserver"), "/x"),
            "ignored user"
        );
        assert!(f.wants_config_write(Some("admin")));
        let mut c = AuditConfig::shipped();
        c.audit.ignore_users = vec!["NONE".into()];
        c.audit.ignore_requests = vec!["/_plugins/*".into()];
        let f = AuditFilter::new(&c);
        assert!(f.wants_rest(AuditCategory::FailedLogin, Some("kibanaserver"), "/x"));
        assert!(!f.wants_rest(
            AuditCategory::FailedLogin,
            Some("bob"),
            "/_plugins/_security/api/roles"
        ));
        c.enabled = false;
        assert!(!AuditFilter::new(&c).wants_config_write(None));
    }

    #[test]
    fn credentials_never_keep_their_value() {
        let mut c = AuditConfig::shipped();
        let f = AuditFilter::new(&c);
        assert_eq!(f.header("Authorization", "Basic eDp5"), None);
        assert_eq!(f.header("x-vault-token", "kw.x"), None);
        assert_eq!(f.header("user-agent", "curl"), Some("curl"));
        c.audit.exclude_sensitive_headers = false;
        c.audit.ignore_headers = vec!["User-*".into()];
        c.audit.ignore_url_params = vec!["pre*".into()];
        let f = AuditFilter::new(&c);
        assert_eq!(
            f.header("Authorization", "Basic eDp5"),
            Some("__SENSITIVE__")
        );
        assert_eq!(f.header("user-agent", "curl"), None);
        assert!(!f.logs_param("pretty") && f.logs_param("verbose"));
    }
}
