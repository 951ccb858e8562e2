//! Properties of the model: the compiled evaluator agrees with a plainly
//! written reference; no sequence of JSON Patch requests leaves an invalid
//! configuration; every configuration survives a YAML round trip.

use std::collections::{BTreeMap, HashSet};

use proptest::prelude::*;
use rbac_model::model::{
    ActionGroup, ConfigType, InternalUser, Role, RoleMapping, SecurityConfig, Tenant,
};
use rbac_model::ops::{self, Caller};
use rbac_model::settings::RolesMappingResolution;
use rbac_model::{Evaluator, PasswordPolicy, Subject, statics};
use secrecy::SecretString;

// ---------------------------------------------------------------- reference

/// Wildcard matching by plain recursion (`*` any run, `?` one character).
fn glob(p: &[char], v: &[char]) -> bool {
    match (p.first(), v.first()) {
        (None, None) => true,
        (Some('*'), _) => glob(&p[1..], v) || (!v.is_empty() && glob(p, &v[1..])),
        (Some('?'), Some(_)) => glob(&p[1..], &v[1..]),
        (Some(a), Some(b)) if a == b => glob(&p[1..], &v[1..]),
        _ => false,
    }
}

fn matches(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    glob(&p, &v)
}

fn reference_actions(
    config: &SecurityConfig,
    name: &str,
    seen: &mut Vec<String>,
    out: &mut Vec<String>,
) {
    match config.action_group(name) {
        Some(g) => {
            if seen.iter().any(|s| s == name) {
                return;
            }
            seen.push(name.to_string());
            for a in &g.allowed_actions {
                reference_actions(config, a, seen, out);
            }
        }
        None => out.push(name.to_string()),
    }
}

fn reference_allows(config: &SecurityConfig, user: &str, backend: &[String], action: &str) -> bool {
    let all_roles: BTreeMap<&String, &Role> =
        statics::roles().iter().chain(config.roles.iter()).collect();
    let mut mine = Vec::new();
    for (role, m) in &config.roles_mapping {
        if !all_roles.contains_key(role) {
            continue;
        }
        let hit = m.users.iter().any(|p| matches(p, user))
            || m.backend_roles
                .iter()
                .any(|p| backend.iter().any(|b| matches(p, b)))
            || (!m.and_backend_roles.is_empty()
                && m.and_backend_roles
                    .iter()
                    .all(|p| backend.iter().any(|b| matches(p, b))));
        if hit {
            mine.push(role.clone());
        }
    }
    mine.iter().any(|r| {
        all_roles[r].cluster_permissions.iter().any(|perm| {
            let mut out = Vec::new();
            reference_actions(config, perm, &mut Vec::new(), &mut out);
            out.iter().any(|p| matches(p, action))
        })
    })
}

// ---------------------------------------------------------------- strategies

fn word() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "a", "b", "ab", "ba", "abc", "x:y", "x:y/z", "x:*", "a*", "*b", "?b", "a?c", "*",
    ])
    .prop_map(str::to_string)
}

fn list(n: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(word(), 0..n)
}

fn group_names() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["g1", "g2", "g3", "a", "x:y"]).prop_map(str::to_string)
}

fn config() -> impl Strategy<Value = SecurityConfig> {
    let roles = prop::collection::btree_map(
        prop::sample::select(vec!["r1", "r2", "r3", "r4"]).prop_map(str::to_string),
        prop::collection::vec(prop_oneof![word(), group_names()], 0..4),
        0..4,
    );
    let mappings = prop::collection::btree_map(
        prop::sample::select(vec!["r1", "r2", "r3", "all_access", "readall", "nope"])
            .prop_map(str::to_string),
        (list(3), list(3), list(2)),
        0..4,
    );
    let groups = prop::collection::btree_map(
        group_names(),
        prop::collection::vec(prop_oneof![word(), group_names()], 0..4),
        0..4,
    );
    (roles, mappings, groups).prop_map(|(roles, mappings, groups)| {
        let mut c = SecurityConfig::default();
        for (name, perms) in roles {
            c.roles.insert(
                name,
                Role {
                    cluster_permissions: perms,
                    ..Default::default()
                },
            );
        }
        for (name, (users, backend_roles, and_backend_roles)) in mappings {
            c.roles_mapping.insert(
                name,
                RoleMapping {
                    users,
                    backend_roles,
                    and_backend_roles,
                    ..Default::default()
                },
            );
        }
        for (name, actions) in groups {
            c.action_groups.insert(
                name,
                ActionGroup {
                    allowed_actions: actions,
                    ..Default::default()
                },
            );
        }
        c
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn the_evaluator_agrees_with_the_reference(
        c in config(),
        user in word(),
        backend in list(3),
        action in prop_oneof![word(), Just("cluster:admin/keyward/tls/reload".to_string())],
        precompute in any::<bool>(),
    ) {
        let known: Vec<&str> = if precompute { vec![action.as_str()] } else { Vec::new() };
        let ev = Evaluator::compile(&c, RolesMappingResolution::MappingOnly, &known);
        let roles = ev.map_roles(&Subject { name: &user, backend_roles: &backend, direct_roles: &[], address: None });
        prop_assert_eq!(ev.allows(&roles, &action), reference_allows(&c, &user, &backend, &action));
    }
}

// ---------------------------------------------------------------- JSON Patch

fn no_hash(_: &SecretString) -> Result<String, rbac_model::Error> {
    Err(rbac_model::Error::Hashing("not in this test".into()))
}

fn patch_op() -> impl Strategy<Value = serde_json::Value> {
    let path = prop::sample::select(vec![
        "/g1",
        "/g2",
        "/g3",
        "/read",
        "/g1/allowed_actions",
        "/g1/allowed_actions/0",
        "/g1/allowed_actions/-",
        "/g2/allowed_actions/0",
        "/g2/type",
        "/g1/description",
        "/g1/hidden",
        "",
    ]);
    let value = prop_oneof![
        Just(serde_json::json!("g1")),
        Just(serde_json::json!("g2")),
        Just(serde_json::json!("x:y/*")),
        Just(serde_json::json!("restapi:admin/roles")),
        Just(serde_json::json!(["g1"])),
        Just(serde_json::json!(["g2", "x:*"])),
        Just(serde_json::json!({"allowed_actions": ["g1"]})),
        Just(serde_json::json!({"allowed_actions": ["g2"], "type": "index"})),
        Just(serde_json::json!({"allowed_actions": ["x:y"], "type": "bogus"})),
        Just(serde_json::json!({"type": "cluster"})),
        Just(serde_json::json!(null)),
        Just(serde_json::json!(7)),
    ];
    let op = prop::sample::select(vec!["add", "remove", "replace", "move", "copy", "test"]);
    (op, path.clone(), path, value).prop_map(|(op, path, from, value)| {
        serde_json::json!({"op": op, "path": path, "from": from, "value": value})
    })
}

fn assert_valid(c: &SecurityConfig) {
    let static_groups = statics::action_groups();
    for (name, g) in &c.action_groups {
        assert!(
            !static_groups.contains_key(name),
            "a static group {name} was stored"
        );
        if let Some(t) = &g.group_type {
            assert!(
                ["cluster", "index"].contains(&t.to_lowercase().as_str()),
                "{name} has type {t}"
            );
        }
        assert!(
            !g.allowed_actions
                .iter()
                .any(|a| a.starts_with("restapi:admin/"))
        );
        // No group reaches itself.
        let mut stack: Vec<&str> = g.allowed_actions.iter().map(String::as_str).collect();
        let mut seen = HashSet::new();
        while let Some(n) = stack.pop() {
            assert_ne!(n, name.as_str(), "{name} is part of a cycle");
            if seen.insert(n)
                && let Some(next) = c.action_group(n)
            {
                stack.extend(next.allowed_actions.iter().map(String::as_str));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn patch_sequences_never_leave_an_invalid_configuration(
        requests in prop::collection::vec(prop::collection::vec(patch_op(), 1..4), 1..6),
        one in any::<bool>(),
    ) {
        let policy = PasswordPolicy::default();
        let caller = Caller { rest_admin: false, policy: &policy, hasher: &no_hash };
        let mut c = SecurityConfig::default();
        c.action_groups.insert("g1".into(), ActionGroup { allowed_actions: vec!["x:y".into()], ..Default::default() });
        for ops_list in requests {
            let body = serde_json::to_vec(&ops_list).unwrap();
            let result = if one {
                ops::patch_one::<ActionGroup>(&c, "g1", &body, &caller)
            } else {
                ops::patch_all::<ActionGroup>(&c, &body, &caller)
            };
            if let Ok(changed) = result {
                assert_valid(&changed.config);
                c = changed.config;
            }
        }
    }
}

// ---------------------------------------------------------------- YAML

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 _:*#'\"/.-]{1,12}"
}

fn full_config() -> impl Strategy<Value = SecurityConfig> {
    let users = prop::collection::btree_map(
        text(),
        (
            list(3),
            prop::collection::btree_map(text(), text(), 0..3),
            any::<bool>(),
        ),
        0..4,
    );
    let roles = prop::collection::btree_map(text(), (list(3), prop::option::of(text())), 0..4);
    let mappings = prop::collection::btree_map(text(), (list(2), list(2), list(2), list(2)), 0..3);
    let tenants = prop::collection::btree_map(text(), prop::option::of(text()), 0..3);
    (users, roles, mappings, tenants).prop_map(|(users, roles, mappings, tenants)| {
        let mut c = SecurityConfig::default();
        for (name, (backend_roles, attributes, reserved)) in users {
            c.internal_users.insert(
                name,
                InternalUser {
                    hash: "$2y$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW".into(),
                    backend_roles,
                    attributes,
                    reserved,
                    ..Default::default()
                },
            );
        }
        for (name, (perms, description)) in roles {
            c.roles.insert(
                name,
                Role {
                    cluster_permissions: perms,
                    description,
                    ..Default::default()
                },
            );
        }
        for (name, (users, backend_roles, and_backend_roles, hosts)) in mappings {
            c.roles_mapping.insert(
                name,
                RoleMapping {
                    users,
                    backend_roles,
                    and_backend_roles,
                    hosts,
                    ..Default::default()
                },
            );
        }
        for (name, description) in tenants {
            c.tenants.insert(
                name,
                Tenant {
                    description,
                    ..Default::default()
                },
            );
        }
        c
    })
}

proptest! {
    #[test]
    fn every_configuration_survives_a_yaml_round_trip(c in full_config()) {
        let mut again = SecurityConfig::default();
        for ty in ConfigType::ALL {
            again.load_yaml(ty, &c.to_yaml(ty)).unwrap();
        }
        prop_assert_eq!(again, c);
    }
}
