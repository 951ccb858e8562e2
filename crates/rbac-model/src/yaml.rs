//! The plugin's YAML files (`internal_users.yml`, `roles.yml`, ...), each
//! with its `_meta` header, in and out of a [`SecurityConfig`]; and the same
//! documents as JSON, as securityadmin moves them.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::Error;
use crate::model::{Allowlist, ConfigType, DynamicConfig, SecurityConfig};

/// The configuration format version keyward reads and writes.
pub const CONFIG_VERSION: u64 = 2;

fn file_error(ty: ConfigType, reason: impl Into<String>) -> Error {
    Error::File {
        file: ty.file_name().to_string(),
        reason: reason.into(),
    }
}

fn entities<T: DeserializeOwned>(ty: ConfigType, v: Value) -> Result<BTreeMap<String, T>, Error> {
    let Value::Object(map) = v else {
        return Err(file_error(ty, "expected a map of name to entity"));
    };
    map.into_iter()
        .map(|(name, v)| {
            let entity = serde_json::from_value(v)
                .map_err(|e| file_error(ty, format!("entry {name:?}: {e}")))?;
            Ok((name, entity))
        })
        .collect()
}

fn single<T: DeserializeOwned>(ty: ConfigType, mut v: Value) -> Result<T, Error> {
    let inner = v
        .get_mut("config")
        .map(Value::take)
        .ok_or_else(|| file_error(ty, "expected the single key `config`"))?;
    serde_json::from_value(inner).map_err(|e| file_error(ty, e.to_string()))
}

impl SecurityConfig {
    /// One configuration type as a JSON document without `_meta`, hashes
    /// included (securityadmin's view, never an API answer).
    pub fn type_to_value(&self, ty: ConfigType) -> Value {
        let v = match ty {
            ConfigType::InternalUsers => serde_json::to_value(&self.internal_users),
            ConfigType::Roles => serde_json::to_value(&self.roles),
            ConfigType::RolesMapping => serde_json::to_value(&self.roles_mapping),
            ConfigType::ActionGroups => serde_json::to_value(&self.action_groups),
            ConfigType::Tenants => serde_json::to_value(&self.tenants),
            ConfigType::NodesDn => serde_json::to_value(&self.nodes_dn),
            ConfigType::Allowlist => serde_json::to_value(&self.allowlist).map(|a| {
                // The plugin writes both keys even at their defaults.
                let mut a = a;
                a["enabled"] = json!(self.allowlist.enabled);
                if a.get("requests").is_none() {
                    a["requests"] = json!({});
                }
                json!({ "config": a })
            }),
            ConfigType::Config => {
                serde_json::to_value(&self.dynamic).map(|d| json!({"config": {"dynamic": d}}))
            }
        };
        v.unwrap_or_else(|_| json!({}))
    }

    /// Replaces one configuration type with a JSON document (a `_meta` key,
    /// if present, is checked and dropped).
    pub fn set_type_from_value(&mut self, ty: ConfigType, mut v: Value) -> Result<(), Error> {
        if let Some(meta) = v.as_object_mut().and_then(|m| m.remove("_meta")) {
            check_meta(ty, &meta)?;
        }
        if v.is_null() {
            v = json!({});
        }
        match ty {
            ConfigType::InternalUsers => self.internal_users = entities(ty, v)?,
            ConfigType::Roles => self.roles = entities(ty, v)?,
            ConfigType::RolesMapping => self.roles_mapping = entities(ty, v)?,
            ConfigType::ActionGroups => self.action_groups = entities(ty, v)?,
            ConfigType::Tenants => self.tenants = entities(ty, v)?,
            ConfigType::NodesDn => self.nodes_dn = entities(ty, v)?,
            ConfigType::Allowlist => self.allowlist = single::<Allowlist>(ty, v)?,
            ConfigType::Config => {
                #[derive(serde::Deserialize)]
                #[serde(deny_unknown_fields)]
                struct Doc {
                    dynamic: DynamicConfig,
                }
                let doc: Doc = single(ty, v)?;
                self.dynamic = doc.dynamic;
            }
        }
        Ok(())
    }

    /// Reads one YAML file of type `ty`.
    pub fn load_yaml(&mut self, ty: ConfigType, text: &str) -> Result<(), Error> {
        let v: Value = serde_norway::from_str(text).map_err(|e| file_error(ty, e.to_string()))?;
        let Some(meta) = v.get("_meta") else {
            return Err(file_error(ty, "the `_meta` header is missing"));
        };
        check_meta(ty, meta)?;
        self.set_type_from_value(ty, v)
    }

    /// Writes one configuration type as a YAML file with its `_meta` header.
    pub fn to_yaml(&self, ty: ConfigType) -> String {
        let mut doc = serde_json::Map::new();
        doc.insert(
            "_meta".into(),
            json!({"type": ty.as_str(), "config_version": CONFIG_VERSION}),
        );
        if let Value::Object(body) = self.type_to_value(ty) {
            doc.extend(body);
        }
        let text = serde_norway::to_string(&Value::Object(doc)).unwrap_or_default();
        format!("---\n{}", text.trim_start_matches("---\n"))
    }
}

fn check_meta(ty: ConfigType, meta: &Value) -> Result<(), Error> {
    let found = meta.get("type").and_then(Value::as_str).unwrap_or("");
    if found != ty.as_str() {
        return Err(file_error(
            ty,
            format!("_meta.type is {found:?}, expected {:?}", ty.as_str()),
        ));
    }
    match meta.get("config_version").and_then(Value::as_u64) {
        Some(CONFIG_VERSION) => Ok(()),
        other => Err(file_error(
            ty,
            format!(
                "_meta.config_version is {other:?}; only version {CONFIG_VERSION} is supported"
            ),
        )),
    }
}
