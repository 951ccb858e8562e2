//! One authorization decision against a large configuration (1,000 roles,
//! 100 action groups, 10,000 permission patterns), and the cost of
//! compiling that configuration. Run with `cargo xtask bench authz`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rbac_model::model::{ActionGroup, Role, RoleMapping, SecurityConfig};
use rbac_model::settings::RolesMappingResolution;
use rbac_model::{Evaluator, Subject};

const ROLES: usize = 1_000;
const GROUPS: usize = 100;
const PATTERNS: usize = 10_000;

/// 100 groups of 20 actions (some nesting), 1,000 roles of 8 patterns
/// (wildcards, exact actions and groups): 10,000 patterns in all. Every
/// role is mapped by a backend role; a few also by user-name wildcards.
fn big_config() -> SecurityConfig {
    let mut c = SecurityConfig::default();
    for g in 0..GROUPS {
        let mut actions: Vec<String> = (0..20)
            .map(|a| format!("cluster:admin/app{g}/action{a}"))
            .collect();
        if g > 0 {
            actions[0] = format!("group{}", g - 1);
        }
        c.action_groups.insert(
            format!("group{g}"),
            ActionGroup {
                allowed_actions: actions,
                group_type: Some("cluster".into()),
                ..Default::default()
            },
        );
    }
    for r in 0..ROLES {
        let perms = vec![
            format!("cluster:monitor/app{r}/*"),
            format!("indices:data/read/app{r}*"),
            format!("cluster:admin/app{r}/exact"),
            format!("cluster:admin/app{r}/?ead"),
            format!("group{}", r % GROUPS),
            format!("cluster:admin/other{r}/a"),
            format!("cluster:admin/other{r}/b"),
            format!("cluster:admin/other{r}/c*"),
        ];
        c.roles.insert(
            format!("role{r}"),
            Role {
                cluster_permissions: perms,
                ..Default::default()
            },
        );
        c.roles_mapping.insert(
            format!("role{r}"),
            RoleMapping {
                backend_roles: vec![format!("team{}", r % 200)],
                users: if r % 100 == 0 {
                    vec![format!("svc{r}*")]
                } else {
                    Vec::new()
                },
                ..Default::default()
            },
        );
    }
    let patterns: usize = c
        .roles
        .values()
        .map(|r| r.cluster_permissions.len())
        .sum::<usize>()
        + c.action_groups
            .values()
            .map(|g| g.allowed_actions.len())
            .sum::<usize>();
    assert_eq!(patterns, PATTERNS);
    c
}

const KNOWN: &[&str] = &[
    "cluster:admin/keyward/encryption/rotate",
    "cluster:admin/keyward/tls/reload",
    "restapi:admin/roles",
];

fn bench(c: &mut Criterion) {
    let config = big_config();
    let ev = Evaluator::compile(&config, RolesMappingResolution::MappingOnly, KNOWN);
    let backend = vec!["team7".to_string(), "team42".to_string()];
    let subject = Subject {
        name: "alice",
        backend_roles: &backend,
        direct_roles: &[],
        address: None,
    };

    c.bench_function("decision: map roles + precomputed action", |b| {
        b.iter(|| {
            let roles = ev.map_roles(black_box(&subject));
            black_box(ev.allows(&roles, black_box("cluster:admin/keyward/tls/reload")))
        })
    });
    c.bench_function(
        "decision: map roles + pattern scan (action not precomputed)",
        |b| {
            b.iter(|| {
                let roles = ev.map_roles(black_box(&subject));
                black_box(ev.allows(&roles, black_box("cluster:admin/app7/action3")))
            })
        },
    );
    let roles = ev.map_roles(&subject);
    c.bench_function("decision: roles already mapped, precomputed action", |b| {
        b.iter(|| {
            black_box(ev.allows(
                black_box(&roles),
                black_box("cluster:admin/keyward/tls/reload"),
            ))
        })
    });
    let mut group = c.benchmark_group("recompile");
    group.sample_size(10);
    group.bench_function("compile 1,000 roles / 100 groups / 10,000 patterns", |b| {
        b.iter(|| {
            black_box(Evaluator::compile(
                black_box(&config),
                RolesMappingResolution::MappingOnly,
                KNOWN,
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
