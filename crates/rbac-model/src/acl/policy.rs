//! One ACL policy: its name and its path rules.

use std::fmt;

use serde_json::Value;

/// A capability of a path rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Deny everything, whatever other rules grant.
    Deny,
    /// Write to a path that does not exist yet.
    Create,
    /// Read.
    Read,
    /// Write to a path that exists.
    Update,
    /// Delete.
    Delete,
    /// List.
    List,
    /// Use root-protected paths.
    Sudo,
    /// Patch.
    Patch,
}

/// Order Vault prints capabilities in (`sys/capabilities`).
const PRINT_ORDER: &[Capability] = &[
    Capability::Sudo,
    Capability::Read,
    Capability::List,
    Capability::Update,
    Capability::Delete,
    Capability::Create,
    Capability::Patch,
];

impl Capability {
    fn bit(self) -> u32 {
        match self {
            Capability::Deny => 1,
            Capability::Create => 1 << 1,
            Capability::Read => 1 << 2,
            Capability::Update => 1 << 3,
            Capability::Delete => 1 << 4,
            Capability::List => 1 << 5,
            Capability::Sudo => 1 << 6,
            Capability::Patch => 1 << 7,
        }
    }

    /// Vault's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Deny => "deny",
            Capability::Create => "create",
            Capability::Read => "read",
            Capability::Update => "update",
            Capability::Delete => "delete",
            Capability::List => "list",
            Capability::Sudo => "sudo",
            Capability::Patch => "patch",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "deny" => Capability::Deny,
            "create" => Capability::Create,
            "read" => Capability::Read,
            "update" => Capability::Update,
            "delete" => Capability::Delete,
            "list" => Capability::List,
            "sudo" => Capability::Sudo,
            "patch" => Capability::Patch,
            _ => return None,
        })
    }
}

/// A set of capabilities. A set holding `deny` holds nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Capabilities(u32);

impl Capabilities {
    /// The empty set.
    pub const NONE: Capabilities = Capabilities(0);

    /// True when the set holds `c` (and is not a deny).
    pub fn has(self, c: Capability) -> bool {
        !self.is_deny() && self.0 & c.bit() != 0
    }

    /// True for an explicit deny.
    pub fn is_deny(self) -> bool {
        self.0 & Capability::Deny.bit() != 0
    }

    fn with(self, c: Capability) -> Self {
        if c == Capability::Deny || self.is_deny() {
            Capabilities(Capability::Deny.bit())
        } else {
            Capabilities(self.0 | c.bit())
        }
    }

    /// The union of two sets, where a deny in either wins.
    pub fn merge(self, other: Capabilities) -> Self {
        if self.is_deny() || other.is_deny() {
            Capabilities(Capability::Deny.bit())
        } else {
            Capabilities(self.0 | other.0)
        }
    }

    /// Names in Vault's order; `["deny"]` for a deny or an empty set.
    pub fn names(self) -> Vec<&'static str> {
        let names: Vec<&'static str> = PRINT_ORDER
            .iter()
            .filter(|c| self.has(**c))
            .map(|c| c.as_str())
            .collect();
        if names.is_empty() {
            vec!["deny"]
        } else {
            names
        }
    }
}

impl FromIterator<Capability> for Capabilities {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        iter.into_iter()
            .fold(Capabilities::NONE, Capabilities::with)
    }
}

/// A policy's name: lower-cased, 1 to 128 characters, no `/`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyName(String);

impl PolicyName {
    /// Checks a name; Vault lower-cases policy names.
    pub fn new(name: &str) -> Option<Self> {
        let name = name.trim().to_lowercase();
        let ok = !name.is_empty()
            && name.len() <= 128
            && !name.contains('/')
            && !name.chars().any(char::is_control);
        ok.then_some(PolicyName(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PolicyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One `path "..." { ... }` block, normalised as Vault does: a leading `/`
/// stripped; a trailing `*` stripped into `is_prefix` unless the path also
/// has `+` segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRule {
    /// The path pattern.
    pub path: String,
    /// True when the pattern was `...*` without `+` segments.
    pub is_prefix: bool,
    /// True when the pattern has `+` segments.
    pub has_segment_wildcards: bool,
    /// What the rule grants.
    pub capabilities: Capabilities,
}

/// Why a policy does not parse. The text is Vault's, prefixed as Vault
/// prefixes it: `failed to parse policy: ...`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("failed to parse policy: {0}")]
pub struct PolicyError(pub String);

/// An ACL policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclPolicy {
    name: PolicyName,
    raw: String,
    rules: Vec<PathRule>,
}

const PATH_KEYS: &[&str] = &[
    "comment",
    "policy",
    "capabilities",
    "allowed_parameters",
    "denied_parameters",
    "required_parameters",
    "min_wrapping_ttl",
    "max_wrapping_ttl",
    "mfa_methods",
    "control_group",
];

/// Keys keyward parses but refuses, rather than silently granting more than
/// the policy says: it does not enforce parameter constraints, wrapping TTLs,
/// MFA or control groups.
const UNSUPPORTED_KEYS: &[&str] = &[
    "allowed_parameters",
    "denied_parameters",
    "required_parameters",
    "min_wrapping_ttl",
    "max_wrapping_ttl",
    "mfa_methods",
    "control_group",
];

impl AclPolicy {
    /// Parses policy text, HCL or JSON.
    pub fn parse(name: PolicyName, text: &str) -> Result<Self, PolicyError> {
        let blocks = if text.trim_start().starts_with('{') {
            json_blocks(text)?
        } else {
            hcl_blocks(text)?
        };
        let mut rules = Vec::new();
        for (path, body) in blocks {
            rules.push(rule(&path, &body)?);
        }
        Ok(AclPolicy {
            name,
            raw: text.to_string(),
            rules,
        })
    }

    /// The name.
    pub fn name(&self) -> &PolicyName {
        &self.name
    }

    /// The text it was parsed from.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// Its rules, in the order written.
    pub fn rules(&self) -> &[PathRule] {
        &self.rules
    }
}

/// One `path` block before it is checked: the path and the block's keys.
type RawBlock = (String, serde_json::Map<String, Value>);

/// How deep brackets (`{`, `[`, `(`, in strings too) may nest in an HCL
/// policy. A Vault policy needs four at most (a block, a map of lists, a
/// `{{template}}` in a label); the HCL parser backtracks exponentially in
/// the depth of some unclosed expressions (`k = 1+a.1-(1+a.1-(...`: 16
/// levels took 2 s, 30 would take hours; found by the `acl_policy` fuzz
/// target), so deeper text is refused before it reaches the parser.
const MAX_NESTING: usize = 10;

/// Refuses text whose brackets nest deeper than [`MAX_NESTING`].
fn check_nesting(text: &str) -> Result<(), PolicyError> {
    let mut depth = 0usize;
    for (line, content) in text.lines().enumerate() {
        for c in content.chars() {
            match c {
                '{' | '[' | '(' => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        return Err(PolicyError(format!(
                            "At {}: brackets nested deeper than {MAX_NESTING} levels",
                            line + 1
                        )));
                    }
                }
                '}' | ']' | ')' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    Ok(())
}

/// The `path` blocks of an HCL policy.
fn hcl_blocks(text: &str) -> Result<Vec<RawBlock>, PolicyError> {
    check_nesting(text)?;
    let body = hcl::parse(text).map_err(|e| match &e {
        hcl::Error::Parse(p) => PolicyError(format!(
            "At {}:{}: {}",
            p.location().line(),
            p.location().column(),
            p.message()
        )),
        other => PolicyError(other.to_string()),
    })?;
    for attr in body.attributes() {
        if attr.key() != "name" {
            return Err(PolicyError(format!(
                "invalid key \"{}\" on line 1",
                attr.key()
            )));
        }
    }
    let mut out = Vec::new();
    for block in body.blocks() {
        if block.identifier() != "path" {
            return Err(PolicyError(format!(
                "invalid key \"{}\"",
                block.identifier()
            )));
        }
        let path = match block.labels() {
            [label] => label.as_str().to_string(),
            _ => {
                return Err(PolicyError(
                    "path blocks take exactly one label, the path".into(),
                ));
            }
        };
        let mut map = serde_json::Map::new();
        for attr in block.body().attributes() {
            let value: Value = serde_json::to_value(hcl::Value::from(attr.expr().clone()))
                .map_err(|e| PolicyError(format!("path {path:?}: {e}")))?;
            map.insert(attr.key().to_string(), value);
        }
        for inner in block.body().blocks() {
            map.insert(
                inner.identifier().to_string(),
                Value::Object(Default::default()),
            );
        }
        out.push((path, map));
    }
    Ok(out)
}

/// The `path` object of a JSON policy: `{"path": {"p": {...}, ...}}`.
fn json_blocks(text: &str) -> Result<Vec<RawBlock>, PolicyError> {
    let value: Value = serde_json::from_str(text).map_err(|e| PolicyError(e.to_string()))?;
    let Value::Object(top) = value else {
        return Err(PolicyError("does not contain a root object".into()));
    };
    let mut out = Vec::new();
    for (key, v) in top {
        match key.as_str() {
            "name" => {}
            "path" => {
                let Value::Object(paths) = v else {
                    return Err(PolicyError("\"path\" must be an object".into()));
                };
                for (path, body) in paths {
                    let Value::Object(body) = body else {
                        return Err(PolicyError(format!("path {path:?}: must be an object")));
                    };
                    out.push((path, body));
                }
            }
            other => return Err(PolicyError(format!("invalid key \"{other}\""))),
        }
    }
    Ok(out)
}

fn rule(key: &str, body: &serde_json::Map<String, Value>) -> Result<PathRule, PolicyError> {
    for k in body.keys() {
        if !PATH_KEYS.contains(&k.as_str()) {
            return Err(PolicyError(format!("path {key:?}: invalid key \"{k}\"")));
        }
        if UNSUPPORTED_KEYS.contains(&k.as_str()) {
            return Err(PolicyError(format!(
                "path {key:?}: \"{k}\" is not supported by keyward; grant capabilities only"
            )));
        }
    }
    let mut names: Vec<String> = match body.get("capabilities") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(PolicyError(format!(
                    "path {key:?}: capability {other} is not a string"
                ))),
            })
            .collect::<Result<_, _>>()?,
        Some(Value::String(s)) => vec![s.clone()],
        Some(other) => {
            return Err(PolicyError(format!(
                "path {key:?}: capabilities must be a list, not {other}"
            )));
        }
    };
    if let Some(old) = body.get("policy") {
        let old = old.as_str().unwrap_or_default();
        let mapped: &[&str] = match old {
            "deny" => &["deny"],
            "read" => &["read", "list"],
            "write" => &["create", "read", "update", "delete", "list"],
            "sudo" => &["create", "read", "update", "delete", "list", "sudo"],
            _ => return Err(PolicyError(format!("path {key:?}: invalid policy {old:?}"))),
        };
        names.extend(mapped.iter().map(|s| s.to_string()));
    }
    let mut caps = Vec::new();
    for name in &names {
        caps.push(
            Capability::parse(name)
                .ok_or_else(|| PolicyError(format!("path {key:?}: invalid capability {name:?}")))?,
        );
    }

    let mut path = key.strip_prefix('/').unwrap_or(key).to_string();
    if path.contains("+*") {
        return Err(PolicyError(format!(
            "path {path:?}: invalid use of wildcards ('+*' is forbidden)"
        )));
    }
    let has_segment_wildcards = path == "+" || path.contains("/+") || path.starts_with("+/");
    let mut is_prefix = false;
    if path.ends_with('*') && !has_segment_wildcards {
        path.pop();
        is_prefix = true;
    }
    Ok(PathRule {
        path,
        is_prefix,
        has_segment_wildcards,
        capabilities: caps.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> PolicyName {
        PolicyName::new(s).unwrap()
    }

    /// The `acl_policy` fuzz target's timeout (kept as a seed in
    /// fuzz/corpus/acl_policy/timeout-ece6ec32): the parser spun for
    /// minutes on 643 bytes; this is its shape, minimised.
    #[test]
    fn deeply_nested_expressions_are_refused_before_the_parser_spins() {
        let minimal = format!("k = {}", "1+a.1-(".repeat(30));
        let e = AclPolicy::parse(name("p"), &minimal).unwrap_err();
        assert_eq!(
            e.to_string(),
            "failed to parse policy: At 1: brackets nested deeper than 10 levels"
        );
        // Real policies nest far less; templated paths count too.
        let templated = r#"
            path "secret/{{identity.entity.id}}/*" {
              capabilities = ["read", "list"]
            }
        "#;
        assert_eq!(
            AclPolicy::parse(name("p"), templated)
                .unwrap()
                .rules()
                .len(),
            1
        );
    }

    #[test]
    fn hcl_and_json_give_the_same_rules() {
        let hcl = r#"
            # comment
            path "transit/encrypt/*" { capabilities = ["create", "update"] }
            path "/sys/mounts" { policy = "read" }
            path "secret/+/x" { capabilities = ["deny", "read"] }
        "#;
        let json = r#"{"path":{"transit/encrypt/*":{"capabilities":["create","update"]},
                      "/sys/mounts":{"policy":"read"},"secret/+/x":{"capabilities":["deny","read"]}}}"#;
        let a = AclPolicy::parse(name("p"), hcl).unwrap();
        let b = AclPolicy::parse(name("p"), json).unwrap();
        let sorted = |p: &AclPolicy| {
            let mut r = p.rules().to_vec();
            r.sort_by(|x, y| x.path.cmp(&y.path));
            r
        };
        assert_eq!(
            sorted(&a),
            sorted(&b),
            "JSON objects are unordered; the rules are the same"
        );
        let r = &a.rules()[0];
        assert!(r.is_prefix && r.path == "transit/encrypt/");
        assert!(r.capabilities.has(Capability::Create) && !r.capabilities.has(Capability::Read));
        assert_eq!(a.rules()[1].path, "sys/mounts");
        assert_eq!(a.rules()[1].capabilities.names(), vec!["read", "list"]);
        assert!(a.rules()[2].capabilities.is_deny());
        assert!(a.rules()[2].has_segment_wildcards);
    }

    #[test]
    fn a_bad_policy_names_the_position() {
        let err = AclPolicy::parse(name("p"), "path \"x\" { capabilities = ").unwrap_err();
        assert!(
            err.to_string().starts_with("failed to parse policy: At 1:"),
            "{err}"
        );
        let err =
            AclPolicy::parse(name("p"), r#"path "x" { capabilities = ["fly"] }"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to parse policy: path \"x\": invalid capability \"fly\""
        );
        let err =
            AclPolicy::parse(name("p"), r#"path "x" { allowed_parameters = {} }"#).unwrap_err();
        assert!(err.to_string().contains("not supported"), "{err}");
        assert!(AclPolicy::parse(name("p"), r#"path "a+*" { capabilities = ["read"] }"#).is_err());
        assert!(AclPolicy::parse(name("p"), r#"bogus "x" { }"#).is_err());
    }

    #[test]
    fn names_are_lower_cased() {
        assert_eq!(PolicyName::new(" Ops ").unwrap().as_str(), "ops");
        assert!(PolicyName::new("a/b").is_none());
        assert!(PolicyName::new("").is_none());
    }
}
