//! One rate-limit rule, its name and what it applies to, parsed from the
//! values Vault's `sys/quotas/rate-limit/:name` takes.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::limiter::Allowance;

/// A quota's name: Vault's generic name (`\w(([\w-.]+)?\w)?`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct QuotaName(String);

impl QuotaName {
    /// The name, when it is one Vault's route would match.
    pub(crate) fn new(s: &str) -> Option<QuotaName> {
        let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let ok = s.chars().next().is_some_and(word)
            && s.chars().last().is_some_and(word)
            && s.chars().all(|c| word(c) || c == '-' || c == '.');
        ok.then(|| QuotaName(s.to_string()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a rule applies to: the whole server (empty mount), a mount
/// (`transit/`), one path under a mount (suffix `encrypt/orders`) or the
/// paths under a mount that start with a prefix (suffix `keys/*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct QuotaTarget {
    /// The mount path with its slash, or empty for the whole server.
    pub(crate) mount: String,
    /// What follows the mount, without a trailing slash; may end in `*`.
    pub(crate) suffix: String,
}

impl QuotaTarget {
    /// Parses the `path` a client gave, as Vault sanitizes it: a leading
    /// slash dropped, a trailing one implied; `mount_of` names the mount a
    /// path is under (`sys/`, `auth/token/`, a transit mount). The error
    /// is Vault's text.
    pub(crate) fn parse(
        path: &str,
        mount_of: impl Fn(&str) -> Option<String>,
    ) -> Result<QuotaTarget, String> {
        let mut sanitized = path.strip_prefix('/').unwrap_or(path).to_string();
        if sanitized.is_empty() {
            return Ok(QuotaTarget {
                mount: String::new(),
                suffix: String::new(),
            });
        }
        if !sanitized.ends_with('/') {
            sanitized.push('/');
        }
        let Some(mount) = mount_of(&sanitized) else {
            return Err(format!("invalid mount path {:?}", sanitized));
        };
        let suffix = sanitized[mount.len()..].trim_end_matches('/').to_string();
        Ok(QuotaTarget { mount, suffix })
    }

    /// The path as Vault reports it: `transit/`, `transit/keys/*`, or empty.
    pub(crate) fn display(&self) -> String {
        format!("{}{}", self.mount, self.suffix)
    }

    /// Whether the rule applies to a request under `mount` whose path after
    /// the mount is `suffix` (no trailing slash), and how specifically:
    /// higher wins. Vault's order: the exact path, then the longest
    /// matching prefix, then the mount, then the whole server.
    pub(crate) fn specificity(&self, mount: &str, suffix: &str) -> Option<usize> {
        if self.mount.is_empty() {
            return Some(0);
        }
        if self.mount != mount {
            return None;
        }
        if self.suffix.is_empty() {
            return Some(1);
        }
        if self.suffix == suffix {
            return Some(usize::MAX);
        }
        let prefix = self.suffix.strip_suffix('*')?;
        suffix.starts_with(prefix).then_some(2 + prefix.len())
    }
}

/// A rule as it is stored and served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RateLimitRule {
    pub(crate) target: QuotaTarget,
    /// Requests per interval, as given (Vault rounds it to whole requests).
    pub(crate) rate: f64,
    pub(crate) interval_secs: u64,
    pub(crate) block_interval_secs: u64,
    pub(crate) inheritable: bool,
}

impl RateLimitRule {
    /// What the limiter enforces.
    pub(crate) fn allowance(&self) -> Allowance {
        Allowance {
            // Finite and at least 0.5 (checked on write): a whole number of requests.
            tokens: self.rate.round() as u64,
            interval: Duration::from_secs(self.interval_secs.max(1)),
            block: Duration::from_secs(self.block_interval_secs),
        }
    }
}

/// Checks a `rate`: Vault refuses what is not positive. keyward also
/// refuses what is not finite, and what rounds to no request at all (Vault
/// accepts `0.4` and then refuses every request, `sys/quotas` included,
/// with no way back through the API).
pub(crate) fn check_rate(rate: f64) -> Result<f64, String> {
    if rate.is_nan() || rate <= 0.0 || rate.is_infinite() {
        return Err("'rate' is invalid".into());
    }
    if rate < 0.5 {
        return Err(
            "'rate' is invalid: below 0.5 it rounds to no request per interval and would refuse every request, sys/quotas included"
                .into(),
        );
    }
    Ok(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mounts(path: &str) -> Option<String> {
        ["sys/", "auth/token/", "transit/"]
            .into_iter()
            .find(|m| path.starts_with(m))
            .map(str::to_string)
    }

    fn target(path: &str) -> Result<QuotaTarget, String> {
        QuotaTarget::parse(path, mounts)
    }

    #[test]
    fn paths_are_sanitized_as_vault_does() {
        assert_eq!(target("").unwrap().display(), "");
        assert_eq!(target("transit").unwrap().display(), "transit/");
        assert_eq!(target("/transit/").unwrap().display(), "transit/");
        assert_eq!(
            target("transit/encrypt/").unwrap().display(),
            "transit/encrypt"
        );
        assert_eq!(target("transit/keys/*").unwrap().suffix, "keys/*");
        assert_eq!(target("sys/mounts").unwrap().mount, "sys/");
        assert_eq!(
            target("nope/x").unwrap_err(),
            "invalid mount path \"nope/x/\""
        );
        assert_eq!(target("*").unwrap_err(), "invalid mount path \"*/\"");
    }

    #[test]
    fn the_most_specific_rule_wins() {
        let t = |p: &str| target(p).unwrap();
        let (global, mount, exact, wild, wilder) = (
            t(""),
            t("transit/"),
            t("transit/keys/k1"),
            t("transit/keys/*"),
            t("transit/keys/k*"),
        );
        let best = |suffix: &str| {
            [&global, &mount, &exact, &wild, &wilder]
                .into_iter()
                .filter_map(|r| r.specificity("transit/", suffix).map(|s| (s, r.display())))
                .max()
                .map(|(_, d)| d)
                .unwrap()
        };
        assert_eq!(best("keys/k1"), "transit/keys/k1");
        assert_eq!(best("keys/k2"), "transit/keys/k*");
        assert_eq!(best("keys/x2"), "transit/keys/*");
        assert_eq!(best("keys"), "transit/");
        assert_eq!(best("encrypt/k1"), "transit/");
        assert_eq!(global.specificity("sys/", "mounts"), Some(0));
        assert_eq!(mount.specificity("sys/", "mounts"), None);
    }

    #[test]
    fn names_and_rates() {
        assert!(QuotaName::new("q1").is_some());
        assert!(QuotaName::new("a.b-c_d").is_some());
        assert!(QuotaName::new("a b").is_none());
        assert!(QuotaName::new("-a").is_none());
        assert!(QuotaName::new("").is_none());
        assert!(check_rate(0.0).is_err());
        assert!(check_rate(-1.0).is_err());
        assert!(check_rate(f64::NAN).is_err());
        assert!(check_rate(f64::INFINITY).is_err());
        assert!(check_rate(0.4).is_err());
        assert_eq!(check_rate(1.5), Ok(1.5));
    }
}
