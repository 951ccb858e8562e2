//! The single-document resources (allowlist, security config, tenancy
//! config) and the account's own password change.

use secrecy::SecretString;
use serde_json::{Value, json};

use super::{Caller, Change, Changed, apply_patch, parse_patch};
use crate::json::{omit_defaults, parse_strict};
use crate::model::{Allowlist, DynamicConfig, SecurityConfig, TenancyConfig};
use crate::validate::{DataType, PasswordCheck, Schema, validate};
use crate::{Error, PasswordHash};

const ALLOWLIST_SCHEMA: Schema = Schema {
    allowed: &[
        ("enabled", DataType::Boolean),
        ("requests", DataType::Object),
    ],
    mandatory: &[],
    mandatory_or: &[],
    flags: false,
};

const CONFIG_SCHEMA: Schema = Schema {
    allowed: &[("dynamic", DataType::Object)],
    mandatory: &[],
    mandatory_or: &[],
    flags: false,
};

fn unchanged(config: &SecurityConfig) -> Changed {
    Changed {
        config: config.clone(),
        change: Change::NoUpdates,
    }
}

fn read_allowlist(content: Value) -> Result<Allowlist, Error> {
    validate(&content, &ALLOWLIST_SCHEMA, false, None)?;
    let mut v = content;
    if v.get("requests").is_none() {
        v["requests"] = json!({});
    }
    serde_json::from_value(v).map_err(|e| {
        Error::Malformed(format!(
            "{e}; methods must be one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"
        ))
    })
}

/// `PUT /_plugins/_security/api/allowlist`.
pub fn put_allowlist(config: &SecurityConfig, body: &[u8]) -> Result<Changed, Error> {
    let allowlist = read_allowlist(parse_strict(body)?)?;
    let mut new = config.clone();
    new.allowlist = allowlist;
    Ok(Changed {
        config: new,
        change: Change::Updated("config".into()),
    })
}

fn document_base<T: serde::Serialize>(doc: &T) -> Value {
    let mut v = serde_json::to_value(doc).unwrap_or(Value::Null);
    omit_defaults(&mut v);
    json!({ "config": v })
}

/// `PATCH /_plugins/_security/api/allowlist` (paths `/config/...`).
pub fn patch_allowlist(config: &SecurityConfig, body: &[u8]) -> Result<Changed, Error> {
    let ops = parse_patch(body)?;
    let base = document_base(&config.allowlist);
    let patched = apply_patch(&base, &ops)?;
    if patched == base {
        return Ok(unchanged(config));
    }
    let content = patched.get("config").cloned().unwrap_or(Value::Null);
    let mut new = config.clone();
    new.allowlist = read_allowlist(content)?;
    Ok(Changed {
        config: new,
        change: Change::ResourceUpdated,
    })
}

fn read_dynamic(content: Value) -> Result<DynamicConfig, Error> {
    validate(&content, &CONFIG_SCHEMA, false, None)?;
    let dynamic = content.get("dynamic").cloned().unwrap_or(Value::Null);
    serde_json::from_value(dynamic).map_err(|e| Error::Malformed(e.to_string()))
}

/// `PUT P/securityconfig/config` (permission checked by the caller).
pub fn put_security_config(config: &SecurityConfig, body: &[u8]) -> Result<Changed, Error> {
    let dynamic = read_dynamic(parse_strict(body)?)?;
    let mut new = config.clone();
    new.dynamic = dynamic;
    Ok(Changed {
        config: new,
        change: Change::Updated("config".into()),
    })
}

/// `PATCH P/securityconfig` (paths `/config/dynamic/...`).
pub fn patch_security_config(config: &SecurityConfig, body: &[u8]) -> Result<Changed, Error> {
    let ops = parse_patch(body)?;
    let base = document_base(&json!({"dynamic": config.dynamic}));
    let patched = apply_patch(&base, &ops)?;
    if patched == base {
        return Ok(unchanged(config));
    }
    let content = patched.get("config").cloned().unwrap_or(Value::Null);
    let mut new = config.clone();
    new.dynamic = read_dynamic(content)?;
    Ok(Changed {
        config: new,
        change: Change::ResourceUpdated,
    })
}

/// `PUT P/tenancy/config`: changes only the keys given; answers the new
/// settings. Semantic errors are [`Error::Malformed`] (the plugin's core
/// error envelope).
pub fn put_tenancy_config(
    config: &SecurityConfig,
    body: &[u8],
) -> Result<(SecurityConfig, TenancyConfig), Error> {
    const SCHEMA: Schema = Schema {
        allowed: &[
            ("default_tenant", DataType::String),
            ("private_tenant_enabled", DataType::Boolean),
            ("multitenancy_enabled", DataType::Boolean),
            ("sign_in_options", DataType::Array),
            ("preferred_tenants", DataType::Array),
        ],
        mandatory: &[],
        mandatory_or: &[],
        flags: false,
    };
    let content = parse_strict(body)?;
    validate(&content, &SCHEMA, false, None)?;
    let mut kibana = config.dynamic.kibana.clone();
    if let Some(v) = content.get("multitenancy_enabled") {
        kibana.multitenancy_enabled = crate::validate::value_as_bool(v).unwrap_or(true);
    }
    if let Some(v) = content.get("private_tenant_enabled") {
        kibana.private_tenant_enabled = crate::validate::value_as_bool(v).unwrap_or(true);
    }
    if let Some(Value::Array(items)) = content.get("preferred_tenants") {
        if items.len() > 100 {
            return Err(Error::Malformed(
                "preferred_tenants may hold at most 100 tenants".into(),
            ));
        }
        kibana.preferred_tenants = items
            .iter()
            .map(|i| {
                i.as_str().map(str::to_string).ok_or_else(|| {
                    Error::Malformed("preferred_tenants must be an array of strings".into())
                })
            })
            .collect::<Result<_, _>>()?;
    }
    if let Some(Value::Array(items)) = content.get("sign_in_options") {
        let mut options = Vec::new();
        for i in items {
            let o = i.as_str().unwrap_or_default().to_ascii_uppercase();
            match o.as_str() {
                "BASIC" => {}
                "ANONYMOUS" => {}
                "SAML" | "OPENID" => {
                    return Err(Error::Malformed(format!(
                        "Validation failure: {o} authentication provider is not available for this cluster."
                    )));
                }
                _ => {
                    return Err(Error::Malformed(format!(
                        "{} is not a sign-in option; use BASIC, SAML, OPENID or ANONYMOUS",
                        i
                    )));
                }
            }
            options.push(o);
        }
        kibana.sign_in_options = options;
    }
    if let Some(Value::String(t)) = content.get("default_tenant") {
        if !t
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':'))
        {
            return Err(Error::Malformed(
                "default_tenant contains invalid characters; allowed: A-Z a-z 0-9 _ - :".into(),
            ));
        }
        let lower = t.to_lowercase();
        let known = lower.is_empty()
            || lower == "global"
            || lower == "private"
            || config.has_tenant(t)
            || config
                .tenant_names()
                .iter()
                .any(|n| n.to_lowercase() == lower);
        if !known {
            return Err(Error::Malformed(format!(
                "{t} can not be set to default tenant. Default tenant should be selected from one of the available tenants."
            )));
        }
        kibana.default_tenant = t.clone();
    }
    if !kibana.private_tenant_enabled && kibana.default_tenant.eq_ignore_ascii_case("private") {
        return Err(Error::Malformed(
            "Private tenant can not be disabled if it is the default tenant.".into(),
        ));
    }
    let mut new = config.clone();
    new.dynamic.kibana = kibana;
    let answer = TenancyConfig::from(&new.dynamic.kibana);
    Ok((new, answer))
}

/// `PUT P/account`: the caller changes its own password.
/// `caller_name` is `None` when the caller is not an internal user.
pub fn change_own_password(
    config: &SecurityConfig,
    caller_name: &str,
    is_internal_user: bool,
    body: &[u8],
    caller: &Caller<'_>,
) -> Result<Changed, Error> {
    const SCHEMA: Schema = Schema {
        allowed: &[
            ("current_password", DataType::String),
            ("password", DataType::String),
            ("hash", DataType::String),
        ],
        mandatory: &["current_password"],
        mandatory_or: &[],
        flags: false,
    };
    let content = parse_strict(body)?;
    validate(
        &content,
        &SCHEMA,
        false,
        Some(PasswordCheck {
            policy: caller.policy,
            username: caller_name,
        }),
    )?;
    let user = match config.internal_users.get(caller_name) {
        Some(u) if is_internal_user => u,
        _ => {
            return Err(Error::NotFound(format!(
                "account '{caller_name}' not found."
            )));
        }
    };
    if user.hidden {
        return Err(Error::NotFound(format!(
            "Resource '{caller_name}' is not available."
        )));
    }
    if user.reserved {
        return Err(Error::Forbidden(format!(
            "Resource '{caller_name}' is reserved."
        )));
    }
    let current = SecretString::from(
        content
            .get("current_password")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    );
    let verified = PasswordHash::from_stored(user.hash.clone()).is_ok_and(|h| h.verify(&current));
    if !verified {
        return Err(Error::BadRequest(
            "Could not validate your current password.".into(),
        ));
    }
    let non_empty = |k: &str| {
        content
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let hash = match (non_empty("password"), non_empty("hash")) {
        (Some(pw), _) => (caller.hasher)(&SecretString::from(pw))?,
        (None, Some(hash)) => {
            PasswordHash::from_stored(hash.clone()).map_err(|_| {
                Error::BadRequest("The hash is not a bcrypt hash ($2a$, $2b$ or $2y$): keyward could never verify it.".into())
            })?;
            hash
        }
        (None, None) => {
            return Err(Error::BadRequest(
                "Both provided password and hash cannot be null/empty.".into(),
            ));
        }
    };
    let mut new = config.clone();
    if let Some(u) = new.internal_users.get_mut(caller_name) {
        u.hash = hash;
    }
    Ok(Changed {
        config: new,
        change: Change::Updated(caller_name.to_string()),
    })
}
