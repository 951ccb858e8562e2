//! Vault's rate-limit quotas: the rules (`sys/quotas/rate-limit/<name>`)
//! and their settings (`sys/quotas/config`), stored in the barrier and held
//! in memory, and the check every `/v1` request passes before its token is
//! looked at.
//!
//! As in OpenBao 2.7.2: a rule applies to the whole server, a mount, one
//! path under a mount, or the paths under a mount that start with a prefix
//! (`transit/keys/*`); only the most specific rule that matches a request
//! counts it. Each rule counts per client IP address. Paths that start with
//! an exempt prefix (by default `sys/health` and the seal and recovery
//! paths) are never counted.

pub(crate) mod enforce;
mod limiter;
mod rule;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use keyring_core::Barrier;
use serde::{Deserialize, Serialize};

use limiter::Limiter;
pub(crate) use limiter::Take;
pub(crate) use rule::{QuotaName, QuotaTarget, RateLimitRule, check_rate};

use crate::family::vault::VaultError;

const RULES_PREFIX: &str = "sys/quotas/rate-limit/";
const CONFIG_PATH: &str = "sys/quotas/config";

/// Vault's default `rate_limit_exempt_paths`.
const DEFAULT_EXEMPT: [&str; 7] = [
    "sys/generate-recovery-token/attempt",
    "sys/generate-recovery-token/update",
    "sys/generate-root/attempt",
    "sys/generate-root/update",
    "sys/health",
    "sys/seal-status",
    "sys/unseal",
];

/// `sys/quotas/config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct QuotaConfig {
    /// Request paths (after `/v1/`) that start with one of these (a
    /// trailing `*` is the same prefix) are never counted.
    pub(crate) rate_limit_exempt_paths: Vec<String>,
    /// Refusals are audited (as `FAILED_LOGIN`, the category of a client
    /// the server blocks).
    pub(crate) enable_rate_limit_audit_logging: bool,
    /// `X-Ratelimit-*` and `Retry-After` headers on the counted answers.
    pub(crate) enable_rate_limit_response_headers: bool,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        QuotaConfig {
            rate_limit_exempt_paths: DEFAULT_EXEMPT.iter().map(|s| s.to_string()).collect(),
            enable_rate_limit_audit_logging: false,
            enable_rate_limit_response_headers: false,
        }
    }
}

impl QuotaConfig {
    fn exempt(&self, path: &str) -> bool {
        self.rate_limit_exempt_paths
            .iter()
            .any(|p| path.starts_with(p.trim_end_matches('*')))
    }
}

#[derive(Debug, Default)]
struct Table {
    rules: BTreeMap<QuotaName, (Arc<str>, RateLimitRule)>,
    config: QuotaConfig,
}

/// What the check decided for one request.
#[derive(Debug)]
pub(crate) struct Verdict {
    /// The limiter's answer.
    pub(crate) take: Take,
    /// Send the `X-Ratelimit-*` headers.
    pub(crate) headers: bool,
    /// Audit a refusal.
    pub(crate) audit: bool,
}

/// Every rule and the settings, in memory, and their buckets.
pub(crate) struct Quotas {
    barrier: Arc<Barrier>,
    table: ArcSwap<Table>,
    limiter: Limiter,
    write: tokio::sync::Mutex<()>,
}

fn failed(e: impl std::fmt::Display) -> VaultError {
    tracing::error!(target: "keyward::quotas", error = %e, "quota store failure");
    VaultError::wrapped(http::StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
}

fn corrupt(path: &str) -> keyring_core::Error {
    keyring_core::Error::Corrupt {
        path: path.to_string(),
    }
}

impl Quotas {
    /// Loads the stored rules and settings.
    pub(crate) async fn open(barrier: Arc<Barrier>) -> Result<Quotas, keyring_core::Error> {
        let mut table = Table::default();
        for (path, bytes) in barrier.scan(RULES_PREFIX).await? {
            let name = QuotaName::new(&path[RULES_PREFIX.len()..]).ok_or_else(|| corrupt(&path))?;
            let rule: RateLimitRule = serde_json::from_slice(&bytes).map_err(|_| corrupt(&path))?;
            table
                .rules
                .insert(name.clone(), (Arc::from(name.as_str()), rule));
        }
        if let Some(bytes) = barrier.get(CONFIG_PATH).await? {
            table.config = serde_json::from_slice(&bytes).map_err(|_| corrupt(CONFIG_PATH))?;
        }
        Ok(Quotas {
            barrier,
            table: ArcSwap::from_pointee(table),
            limiter: Limiter::default(),
            write: tokio::sync::Mutex::new(()),
        })
    }

    /// Counts a request for `path` (after `/v1/`) from `client`, under the
    /// most specific rule that applies; none when no rule does or the path
    /// is exempt. `mount_of` names the mount a path is under.
    pub(crate) fn check(
        &self,
        path: &str,
        mount_of: impl Fn(&str) -> Option<String>,
        client: IpAddr,
        now: Instant,
    ) -> Option<Verdict> {
        let table = self.table.load();
        if table.rules.is_empty() || table.config.exempt(path) {
            return None;
        }
        let mount = mount_of(path).unwrap_or_default();
        let suffix = path
            .get(mount.len()..)
            .unwrap_or_default()
            .trim_end_matches('/');
        let (_, name, rule) = table
            .rules
            .values()
            .filter_map(|(name, rule)| {
                rule.target
                    .specificity(&mount, suffix)
                    .map(|s| (s, name, rule))
            })
            .max_by_key(|(s, _, _)| *s)?;
        Some(Verdict {
            take: self.limiter.take(name, rule.allowance(), client, now),
            headers: table.config.enable_rate_limit_response_headers,
            audit: table.config.enable_rate_limit_audit_logging,
        })
    }

    /// The rule named `name`.
    pub(crate) fn get(&self, name: &QuotaName) -> Option<RateLimitRule> {
        self.table.load().rules.get(name).map(|(_, r)| r.clone())
    }

    /// The names of every rule, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        self.table
            .load()
            .rules
            .keys()
            .map(|n| n.as_str().to_string())
            .collect()
    }

    /// The settings.
    pub(crate) fn config(&self) -> QuotaConfig {
        self.table.load().config.clone()
    }

    /// Creates or replaces a rule. Two rules may not apply to the same
    /// target (Vault's "similar properties"). Returns whether it existed.
    pub(crate) async fn put(
        &self,
        name: &QuotaName,
        rule: RateLimitRule,
    ) -> Result<bool, VaultError> {
        let _guard = self.write.lock().await;
        let current = self.table.load_full();
        if let Some((other, _)) = current
            .rules
            .iter()
            .find(|(other, (_, r))| *other != name && r.target == rule.target)
        {
            return Err(VaultError::bad_request(format!(
                "quota rule with similar properties exists under the name {:?}",
                other.as_str()
            )));
        }
        let bytes = serde_json::to_vec(&rule).map_err(failed)?;
        self.barrier
            .put(&format!("{RULES_PREFIX}{}", name.as_str()), &bytes)
            .await
            .map_err(failed)?;
        let mut rules = current.rules.clone();
        let existed = rules
            .insert(name.clone(), (Arc::from(name.as_str()), rule))
            .is_some();
        self.table.store(Arc::new(Table {
            rules,
            config: current.config.clone(),
        }));
        self.limiter.forget(name.as_str());
        Ok(existed)
    }

    /// Deletes a rule; returns whether it existed.
    pub(crate) async fn delete(&self, name: &QuotaName) -> Result<bool, VaultError> {
        let _guard = self.write.lock().await;
        let current = self.table.load_full();
        if !current.rules.contains_key(name) {
            return Ok(false);
        }
        self.barrier
            .delete(&format!("{RULES_PREFIX}{}", name.as_str()))
            .await
            .map_err(failed)?;
        let mut rules = current.rules.clone();
        rules.remove(name);
        self.table.store(Arc::new(Table {
            rules,
            config: current.config.clone(),
        }));
        self.limiter.forget(name.as_str());
        Ok(true)
    }

    /// Replaces the settings.
    pub(crate) async fn set_config(&self, config: QuotaConfig) -> Result<(), VaultError> {
        let _guard = self.write.lock().await;
        let bytes = serde_json::to_vec(&config).map_err(failed)?;
        self.barrier
            .put(CONFIG_PATH, &bytes)
            .await
            .map_err(failed)?;
        let current = self.table.load_full();
        self.table.store(Arc::new(Table {
            rules: current.rules.clone(),
            config,
        }));
        Ok(())
    }
}
