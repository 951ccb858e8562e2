//! The REST-API gate: who may call `P/...` at all (`restapi.roles_enabled`,
//! `restapi.endpoints_disabled`), with the plugin's reasons.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::settings::SecuritySettings;

/// The plugin's REST-API endpoints, as `endpoints_disabled` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum Endpoint {
    Account,
    ActionGroups,
    Allowlist,
    ApiTokens,
    Audit,
    AuthToken,
    Cache,
    Config,
    InternalUsers,
    Migrate,
    NodesDn,
    PermissionsInfo,
    RateLimiters,
    ResourceSharing,
    Roles,
    RolesMapping,
    RollbackVersion,
    Ssl,
    SystemInfo,
    Tenants,
    Validate,
    ViewVersion,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 22] = [
        Endpoint::Account,
        Endpoint::ActionGroups,
        Endpoint::Allowlist,
        Endpoint::ApiTokens,
        Endpoint::Audit,
        Endpoint::AuthToken,
        Endpoint::Cache,
        Endpoint::Config,
        Endpoint::InternalUsers,
        Endpoint::Migrate,
        Endpoint::NodesDn,
        Endpoint::PermissionsInfo,
        Endpoint::RateLimiters,
        Endpoint::ResourceSharing,
        Endpoint::Roles,
        Endpoint::RolesMapping,
        Endpoint::RollbackVersion,
        Endpoint::Ssl,
        Endpoint::SystemInfo,
        Endpoint::Tenants,
        Endpoint::Validate,
        Endpoint::ViewVersion,
    ];

    /// The enum name the plugin uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Account => "ACCOUNT",
            Endpoint::ActionGroups => "ACTIONGROUPS",
            Endpoint::Allowlist => "ALLOWLIST",
            Endpoint::ApiTokens => "APITOKENS",
            Endpoint::Audit => "AUDIT",
            Endpoint::AuthToken => "AUTHTOKEN",
            Endpoint::Cache => "CACHE",
            Endpoint::Config => "CONFIG",
            Endpoint::InternalUsers => "INTERNALUSERS",
            Endpoint::Migrate => "MIGRATE",
            Endpoint::NodesDn => "NODESDN",
            Endpoint::PermissionsInfo => "PERMISSIONSINFO",
            Endpoint::RateLimiters => "RATELIMITERS",
            Endpoint::ResourceSharing => "RESOURCE_SHARING",
            Endpoint::Roles => "ROLES",
            Endpoint::RolesMapping => "ROLESMAPPING",
            Endpoint::RollbackVersion => "ROLLBACK_VERSION",
            Endpoint::Ssl => "SSL",
            Endpoint::SystemInfo => "SYSTEMINFO",
            Endpoint::Tenants => "TENANTS",
            Endpoint::Validate => "VALIDATE",
            Endpoint::ViewVersion => "VIEW_VERSION",
        }
    }

    /// Reads an endpoint name (case-insensitive).
    pub fn parse(s: &str) -> Option<Endpoint> {
        Endpoint::ALL
            .into_iter()
            .find(|e| e.as_str().eq_ignore_ascii_case(s))
    }

    /// The `restapi:admin/*` permission that makes a caller REST admin for
    /// this endpoint, if there is one.
    pub fn rest_admin_permission(self) -> Option<&'static str> {
        Some(match self {
            Endpoint::ActionGroups => "restapi:admin/actiongroups",
            Endpoint::Allowlist => "restapi:admin/allowlist",
            Endpoint::Config => "restapi:admin/config/update",
            Endpoint::InternalUsers => "restapi:admin/internalusers",
            Endpoint::NodesDn => "restapi:admin/nodesdn",
            Endpoint::RateLimiters => "restapi:admin/ratelimiters",
            Endpoint::Roles => "restapi:admin/roles",
            Endpoint::RolesMapping => "restapi:admin/rolesmapping",
            Endpoint::Tenants => "restapi:admin/tenants",
            _ => return None,
        })
    }
}

/// The HTTP methods the gate knows, in the plugin's order.
pub const REST_METHODS: [&str; 9] = [
    "GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE", "CONNECT",
];

/// What the caller's TLS session says about an admin certificate, for the
/// second half of a refusal's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertStatus {
    /// Plain HTTP.
    NoTls,
    /// TLS without a client certificate.
    NoCertificate,
    /// A client certificate whose DN is not an admin DN.
    NotAdmin(String),
}

impl CertStatus {
    fn reason(&self) -> String {
        match self {
            CertStatus::NoTls => "No ssl info found in request.".into(),
            CertStatus::NoCertificate => "No client TLS certificate found in request".into(),
            CertStatus::NotAdmin(dn) => {
                format!("Security admin permissions required but {dn} is not an admin")
            }
        }
    }
}

/// The compiled gate.
#[derive(Debug, Clone, Default)]
pub struct RestApiGate {
    roles_enabled: HashSet<String>,
    per_role: HashMap<String, HashMap<Endpoint, BTreeSet<&'static str>>>,
    global: HashMap<Endpoint, BTreeSet<&'static str>>,
}

fn methods(list: &[String]) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for m in list {
        if m == "*" {
            out.extend(REST_METHODS);
        } else if let Some(known) = REST_METHODS.iter().find(|k| k.eq_ignore_ascii_case(m)) {
            out.insert(*known);
        }
        // Unknown method names are skipped, as the plugin does.
    }
    out
}

fn endpoints(map: &BTreeMap<String, Vec<String>>) -> HashMap<Endpoint, BTreeSet<&'static str>> {
    map.iter()
        .filter_map(|(name, list)| Endpoint::parse(name).map(|e| (e, methods(list))))
        .collect()
}

impl RestApiGate {
    /// Compiles the gate from the settings.
    pub fn new(settings: &SecuritySettings) -> RestApiGate {
        let mut per_role = HashMap::new();
        let mut global = HashMap::new();
        for (role, map) in &settings.restapi.endpoints_disabled {
            if role == "global" {
                global = endpoints(map);
            } else {
                per_role.insert(role.clone(), endpoints(map));
            }
        }
        RestApiGate {
            roles_enabled: settings.restapi.roles_enabled.iter().cloned().collect(),
            per_role,
            global,
        }
    }

    /// True when one of `roles` is in `roles_enabled`.
    pub fn has_api_access(&self, roles: &[&str]) -> bool {
        roles.iter().any(|r| self.roles_enabled.contains(*r))
    }

    /// The methods disabled per endpoint for a caller with `roles`: those
    /// disabled in every enabled role that disables anything, plus global.
    pub fn disabled_endpoints(&self, roles: &[&str]) -> BTreeMap<Endpoint, BTreeSet<&'static str>> {
        if !self.has_api_access(roles) {
            return Endpoint::ALL
                .into_iter()
                .map(|e| (e, REST_METHODS.into_iter().collect()))
                .collect();
        }
        let defining: Vec<&HashMap<Endpoint, BTreeSet<&'static str>>> = roles
            .iter()
            .filter(|r| self.roles_enabled.contains(**r))
            .filter_map(|r| self.per_role.get(*r))
            .collect();
        let mut out: BTreeMap<Endpoint, BTreeSet<&'static str>> = BTreeMap::new();
        if let Some((first, rest)) = defining.split_first() {
            for (endpoint, methods) in first.iter() {
                let mut common = methods.clone();
                for other in rest {
                    let theirs = other.get(endpoint).cloned().unwrap_or_default();
                    common.retain(|m| theirs.contains(m));
                }
                if !common.is_empty() {
                    out.insert(*endpoint, common);
                }
            }
        }
        for (endpoint, methods) in &self.global {
            out.entry(*endpoint)
                .or_default()
                .extend(methods.iter().copied());
        }
        out
    }

    /// The gate itself: `Ok` or the reason after `No permission to access REST API: `.
    pub fn check(
        &self,
        user: &str,
        roles: &[&str],
        endpoint: Endpoint,
        method: &str,
        cert: &CertStatus,
    ) -> Result<(), String> {
        if endpoint == Endpoint::Account {
            return Ok(());
        }
        let list = format!("[{}]", roles.join(", "));
        let role_reason = if self.roles_enabled.is_empty() {
            "Role based access not enabled.".to_string()
        } else if !self.has_api_access(roles) {
            format!(
                "User {user} with Security roles {list} does not have any role privileged for admin access"
            )
        } else {
            let disabled = self.disabled_endpoints(roles);
            match disabled.get(&endpoint) {
                Some(methods) if methods.iter().any(|m| m.eq_ignore_ascii_case(method)) => format!(
                    "User {user} with Security roles {list} does not have any access to endpoint {} and method {method}",
                    endpoint.as_str()
                ),
                _ => return Ok(()),
            }
        };
        Err(format!("{role_reason}. {}", cert.reason()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(disabled: &[(&str, &str, &[&str])]) -> RestApiGate {
        let mut s = SecuritySettings::default();
        s.restapi.roles_enabled.push("r2".into());
        for (role, ep, m) in disabled {
            s.restapi
                .endpoints_disabled
                .entry(role.to_string())
                .or_default()
                .insert(ep.to_string(), m.iter().map(|s| s.to_string()).collect());
        }
        RestApiGate::new(&s)
    }

    #[test]
    fn the_gate_and_its_reasons() {
        let g = gate(&[]);
        assert!(
            g.check(
                "a",
                &["all_access"],
                Endpoint::Roles,
                "GET",
                &CertStatus::NoTls
            )
            .is_ok()
        );
        let err = g
            .check(
                "plain",
                &[],
                Endpoint::Roles,
                "GET",
                &CertStatus::NoCertificate,
            )
            .unwrap_err();
        assert_eq!(
            err,
            "User plain with Security roles [] does not have any role privileged for admin access. No client TLS certificate found in request"
        );
        assert!(
            g.check("plain", &[], Endpoint::Account, "PUT", &CertStatus::NoTls)
                .is_ok()
        );
    }

    #[test]
    fn disabled_methods_are_the_intersection_plus_global() {
        let g = gate(&[
            ("all_access", "roles", &["PUT", "DELETE"]),
            ("r2", "ROLES", &["PUT"]),
            ("global", "CACHE", &["*"]),
        ]);
        let both = g.disabled_endpoints(&["all_access", "r2"]);
        assert_eq!(
            both[&Endpoint::Roles].iter().copied().collect::<Vec<_>>(),
            vec!["PUT"]
        );
        assert_eq!(both[&Endpoint::Cache].len(), 9);
        assert!(
            g.check(
                "u",
                &["all_access", "r2"],
                Endpoint::Roles,
                "DELETE",
                &CertStatus::NoTls
            )
            .is_ok()
        );
        let err = g
            .check(
                "u",
                &["all_access"],
                Endpoint::Roles,
                "DELETE",
                &CertStatus::NoTls,
            )
            .unwrap_err();
        assert!(
            err.contains("does not have any access to endpoint ROLES and method DELETE"),
            "{err}"
        );
    }
}
