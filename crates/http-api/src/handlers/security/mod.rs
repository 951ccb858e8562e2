//! The OpenSearch Security plugin's REST API: routes and the helpers its
//! handlers share (who is calling, REST admin, making a change, answering).

mod account;
mod documents;
mod info;
mod resources;
mod securityadmin;

use std::sync::Arc;

use http::StatusCode;
use rbac_model::model::{ActionGroup, Entity, InternalUser, NodesDn, Role, RoleMapping, Tenant};
use rbac_model::ops::{Caller, Change, Changed};
use rbac_model::{Endpoint, RoleSet, SecurityConfig};

use audit_config::{AuditTopic, ComplianceAction};
use rbac_model::ConfigType;

use crate::audit::{self, changed_names};
use crate::ctx::{Body, Ctx};
use crate::family::opensearch;
use crate::route::{Admin, Feature, GET, GET_POST, Permission, Table, handler};
use crate::security::Snapshot;

/// The permission of `whoamiprotected`.
pub(crate) const WHOAMI_PROTECTED: &str = "cluster:admin/opendistro_security/whoamiprotected";

const GET_PUT: &[http::Method] = &[http::Method::GET, http::Method::PUT];
const GET_PATCH: &[http::Method] = &[http::Method::GET, http::Method::PATCH];
const GET_PUT_PATCH: &[http::Method] = &[http::Method::GET, http::Method::PUT, http::Method::PATCH];
const PUT: &[http::Method] = &[http::Method::PUT];
const PATCH: &[http::Method] = &[http::Method::PATCH];
const DELETE: &[http::Method] = &[http::Method::DELETE];
const DELETE_PUT: &[http::Method] = &[http::Method::DELETE, http::Method::PUT];

/// Registers the CRUD routes of one resource under `base` (and, if given,
/// the legacy singular name, which has no PATCH).
fn crud<T: rbac_model::ops::Rules>(
    t: &mut Table,
    base: &str,
    legacy: Option<&str>,
    endpoint: Endpoint,
    admin: Admin,
    summary: &'static str,
) {
    let p = Permission::SecurityApi(endpoint, admin);
    let one = |b: &str| format!("{b}/{{name}}");
    for (path, with_patch) in std::iter::once((base, true)).chain(legacy.map(|l| (l, false))) {
        t.add_opensearch(GET, path, p, summary, handler(resources::get_all::<T>));
        if T::TYPE == InternalUser::TYPE {
            t.with_query(&["filterBy"]);
        }
        t.add_opensearch(
            GET,
            &one(path),
            p,
            summary,
            handler(resources::get_one::<T>),
        );
        t.add_opensearch(PUT, &one(path), p, summary, handler(resources::put::<T>));
        t.add_opensearch(
            DELETE,
            &one(path),
            p,
            summary,
            handler(resources::delete::<T>),
        );
        if with_patch {
            t.add_opensearch(PATCH, path, p, summary, handler(resources::patch_all::<T>));
            t.add_opensearch(
                PATCH,
                &one(path),
                p,
                summary,
                handler(resources::patch_one::<T>),
            );
        }
    }
}

/// Every route of the plugin's REST API.
pub(crate) fn routes(t: &mut Table) {
    use Endpoint as E;
    crud::<InternalUser>(
        t,
        "/api/internalusers",
        Some("/api/user"),
        E::InternalUsers,
        Admin::No,
        "Internal users: GET all or one, PUT create-or-replace, DELETE, PATCH one or the collection",
    );
    crud::<Role>(
        t,
        "/api/roles",
        None,
        E::Roles,
        Admin::No,
        "Roles: cluster, index and tenant permissions",
    );
    crud::<RoleMapping>(
        t,
        "/api/rolesmapping",
        None,
        E::RolesMapping,
        Admin::No,
        "Role mappings: which users, backend roles and hosts get a role",
    );
    crud::<ActionGroup>(
        t,
        "/api/actiongroups",
        Some("/api/actiongroup"),
        E::ActionGroups,
        Admin::No,
        "Action groups: named sets of actions and other groups",
    );
    crud::<Tenant>(
        t,
        "/api/tenants",
        None,
        E::Tenants,
        Admin::No,
        "Dashboards tenants",
    );
    nodes_dn(t);

    let auth = Permission::Authenticated;
    t.add_opensearch(
        GET_PUT,
        "/api/account",
        auth,
        "The caller's account; PUT changes its own password (with current_password)",
        handler(account::account),
    );
    t.add_opensearch(GET, "/api/permissionsinfo", auth,
        "Whether the caller may use the REST API, and which endpoints and methods are disabled for it",
        handler(info::permissions_info));
    t.add_opensearch(
        GET_POST,
        "/authinfo",
        auth,
        "Who the caller is: user, backend roles, security roles, tenants",
        handler(info::authinfo),
    );
    t.with_query(&["verbose", "auth_type"]);
    t.add_plugins_only(
        GET_POST,
        "/whoami",
        Permission::Open,
        "The client certificate's DN and whether it is an admin certificate",
        handler(info::whoami),
    );
    t.add_plugins_only(
        GET,
        "/whoamiprotected",
        Permission::Cluster(WHOAMI_PROTECTED),
        "whoami behind the cluster permission cluster:admin/opendistro_security/whoamiprotected",
        handler(info::whoami),
    );
    t.add_plugins_only(
        GET_POST,
        "/dashboardsinfo",
        auth,
        "What OpenSearch Dashboards needs: multitenancy settings and the password rules to show",
        handler(info::dashboards_info),
    );

    let config = Permission::SecurityApi(E::Config, Admin::No);
    let config_update = Permission::SecurityApi(E::Config, Admin::ConfigUpdate);
    t.add_opensearch(
        GET,
        "/api/securityconfig",
        config,
        "The security configuration (config.dynamic)",
        handler(documents::get_security_config),
    );
    t.add_opensearch(
        PATCH,
        "/api/securityconfig",
        config_update,
        "Patch the security configuration (needs allow_securityconfig_modification or REST admin)",
        handler(documents::patch_security_config),
    );
    t.add_opensearch(PUT, "/api/securityconfig/config", config_update,
        "Replace the security configuration (needs allow_securityconfig_modification or REST admin)",
        handler(documents::put_security_config));
    t.add_opensearch(
        GET_PUT,
        "/api/tenancy/config",
        Permission::SecurityApi(E::Tenants, Admin::No),
        "Dashboards multitenancy settings",
        handler(documents::tenancy_config),
    );
    t.add_plugins_only(
        GET_PUT_PATCH,
        "/api/allowlist",
        Permission::SecurityApi(E::Allowlist, Admin::RestAdmin),
        "The allowlist of paths and methods (REST admin only)",
        handler(documents::allowlist),
    );
    // PUT too: opensearch-py's `cache()` sends PUT, which the plugin refuses.
    t.add_opensearch(
        DELETE_PUT,
        "/api/cache",
        Permission::SecurityApi(E::Cache, Admin::No),
        "Flush the authentication cache (DELETE; PUT as opensearch-py's cache() sends it)",
        handler(info::flush_cache),
    );
    t.add_plugins_only(
        DELETE,
        "/api/cache/user/{username}",
        Permission::SecurityApi(E::Cache, Admin::No),
        "Evict one user's cached logins",
        handler(info::flush_user),
    );
    t.add_plugins_only(GET_PUT, "/api/securityadmin/{config_type}", Permission::SecurityApi(E::Config, Admin::Superuser),
        "keyward securityadmin: read or replace a whole configuration type, hashes included (admin certificate or root token only)",
        handler(securityadmin::document));
}

fn nodes_dn(t: &mut Table) {
    let p = Permission::SecurityApi(Endpoint::NodesDn, Admin::RestAdmin);
    let summary =
        "Nodes DN of remote clusters (with nodes_dn_dynamic_config_enabled; REST admin only)";
    t.add_opensearch(
        GET_PATCH,
        "/api/nodesdn",
        p,
        summary,
        handler(resources::collection::<NodesDn>),
    );
    t.with_query(&["show_all"]);
    t.with_feature(Feature::NodesDn);
    let all: &'static [http::Method] = &[
        http::Method::GET,
        http::Method::PUT,
        http::Method::DELETE,
        http::Method::PATCH,
    ];
    t.add_opensearch(
        all,
        "/api/nodesdn/{name}",
        p,
        summary,
        handler(resources::entity::<NodesDn>),
    );
    t.with_feature(Feature::NodesDn);
}

/// The caller's snapshot and security roles.
pub(crate) fn caller(ctx: &Ctx) -> (Arc<Snapshot>, RoleSet) {
    let snapshot = ctx.state.security.current();
    let roles = match &ctx.principal {
        Some(p) => snapshot.roles_of(p, ctx.conn.remote_addr.map(|a| a.ip())),
        None => RoleSet::default(),
    };
    (snapshot, roles)
}

/// Whether the caller is REST admin for `endpoint`.
pub(crate) fn rest_admin(ctx: &Ctx, endpoint: Endpoint) -> bool {
    let Some(p) = &ctx.principal else {
        return false;
    };
    let (snapshot, roles) = caller(ctx);
    ctx.state
        .security
        .is_rest_admin(&snapshot, p, &roles, endpoint.rest_admin_permission())
}

/// True when the request asks for `?name` (any value but `false`).
pub(crate) fn flag(ctx: &Ctx, name: &str) -> bool {
    query(ctx, name).is_some_and(|v| v != "false")
}

/// A query parameter's value (`""` when given without one).
pub(crate) fn query<'a>(ctx: &'a Ctx, name: &str) -> Option<&'a str> {
    ctx.uri.query().and_then(|q| {
        q.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k == name).then_some(v)
        })
    })
}

/// A JSON answer, pretty with `?pretty`.
pub(crate) fn json(
    ctx: &Ctx,
    status: StatusCode,
    value: &serde_json::Value,
) -> http::Response<Body> {
    opensearch::json(status, value, flag(ctx, "pretty"))
}

/// The answer to a successful change.
pub(crate) fn changed(ctx: &Ctx, change: &Change) -> http::Response<Body> {
    let status = match change {
        Change::Created(_) => StatusCode::CREATED,
        _ => StatusCode::OK,
    };
    opensearch::status_message_pretty(status, &change.message(), flag(ctx, "pretty"))
}

/// Makes one change: under the write lock, `f` runs on the current
/// configuration off the async workers (it may hash passwords); a result
/// other than "No updates required" is persisted and swapped in before the
/// answer, and a change to any user flushes the authentication cache.
pub(crate) async fn change<F>(ctx: &Ctx, rest_admin: bool, f: F) -> http::Response<Body>
where
    F: FnOnce(&SecurityConfig, &Caller<'_>) -> Result<Changed, rbac_model::Error> + Send + 'static,
{
    match apply(ctx, rest_admin, f).await {
        Ok(change) => changed(ctx, &change),
        Err(resp) => resp,
    }
}

/// [`change`] without the answer: the change made, or the refusal.
pub(crate) async fn apply<F>(
    ctx: &Ctx,
    rest_admin: bool,
    f: F,
) -> Result<Change, http::Response<Body>>
where
    F: FnOnce(&SecurityConfig, &Caller<'_>) -> Result<Changed, rbac_model::Error> + Send + 'static,
{
    let state = ctx.state.clone();
    let _guard = state.security.write_lock.lock().await;
    let current = state.security.current();
    let worker_state = state.clone();
    let worker_config = current.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let hasher_state = worker_state.clone();
        let hasher = move |pw: &secrecy::SecretString| hasher_state.security.hash_password(pw);
        let caller = Caller {
            rest_admin,
            policy: &worker_state.security.policy,
            hasher: &hasher,
        };
        f(&worker_config.config, &caller)
    })
    .await;
    let changed = match outcome {
        Ok(Ok(changed)) => changed,
        Ok(Err(e)) => return Err(opensearch::render_error(&e)),
        Err(e) => {
            tracing::error!(target: "keyward::security", error = %e, "a configuration change panicked");
            return Err(opensearch::status_message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Error the change could not be made",
            ));
        }
    };
    if changed.change != Change::NoUpdates {
        commit(ctx, &current.config, changed.config).await?;
    }
    Ok(changed.change)
}

/// Persists and swaps in `new`; flushes cached logins when users changed;
/// audits what changed (the names, by configuration type).
pub(crate) async fn commit(
    ctx: &Ctx,
    old: &SecurityConfig,
    new: SecurityConfig,
) -> Result<(), http::Response<Body>> {
    let state = &ctx.state;
    let users_changed = old.internal_users != new.internal_users;
    let changes = config_changes(old, &new);
    match state.security.commit(&state.barrier, new).await {
        Ok(snapshot) => {
            for (ty, names) in changes {
                audit::changed(
                    ctx,
                    AuditTopic::Database,
                    ComplianceAction::Update,
                    ty.as_str(),
                    names,
                );
            }
            if users_changed {
                state.auth.flush_cache();
            }
            state
                .auth
                .failures
                .configure(&snapshot.config.dynamic.auth_failure_listeners);
            Ok(())
        }
        Err(e) => {
            tracing::error!(target: "keyward::security", error = %e, "storing the security configuration failed");
            Err(opensearch::status_message(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("Error {e}"),
            ))
        }
    }
}

/// The configuration types a change touched, each with the names of the
/// entities that differ (none for the single documents).
fn config_changes(old: &SecurityConfig, new: &SecurityConfig) -> Vec<(ConfigType, Vec<String>)> {
    let mut out = vec![
        (
            ConfigType::InternalUsers,
            changed_names(&old.internal_users, &new.internal_users),
        ),
        (ConfigType::Roles, changed_names(&old.roles, &new.roles)),
        (
            ConfigType::RolesMapping,
            changed_names(&old.roles_mapping, &new.roles_mapping),
        ),
        (
            ConfigType::ActionGroups,
            changed_names(&old.action_groups, &new.action_groups),
        ),
        (
            ConfigType::Tenants,
            changed_names(&old.tenants, &new.tenants),
        ),
        (
            ConfigType::NodesDn,
            changed_names(&old.nodes_dn, &new.nodes_dn),
        ),
    ];
    out.retain(|(_, names)| !names.is_empty());
    if old.allowlist != new.allowlist {
        out.push((ConfigType::Allowlist, Vec::new()));
    }
    if old.dynamic != new.dynamic {
        out.push((ConfigType::Config, Vec::new()));
    }
    out
}
