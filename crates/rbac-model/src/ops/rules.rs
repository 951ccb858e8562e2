//! What each resource checks beyond its body schema, in the plugin's words.

use std::collections::HashSet;

use secrecy::SecretString;

use super::Caller;
use crate::model::{
    ActionGroup, Entity, InternalUser, NodesDn, Role, RoleMapping, SecurityConfig, Tenant,
};
use crate::{Error, PasswordHash};

/// The name the plugin reserves for the static nodes DN.
pub const STATIC_NODES_DN: &str = "STATIC_OPENSEARCH_YML_NODES_DN";

fn contains_rest_admin(perms: &[String]) -> bool {
    perms.iter().any(|p| p.starts_with("restapi:admin/"))
}

fn access_denied() -> Error {
    Error::Forbidden("Access denied".into())
}

/// Resource-specific checks and completion.
pub trait Rules: Entity {
    /// Checks a new or changed entity against the configuration.
    fn check(
        _name: &str,
        _new: &Self,
        _existing: Option<&Self>,
        _config: &SecurityConfig,
        _caller: &Caller<'_>,
    ) -> Result<(), Error> {
        Ok(())
    }

    /// Checks a deletion.
    fn check_delete(_name: &str, _existing: &Self, _config: &SecurityConfig) -> Result<(), Error> {
        Ok(())
    }

    /// Completes a checked entity (users: the password becomes a hash).
    fn finish(
        _name: &str,
        _entity: &mut Self,
        _password: Option<SecretString>,
        _existing: Option<&Self>,
        _caller: &Caller<'_>,
    ) -> Result<(), Error> {
        Ok(())
    }
}

/// Immutability of an existing entity: static for everyone (keyward never
/// stores over a static entity), hidden and reserved for all but REST admins.
pub fn check_mutable<T: Entity>(
    config: &SecurityConfig,
    name: &str,
    caller: &Caller<'_>,
) -> Result<(), Error> {
    let existing = T::map(config).get(name);
    if !caller.rest_admin && existing.is_some_and(Entity::hidden) {
        return Err(Error::NotFound(format!(
            "Resource '{name}' is not available."
        )));
    }
    if T::statics().contains_key(name) {
        return Err(Error::Forbidden(format!("Resource '{name}' is static.")));
    }
    if !caller.rest_admin && existing.is_some_and(Entity::reserved) {
        return Err(Error::Forbidden(format!("Resource '{name}' is reserved.")));
    }
    Ok(())
}

impl Rules for InternalUser {
    fn check(
        name: &str,
        new: &Self,
        _existing: Option<&Self>,
        config: &SecurityConfig,
        caller: &Caller<'_>,
    ) -> Result<(), Error> {
        for role in &new.opendistro_security_roles {
            if config.role(role).is_none() {
                return Err(Error::NotFound(format!("role '{role}' not found.")));
            }
            check_mutable::<Role>(config, role, caller)?;
            check_mutable::<RoleMapping>(config, role, caller)?;
        }
        if name.contains(':') {
            return Err(Error::BadRequest(
                "A restricted character(s) was detected in the account name. Please remove: ':'"
                    .into(),
            ));
        }
        Ok(())
    }

    fn finish(
        name: &str,
        entity: &mut Self,
        password: Option<SecretString>,
        existing: Option<&Self>,
        caller: &Caller<'_>,
    ) -> Result<(), Error> {
        if let Some(pw) = password {
            entity.hash = (caller.hasher)(&pw)?;
        } else if !entity.hash.is_empty() {
            PasswordHash::from_stored(entity.hash.clone()).map_err(|_| {
                Error::BadRequest(
                    "The hash is not a bcrypt hash ($2a$, $2b$ or $2y$): keyward could never verify it."
                        .into(),
                )
            })?;
        } else if let Some(old) = existing {
            if old.hash.is_empty() {
                return Err(Error::BadRequest(format!(
                    "Existing user {name} has no password, and no new password or hash was specified."
                )));
            }
            entity.hash = old.hash.clone();
        } else {
            return Err(Error::BadRequest(
                "Please specify either 'hash' or 'password' when creating a new internal user."
                    .into(),
            ));
        }
        Ok(())
    }
}

impl Rules for Role {
    fn check(
        _name: &str,
        new: &Self,
        existing: Option<&Self>,
        _config: &SecurityConfig,
        _caller: &Caller<'_>,
    ) -> Result<(), Error> {
        if contains_rest_admin(&new.cluster_permissions)
            || existing.is_some_and(|e| contains_rest_admin(&e.cluster_permissions))
        {
            return Err(access_denied());
        }
        Ok(())
    }

    fn check_delete(_name: &str, existing: &Self, _config: &SecurityConfig) -> Result<(), Error> {
        if contains_rest_admin(&existing.cluster_permissions) {
            return Err(access_denied());
        }
        Ok(())
    }
}

fn role_grants_rest_admin(config: &SecurityConfig, role: &str) -> bool {
    config
        .role(role)
        .is_some_and(|r| contains_rest_admin(&r.cluster_permissions))
}

impl Rules for RoleMapping {
    fn check(
        name: &str,
        _new: &Self,
        _existing: Option<&Self>,
        config: &SecurityConfig,
        caller: &Caller<'_>,
    ) -> Result<(), Error> {
        let Some(role) = config.role(name) else {
            return Err(Error::NotFound(format!("role '{name}' not found.")));
        };
        if role.hidden && !caller.rest_admin {
            return Err(Error::NotFound(format!(
                "Resource '{name}' is not available."
            )));
        }
        if role_grants_rest_admin(config, name) {
            return Err(access_denied());
        }
        Ok(())
    }

    fn check_delete(name: &str, _existing: &Self, config: &SecurityConfig) -> Result<(), Error> {
        if role_grants_rest_admin(config, name) {
            return Err(access_denied());
        }
        Ok(())
    }
}

/// True when following groups from `start` in `config` comes back to it.
fn forms_cycle(config: &SecurityConfig, start: &str, group: &ActionGroup) -> bool {
    let mut seen = HashSet::new();
    let mut stack: Vec<&str> = group.allowed_actions.iter().map(String::as_str).collect();
    while let Some(name) = stack.pop() {
        if name == start {
            return true;
        }
        if !seen.insert(name) {
            continue;
        }
        if let Some(g) = config.action_group(name) {
            stack.extend(g.allowed_actions.iter().map(String::as_str));
        }
    }
    false
}

impl Rules for ActionGroup {
    fn check(
        name: &str,
        new: &Self,
        existing: Option<&Self>,
        config: &SecurityConfig,
        _caller: &Caller<'_>,
    ) -> Result<(), Error> {
        if let Some(t) = &new.group_type
            && !t.eq_ignore_ascii_case("cluster")
            && !t.eq_ignore_ascii_case("index")
        {
            return Err(Error::BadRequest(format!(
                "Invalid action group type: {t}. Supported types are: cluster, index."
            )));
        }
        if config.role(name).is_some() {
            return Err(Error::BadRequest(format!(
                "{name} is an existing role. A action group cannot be named with an existing role name."
            )));
        }
        if new.allowed_actions.iter().any(|a| a == name) {
            return Err(Error::BadRequest(format!(
                "{name} cannot be an allowed_action of itself"
            )));
        }
        if forms_cycle(config, name, new) {
            return Err(Error::BadRequest(format!(
                "{name} would be part of a cycle of action groups: a group cannot contain itself through other groups"
            )));
        }
        if contains_rest_admin(&new.allowed_actions)
            || existing.is_some_and(|e| contains_rest_admin(&e.allowed_actions))
        {
            return Err(access_denied());
        }
        Ok(())
    }

    fn check_delete(_name: &str, existing: &Self, _config: &SecurityConfig) -> Result<(), Error> {
        if contains_rest_admin(&existing.allowed_actions) {
            return Err(access_denied());
        }
        Ok(())
    }
}

impl Rules for Tenant {}

impl Rules for NodesDn {
    fn check(
        name: &str,
        _new: &Self,
        _existing: Option<&Self>,
        _config: &SecurityConfig,
        _caller: &Caller<'_>,
    ) -> Result<(), Error> {
        if name == STATIC_NODES_DN {
            return Err(Error::Forbidden(format!("Resource '{name}' is read-only.")));
        }
        Ok(())
    }

    fn check_delete(name: &str, _existing: &Self, _config: &SecurityConfig) -> Result<(), Error> {
        if name == STATIC_NODES_DN {
            return Err(Error::Forbidden(format!("Resource '{name}' is read-only.")));
        }
        Ok(())
    }
}
