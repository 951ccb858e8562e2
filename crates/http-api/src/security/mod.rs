//! The security configuration as the API serves it: one compiled snapshot
//! (configuration + evaluator) behind an atomic pointer, replaced whole on
//! every change, never recompiled per request; and the one place that
//! persists a change and then swaps the snapshot.

mod failures;
pub(crate) mod store;

use std::net::IpAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use keyring_core::Barrier;
use rbac_model::settings::SecuritySettings;
use rbac_model::{
    AdminDns, Evaluator, PasswordHash, PasswordPolicy, Principal, RestApiGate, RoleSet,
    SecurityConfig, Subject,
};
use secrecy::SecretString;

pub(crate) use failures::AuthFailures;

use crate::Error;
use crate::route::KNOWN_ACTIONS;

/// One compiled configuration.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub(crate) config: SecurityConfig,
    pub(crate) evaluator: Evaluator,
}

impl Snapshot {
    fn compile(config: SecurityConfig, settings: &SecuritySettings) -> Snapshot {
        let evaluator =
            Evaluator::compile(&config, settings.roles_mapping_resolution, KNOWN_ACTIONS);
        Snapshot { config, evaluator }
    }

    /// True when `principal` acts as Vault's root on `/v1`: the root token,
    /// the admin certificate, or a user mapped to `all_access` (DESIGN.md).
    pub(crate) fn is_vault_root(&self, principal: &Principal, address: Option<IpAddr>) -> bool {
        principal.is_superuser()
            || self
                .evaluator
                .role_names(&self.roles_of(principal, address))
                .contains(&"all_access")
    }

    /// The ACL policies a principal holds on `/v1`: a token's own; `root`
    /// for the root token, the admin certificate and users mapped to
    /// `all_access`; for other internal users, the policies named like their
    /// security roles, and `default`.
    pub(crate) fn vault_policies(&self, p: &Principal, address: Option<IpAddr>) -> Vec<String> {
        if let Some(grant) = p.token_grant() {
            return grant.policies.clone();
        }
        if self.is_vault_root(p, address) {
            return vec!["root".into()];
        }
        let roles = self.roles_of(p, address);
        let mut names: Vec<String> = self
            .evaluator
            .role_names(&roles)
            .into_iter()
            .map(str::to_lowercase)
            .collect();
        names.push("default".into());
        names.sort();
        names.dedup();
        names
    }

    /// The security roles of `principal` calling from `address`.
    pub(crate) fn roles_of(&self, principal: &Principal, address: Option<IpAddr>) -> RoleSet {
        self.evaluator.map_roles(&Subject {
            name: principal.name(),
            backend_roles: principal.backend_roles(),
            direct_roles: principal.direct_roles(),
            address,
        })
    }
}

/// The security state of the API.
pub(crate) struct Security {
    pub(crate) settings: SecuritySettings,
    pub(crate) gate: RestApiGate,
    pub(crate) admin_dns: AdminDns,
    pub(crate) policy: PasswordPolicy,
    snapshot: ArcSwap<Snapshot>,
    /// Changes are made one at a time: read, change a copy, persist, swap.
    pub(crate) write_lock: tokio::sync::Mutex<()>,
}

impl Security {
    /// Loads the stored configuration, or stores `bootstrap` at first start.
    pub(crate) async fn open(
        barrier: &Barrier,
        settings: SecuritySettings,
        bootstrap: Option<SecurityConfig>,
    ) -> Result<Security, Error> {
        let policy = settings.password_policy()?;
        let admin_dns = AdminDns::new(&settings.authcz.admin_dn)?;
        let config = match store::load(barrier).await? {
            Some(c) => c,
            None => {
                let c = bootstrap.unwrap_or_default();
                store::save(barrier, None, &c).await?;
                c
            }
        };
        Ok(Security {
            gate: RestApiGate::new(&settings),
            admin_dns,
            policy,
            snapshot: ArcSwap::from_pointee(Snapshot::compile(config, &settings)),
            settings,
            write_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The snapshot in force now.
    pub(crate) fn current(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Persists `new` (what differs from the current snapshot) and swaps it
    /// in. Hold `write_lock` around the read-change-commit.
    pub(crate) async fn commit(
        &self,
        barrier: &Barrier,
        new: SecurityConfig,
    ) -> Result<Arc<Snapshot>, Error> {
        let old = self.current();
        store::save(barrier, Some(&old.config), &new).await?;
        let compiled = Arc::new(Snapshot::compile(new, &self.settings));
        self.snapshot.store(compiled.clone());
        Ok(compiled)
    }

    /// Hashes a new password as configured (bcrypt, cost and minor version
    /// from the settings). Slow by design: call it off the async workers.
    pub(crate) fn hash_password(
        &self,
        password: &SecretString,
    ) -> Result<String, rbac_model::Error> {
        let bcrypt = &self.settings.password.hashing.bcrypt;
        PasswordHash::create_with_minor(password, bcrypt.rounds, &bcrypt.minor)
            .map(|h| h.as_stored().to_string())
    }

    /// REST admin for an endpoint: the admin certificate (or root token), or
    /// with `restapi.admin.enabled` an explicit grant of `permission`.
    pub(crate) fn is_rest_admin(
        &self,
        snapshot: &Snapshot,
        principal: &Principal,
        roles: &RoleSet,
        permission: Option<&str>,
    ) -> bool {
        principal.is_superuser()
            || (self.settings.restapi.admin.enabled
                && permission.is_some_and(|p| snapshot.evaluator.allows_explicitly(roles, p)))
    }
}
