//! The compiled evaluator: built once per configuration change, then shared
//! read-only by every request. It answers "which security roles does this
//! caller have" and "does this set of roles hold this cluster action".
//!
//! Role mappings are indexed (exact user names and backend roles in hash
//! maps; only wildcard, regex, host and `and_backend_roles` mappings are
//! scanned). Each action group's own actions are compiled once and shared:
//! a role holds its own patterns plus the (transitively closed) list of the
//! groups it reaches, so a configuration with deeply nested groups compiles
//! in time linear in its size. For the actions the server checks (the route
//! table's), the answer is precomputed as a bit set over roles, so a
//! decision is a handful of bit tests.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use crate::model::SecurityConfig;
use crate::pattern::{Pattern, PatternSet};
use crate::settings::RolesMappingResolution;
use crate::statics;

/// Actions every authenticated caller holds (ArangoDB lets any user read
/// the TLS inventory).
pub const GRANTED_TO_EVERY_USER: &[&str] = &["cluster:monitor/keyward/tls"];

/// The security roles of a caller: indices into the compiled role table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleSet(Vec<u32>);

impl RoleSet {
    /// True when the caller has no role.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Who is asking, as role mapping sees it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The user name.
    pub name: &'a str,
    /// Its backend roles.
    pub backend_roles: &'a [String],
    /// Security roles given directly (`opendistro_security_roles`).
    pub direct_roles: &'a [String],
    /// The client's address.
    pub address: Option<IpAddr>,
}

#[derive(Debug)]
struct CompiledRole {
    name: String,
    /// The role's own action patterns (names of groups left out).
    cluster: PatternSet,
    /// Every group the role reaches, directly or through other groups.
    groups: Vec<u32>,
    /// (tenant patterns, expanded allowed actions) per tenant permission.
    tenants: Vec<(Vec<String>, PatternSet)>,
}

#[derive(Debug)]
struct PatternMapping {
    role: u32,
    users: PatternSet,
    backend_roles: PatternSet,
    hosts: PatternSet,
    and_backend_roles: Vec<Pattern>,
}

#[derive(Debug, Clone, Default)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn set(&mut self, i: u32) {
        self.0[i as usize / 64] |= 1 << (i % 64);
    }
    fn get(&self, i: u32) -> bool {
        self.0[i as usize / 64] & (1 << (i % 64)) != 0
    }
}

#[derive(Debug, Default)]
struct Precomputed {
    implied: Bits,
    explicit: Bits,
}

/// The compiled configuration.
#[derive(Debug, Default)]
pub struct Evaluator {
    roles: Vec<CompiledRole>,
    /// Each action group's own action patterns.
    groups: Vec<PatternSet>,
    role_index: HashMap<String, u32>,
    by_user: HashMap<String, Vec<u32>>,
    by_backend_role: HashMap<String, Vec<u32>>,
    pattern_mappings: Vec<PatternMapping>,
    resolution: RolesMappingResolution,
    known: HashMap<Box<str>, Precomputed>,
}

/// Expands action groups recursively; names that are not groups are action
/// patterns. A cycle stops where it closes.
pub fn expand_actions<'a>(config: &'a SecurityConfig, actions: &'a [String]) -> Vec<&'a str> {
    fn walk<'a>(
        config: &'a SecurityConfig,
        name: &'a str,
        seen: &mut HashSet<&'a str>,
        out: &mut Vec<&'a str>,
    ) {
        match config.action_group(name) {
            Some(group) => {
                if seen.insert(name) {
                    for a in &group.allowed_actions {
                        walk(config, a, seen, out);
                    }
                }
            }
            None => out.push(name),
        }
    }
    let mut out = Vec::new();
    for a in actions {
        let mut seen = HashSet::new();
        walk(config, a, &mut seen, &mut out);
    }
    out.sort_unstable();
    out.dedup();
    out
}

fn split_exact(patterns: &[String]) -> (Vec<&str>, PatternSet) {
    let mut exact = Vec::new();
    let mut set = PatternSet::default();
    for p in patterns {
        match Pattern::new(p) {
            Pattern::Exact(_) => exact.push(p.as_str()),
            other => set.push(other),
        }
    }
    (exact, set)
}

impl Evaluator {
    /// Compiles `config`. `known_actions` are the actions whose answer is
    /// precomputed for every role (the route table's).
    pub fn compile(
        config: &SecurityConfig,
        resolution: RolesMappingResolution,
        known_actions: &[&str],
    ) -> Evaluator {
        let mut ev = Evaluator {
            resolution,
            ..Default::default()
        };
        let groups = GroupTable::new(config);
        ev.groups = groups.sets;
        let all_roles = statics::roles()
            .iter()
            .chain(config.roles.iter())
            .collect::<BTreeMap<_, _>>();
        for (name, role) in all_roles {
            let id = ev.roles.len() as u32;
            ev.role_index.insert(name.clone(), id);
            let mut reached = Vec::new();
            let mut own = Vec::new();
            for p in &role.cluster_permissions {
                match groups.index.get(p.as_str()) {
                    Some(g) => reached.extend(&groups.reach[*g as usize]),
                    None => own.push(p.as_str()),
                }
            }
            reached.sort_unstable();
            reached.dedup();
            let tenants = role
                .tenant_permissions
                .iter()
                .map(|t| {
                    (
                        t.tenant_patterns.clone(),
                        PatternSet::new(expand_actions(config, &t.allowed_actions)),
                    )
                })
                .collect();
            ev.roles.push(CompiledRole {
                name: name.clone(),
                cluster: PatternSet::new(own),
                groups: reached,
                tenants,
            });
        }
        for (role_name, mapping) in &config.roles_mapping {
            // Mappings of roles that do not exist give nothing.
            let Some(&role) = ev.role_index.get(role_name) else {
                continue;
            };
            let (exact_users, users) = split_exact(&mapping.users);
            let (exact_backend, backend_roles) = split_exact(&mapping.backend_roles);
            for u in exact_users {
                ev.by_user.entry(u.to_string()).or_default().push(role);
            }
            for b in exact_backend {
                ev.by_backend_role
                    .entry(b.to_string())
                    .or_default()
                    .push(role);
            }
            let hosts = PatternSet::new(mapping.hosts.iter().map(String::as_str));
            let and_backend_roles: Vec<Pattern> = mapping
                .and_backend_roles
                .iter()
                .map(|p| Pattern::new(p))
                .collect();
            if !(users.is_empty()
                && backend_roles.is_empty()
                && hosts.is_empty()
                && and_backend_roles.is_empty())
            {
                ev.pattern_mappings.push(PatternMapping {
                    role,
                    users,
                    backend_roles,
                    hosts,
                    and_backend_roles,
                });
            }
        }
        for action in known_actions {
            let group_implied: Vec<bool> = ev.groups.iter().map(|g| g.matches(action)).collect();
            let group_explicit: Vec<bool> = ev
                .groups
                .iter()
                .map(|g| g.matches_explicitly(action))
                .collect();
            let mut p = Precomputed {
                implied: Bits::new(ev.roles.len()),
                explicit: Bits::new(ev.roles.len()),
            };
            for (i, role) in ev.roles.iter().enumerate() {
                let via = |table: &[bool]| role.groups.iter().any(|g| table[*g as usize]);
                if role.cluster.matches(action) || via(&group_implied) {
                    p.implied.set(i as u32);
                }
                if role.cluster.matches_explicitly(action) || via(&group_explicit) {
                    p.explicit.set(i as u32);
                }
            }
            ev.known.insert((*action).into(), p);
        }
        ev
    }

    fn role_matches(&self, role: u32, action: &str) -> bool {
        let r = &self.roles[role as usize];
        r.cluster.matches(action)
            || r.groups
                .iter()
                .any(|g| self.groups[*g as usize].matches(action))
    }

    fn role_matches_explicitly(&self, role: u32, action: &str) -> bool {
        let r = &self.roles[role as usize];
        r.cluster.matches_explicitly(action)
            || r.groups
                .iter()
                .any(|g| self.groups[*g as usize].matches_explicitly(action))
    }

    /// The security roles of `subject`.
    pub fn map_roles(&self, subject: &Subject<'_>) -> RoleSet {
        let mut out: Vec<u32> = Vec::new();
        if self.resolution != RolesMappingResolution::BackendRolesOnly {
            if let Some(r) = self.by_user.get(subject.name) {
                out.extend(r);
            }
            for b in subject.backend_roles {
                if let Some(r) = self.by_backend_role.get(b) {
                    out.extend(r);
                }
            }
            let address = subject.address.map(|a| a.to_string());
            for m in &self.pattern_mappings {
                let hit = m.users.matches_nonempty(subject.name)
                    || subject
                        .backend_roles
                        .iter()
                        .any(|b| m.backend_roles.matches_nonempty(b))
                    || address
                        .as_deref()
                        .is_some_and(|a| m.hosts.matches_nonempty(a))
                    || (!m.and_backend_roles.is_empty()
                        && m.and_backend_roles
                            .iter()
                            .all(|p| subject.backend_roles.iter().any(|b| p.matches(b))));
                if hit {
                    out.push(m.role);
                }
            }
        }
        if self.resolution != RolesMappingResolution::MappingOnly {
            out.extend(
                subject
                    .backend_roles
                    .iter()
                    .filter_map(|b| self.role_index.get(b)),
            );
        }
        out.extend(
            subject
                .direct_roles
                .iter()
                .filter_map(|r| self.role_index.get(r)),
        );
        out.sort_unstable();
        out.dedup();
        RoleSet(out)
    }

    /// The names of the roles in `set`, sorted.
    pub fn role_names<'a>(&'a self, set: &RoleSet) -> Vec<&'a str> {
        set.0
            .iter()
            .map(|i| self.roles[*i as usize].name.as_str())
            .collect()
    }

    /// True when a role in `set` grants the cluster `action`.
    pub fn allows(&self, set: &RoleSet, action: &str) -> bool {
        if GRANTED_TO_EVERY_USER.contains(&action) {
            return true;
        }
        match self.known.get(action) {
            Some(p) => set.0.iter().any(|i| p.implied.get(*i)),
            None => set.0.iter().any(|i| self.role_matches(*i, action)),
        }
    }

    /// True when a role in `set` grants `action` by a pattern other than the
    /// bare `*` (the plugin's explicit privilege, for `restapi:admin/*`).
    pub fn allows_explicitly(&self, set: &RoleSet, action: &str) -> bool {
        match self.known.get(action) {
            Some(p) => set.0.iter().any(|i| p.explicit.get(*i)),
            None => set
                .0
                .iter()
                .any(|i| self.role_matches_explicitly(*i, action)),
        }
    }

    /// The tenants the roles in `set` reach: tenant → writable. The user's
    /// own (private) tenant is always there and writable.
    pub fn tenants(
        &self,
        set: &RoleSet,
        user: &str,
        config: &SecurityConfig,
    ) -> BTreeMap<String, bool> {
        let mut out = BTreeMap::new();
        for tenant in config.tenant_names() {
            let mut access: Option<bool> = None;
            for i in &set.0 {
                for (patterns, actions) in &self.roles[*i as usize].tenants {
                    let hit = patterns.iter().any(|p| {
                        let p = p
                            .replace("${user.name}", user)
                            .replace("${user_name}", user);
                        Pattern::new(&p).matches(tenant)
                    });
                    if !hit {
                        continue;
                    }
                    if actions.matches("kibana:saved_objects/*/write") {
                        access = Some(true);
                    } else if actions.matches("kibana:saved_objects/*/read") {
                        access = Some(access.unwrap_or(false));
                    }
                }
            }
            if let Some(write) = access {
                out.insert(tenant.to_string(), write);
            }
        }
        out.insert(user.to_string(), true);
        out
    }
}

/// Every action group (static and configured), compiled once.
struct GroupTable<'a> {
    index: HashMap<&'a str, u32>,
    /// Each group's own actions (members that are not groups).
    sets: Vec<PatternSet>,
    /// For each group, every group it reaches, itself included.
    reach: Vec<Vec<u32>>,
}

impl<'a> GroupTable<'a> {
    fn new(config: &'a SecurityConfig) -> GroupTable<'a> {
        let names: Vec<&'a str> = statics::action_groups()
            .keys()
            .chain(config.action_groups.keys())
            .map(String::as_str)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let index: HashMap<&'a str, u32> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, i as u32))
            .collect();
        let mut sets = Vec::with_capacity(names.len());
        let mut children: Vec<Vec<u32>> = Vec::with_capacity(names.len());
        for name in &names {
            let group = config
                .action_group(name)
                .map(|g| g.allowed_actions.as_slice())
                .unwrap_or_default();
            let mut own = Vec::new();
            let mut kids = Vec::new();
            for a in group {
                match index.get(a.as_str()) {
                    Some(k) => kids.push(*k),
                    None => own.push(a.as_str()),
                }
            }
            sets.push(PatternSet::new(own));
            children.push(kids);
        }
        let reach = (0..names.len() as u32)
            .map(|start| {
                let mut seen = vec![false; names.len()];
                let mut stack = vec![start];
                let mut out = Vec::new();
                while let Some(g) = stack.pop() {
                    if std::mem::replace(&mut seen[g as usize], true) {
                        continue;
                    }
                    out.push(g);
                    stack.extend(&children[g as usize]);
                }
                out
            })
            .collect();
        GroupTable { index, sets, reach }
    }
}

impl PatternSet {
    fn matches_nonempty(&self, value: &str) -> bool {
        !self.is_empty() && self.matches(value)
    }
}
