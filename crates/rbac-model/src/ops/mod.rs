//! Changes to the configuration as the REST API makes them: each takes the
//! current [`SecurityConfig`], the request and the caller, and returns the
//! new configuration (or the plugin's refusal). Nothing here is stored: the
//! caller persists the result and swaps it in, so a refused or failed change
//! changes nothing.

mod documents;
mod patch;
mod rules;

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde_json::{Map, Value};

pub use documents::{
    change_own_password, patch_allowlist, patch_security_config, put_allowlist,
    put_security_config, put_tenancy_config,
};
pub use patch::{SUPPORTED_OPERATIONS, apply as apply_patch, parse_patch};
pub use rules::{Rules, STATIC_NODES_DN, check_mutable};

use crate::json::{omit_defaults, parse_strict};
use crate::model::{Entity, InternalUser, SecurityConfig};
use crate::validate::{PasswordCheck, validate};
use crate::{Error, PasswordPolicy};

/// The longest entity name.
pub const MAX_NAME_LENGTH: usize = 256;

/// Hashes a new password (bcrypt with the configured cost).
pub type Hasher = dyn Fn(&SecretString) -> Result<String, Error> + Send + Sync;

/// Who makes a change, as the rules need to know.
pub struct Caller<'a> {
    /// REST admin for the endpoint: may see hidden entities, change reserved
    /// ones and send `hidden`/`reserved`.
    pub rest_admin: bool,
    /// The password rules.
    pub policy: &'a PasswordPolicy,
    /// How new passwords are hashed.
    pub hasher: &'a Hasher,
}

/// What a successful change did; its message is the plugin's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// 201 `'<name>' created.`
    Created(String),
    /// 200 `'<name>' updated.`
    Updated(String),
    /// 200 `'<name>' deleted.`
    Deleted(String),
    /// 200 `Resource updated.` (a collection patch).
    ResourceUpdated,
    /// 200 `No updates required` (nothing written).
    NoUpdates,
}

impl Change {
    /// The `message` of the answer.
    pub fn message(&self) -> String {
        match self {
            Change::Created(n) => format!("'{n}' created."),
            Change::Updated(n) => format!("'{n}' updated."),
            Change::Deleted(n) => format!("'{n}' deleted."),
            Change::ResourceUpdated => "Resource updated.".into(),
            Change::NoUpdates => "No updates required".into(),
        }
    }
}

/// The outcome of a change: the configuration to store, and what changed.
#[derive(Debug)]
pub struct Changed {
    /// The whole new configuration (unchanged for [`Change::NoUpdates`]).
    pub config: SecurityConfig,
    /// What happened.
    pub change: Change,
}

fn check_name<T: Entity>(name: &str) -> Result<(), Error> {
    if name.chars().count() > MAX_NAME_LENGTH {
        return Err(Error::BadRequest(format!(
            "{} name exceeds maximum length of {MAX_NAME_LENGTH}.",
            T::TYPE.resource_name()
        )));
    }
    Ok(())
}

fn not_found<T: Entity>(name: &str) -> Error {
    Error::NotFound(format!("{} '{name}' not found.", T::TYPE.resource_name()))
}

/// An entity by name, with whether it is static.
fn lookup<'a, T: Entity>(config: &'a SecurityConfig, name: &str) -> Option<(&'a T, bool)> {
    T::map(config)
        .get(name)
        .map(|e| (e, false))
        .or_else(|| T::statics().get(name).map(|e| (e, true)))
}

/// `GET P/<res>`: every visible entity, static ones included.
pub fn get_all<T: Entity>(config: &SecurityConfig, rest_admin: bool) -> Value {
    let mut out = Map::new();
    for (name, e) in T::statics() {
        out.insert(name.clone(), e.to_api(true));
    }
    for (name, e) in T::map(config) {
        if T::statics().contains_key(name) || (e.hidden() && !rest_admin) {
            continue;
        }
        out.insert(name.clone(), e.to_api(false));
    }
    Value::Object(out)
}

/// `GET P/<res>/{name}`.
pub fn get_one<T: Entity>(
    config: &SecurityConfig,
    name: &str,
    rest_admin: bool,
) -> Result<Value, Error> {
    let Some((e, is_static)) = lookup::<T>(config, name) else {
        return Err(not_found::<T>(name));
    };
    if e.hidden() && !rest_admin {
        return Err(Error::NotFound(format!(
            "Resource '{name}' is not available."
        )));
    }
    let mut out = Map::new();
    out.insert(name.to_string(), e.to_api(is_static));
    Ok(Value::Object(out))
}

fn password_check<'a, T: Entity>(
    caller: &'a Caller<'a>,
    name: &'a str,
) -> Option<PasswordCheck<'a>> {
    (T::TYPE == InternalUser::TYPE).then_some(PasswordCheck {
        policy: caller.policy,
        username: name,
    })
}

/// Reads validated content into an entity; a `password` is taken out.
fn parse_entity<T: Entity>(mut content: Value) -> Result<(T, Option<SecretString>), Error> {
    let password = content
        .as_object_mut()
        .and_then(|m| m.remove("password"))
        .and_then(|v| v.as_str().map(|s| SecretString::from(s.to_string())));
    let entity = serde_json::from_value(content).map_err(|e| Error::Malformed(e.to_string()))?;
    Ok((entity, password))
}

/// Validates, checks and completes one new or changed entity.
fn build<T: Rules>(
    config: &SecurityConfig,
    name: &str,
    content: Value,
    caller: &Caller<'_>,
) -> Result<T, Error> {
    validate(
        &content,
        &T::SCHEMA,
        caller.rest_admin,
        password_check::<T>(caller, name),
    )?;
    let existing = T::map(config).get(name);
    let (mut entity, password) = parse_entity::<T>(content)?;
    T::check(name, &entity, existing, config, caller)?;
    T::finish(name, &mut entity, password, existing, caller)?;
    Ok(entity)
}

/// `PUT P/<res>/{name}`: create or replace.
pub fn put<T: Rules>(
    config: &SecurityConfig,
    name: &str,
    body: &[u8],
    caller: &Caller<'_>,
) -> Result<Changed, Error> {
    check_name::<T>(name)?;
    let content = parse_strict(body)?;
    validate(
        &content,
        &T::SCHEMA,
        caller.rest_admin,
        password_check::<T>(caller, name),
    )?;
    check_mutable::<T>(config, name, caller)?;
    let entity = build::<T>(config, name, content, caller)?;
    let existed = T::map(config).contains_key(name);
    let mut new = config.clone();
    T::map_mut(&mut new).insert(name.to_string(), entity);
    let change = if existed {
        Change::Updated(name.to_string())
    } else {
        Change::Created(name.to_string())
    };
    Ok(Changed {
        config: new,
        change,
    })
}

/// `DELETE P/<res>/{name}`.
pub fn delete<T: Rules>(
    config: &SecurityConfig,
    name: &str,
    caller: &Caller<'_>,
) -> Result<Changed, Error> {
    check_mutable::<T>(config, name, caller)?;
    let Some(existing) = T::map(config).get(name) else {
        return Err(not_found::<T>(name));
    };
    T::check_delete(name, existing, config)?;
    let mut new = config.clone();
    T::map_mut(&mut new).remove(name);
    Ok(Changed {
        config: new,
        change: Change::Deleted(name.to_string()),
    })
}

/// The stored form of an entity with the plugin's defaults left out: what
/// a patch is applied to.
fn patch_base<T: Entity>(e: &T) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
    omit_defaults(&mut v);
    v
}

/// `PATCH P/<res>/{name}`.
pub fn patch_one<T: Rules>(
    config: &SecurityConfig,
    name: &str,
    body: &[u8],
    caller: &Caller<'_>,
) -> Result<Changed, Error> {
    check_mutable::<T>(config, name, caller)?;
    let Some(existing) = T::map(config).get(name) else {
        return Err(not_found::<T>(name));
    };
    let ops = parse_patch(body)?;
    let base = patch_base(existing);
    let patched = apply_patch(&base, &ops)?;
    if patched == base {
        return Ok(Changed {
            config: config.clone(),
            change: Change::NoUpdates,
        });
    }
    let entity = build::<T>(config, name, patched, caller)?;
    let mut new = config.clone();
    T::map_mut(&mut new).insert(name.to_string(), entity);
    Ok(Changed {
        config: new,
        change: Change::Updated(name.to_string()),
    })
}

/// `PATCH P/<res>`: the patch applies to the whole collection (paths begin
/// with the entity name). Every created, changed or removed entity is
/// checked as its own PUT or DELETE would be; the first refusal refuses all.
pub fn patch_all<T: Rules>(
    config: &SecurityConfig,
    body: &[u8],
    caller: &Caller<'_>,
) -> Result<Changed, Error> {
    let ops = parse_patch(body)?;
    let mut base = Map::new();
    for (name, e) in T::statics().iter().chain(T::map(config)) {
        base.insert(name.clone(), patch_base(e));
    }
    let base = Value::Object(base);
    let patched = apply_patch(&base, &ops)?;
    let Value::Object(after) = &patched else {
        return Err(Error::BadRequest("Wrong request body".into()));
    };
    let Value::Object(before) = &base else {
        return Ok(Changed {
            config: config.clone(),
            change: Change::NoUpdates,
        });
    };
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    let changed: Vec<&String> = names
        .into_iter()
        .filter(|n| before.get(*n) != after.get(*n))
        .collect();
    if changed.is_empty() {
        return Ok(Changed {
            config: config.clone(),
            change: Change::NoUpdates,
        });
    }
    let mut entities: BTreeMap<String, T> = T::map(config).clone();
    for name in changed {
        if before.contains_key(name) {
            check_mutable::<T>(config, name, caller)?;
        }
        match after.get(name) {
            None => {
                if let Some(existing) = T::map(config).get(name) {
                    T::check_delete(name, existing, config)?;
                }
                entities.remove(name);
            }
            Some(content) => {
                check_name::<T>(name)?;
                let entity = build::<T>(config, name, content.clone(), caller)?;
                entities.insert(name.clone(), entity);
            }
        }
    }
    let mut new = config.clone();
    *T::map_mut(&mut new) = entities;
    Ok(Changed {
        config: new,
        change: Change::ResourceUpdated,
    })
}
