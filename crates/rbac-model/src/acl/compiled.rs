//! A set of policies compiled into one ACL, asked once per request.

use std::collections::HashMap;

use super::policy::{AclPolicy, Capabilities, Capability};

/// What a request does to a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// GET.
    Read,
    /// LIST or `GET ?list=true`.
    List,
    /// POST/PUT to something that does not exist yet.
    Create,
    /// POST/PUT to something that exists.
    Update,
    /// DELETE.
    Delete,
    /// PATCH.
    Patch,
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AclDecision {
    /// The operation is allowed.
    pub allowed: bool,
    /// The matching rule grants `sudo` (or the token is root).
    pub root_privs: bool,
}

#[derive(Debug, Clone)]
struct WildcardRule {
    /// The pattern without a trailing `*`.
    path: String,
    segments: Vec<String>,
    is_prefix: bool,
    first_wildcard: usize,
    wildcards: usize,
    caps: Capabilities,
}

/// Policies compiled for lookups: exact rules, prefix rules and segment
/// wildcard rules, each merged across policies.
#[derive(Debug, Clone, Default)]
pub struct Acl {
    root: bool,
    exact: HashMap<String, Capabilities>,
    prefix: HashMap<String, Capabilities>,
    longest_prefix: usize,
    wildcards: Vec<WildcardRule>,
}

impl Acl {
    /// The ACL of the root policy: everything allowed.
    pub fn root() -> Self {
        Acl {
            root: true,
            ..Acl::default()
        }
    }

    /// Compiles policies. The `root` policy makes the ACL root.
    pub fn new<'a>(policies: impl IntoIterator<Item = &'a AclPolicy>) -> Self {
        let mut acl = Acl::default();
        let mut wild: HashMap<String, Capabilities> = HashMap::new();
        for policy in policies {
            if policy.name().as_str() == "root" {
                return Acl::root();
            }
            for rule in policy.rules() {
                let slot = if rule.has_segment_wildcards {
                    wild.entry(rule.path.clone()).or_default()
                } else if rule.is_prefix {
                    acl.prefix.entry(rule.path.clone()).or_default()
                } else {
                    acl.exact.entry(rule.path.clone()).or_default()
                };
                *slot = if *slot == Capabilities::NONE {
                    rule.capabilities
                } else {
                    slot.merge(rule.capabilities)
                };
            }
        }
        acl.longest_prefix = acl.prefix.keys().map(String::len).max().unwrap_or(0);
        acl.wildcards = wild
            .into_iter()
            .filter(|(p, _)| !p.is_empty())
            .map(|(full, caps)| {
                let first_wildcard = full.find('+').unwrap_or(full.len());
                let (path, is_prefix) = match full.strip_suffix('*') {
                    Some(p) => (p.to_string(), true),
                    None => (full.clone(), false),
                };
                let segments: Vec<String> = path.split('/').map(str::to_string).collect();
                let wildcards = segments.iter().filter(|s| *s == "+").count();
                WildcardRule {
                    path,
                    segments,
                    is_prefix,
                    first_wildcard,
                    wildcards,
                    caps,
                }
            })
            .collect();
        acl
    }

    /// True for the root ACL.
    pub fn is_root(&self) -> bool {
        self.root
    }

    fn longest_prefix(&self, path: &str) -> Option<(&str, Capabilities)> {
        let max = self.longest_prefix.min(path.len());
        (0..=max)
            .rev()
            .filter(|i| path.is_char_boundary(*i))
            .find_map(|i| {
                self.prefix
                    .get_key_value(&path[..i])
                    .map(|(k, c)| (k.as_str(), *c))
            })
    }

    /// The capabilities of the winning rule for `path`, if any rule matches.
    fn lookup(&self, path: &str, list: bool) -> Option<Capabilities> {
        if let Some(c) = self.exact.get(path) {
            return Some(*c);
        }
        if list {
            if let Some(c) = self.exact.get(path.trim_end_matches('/')) {
                return Some(*c);
            }
            if let Some(trimmed) = path.strip_suffix('/')
                && let Some(c) = self.non_exact(trimmed)
            {
                return Some(c);
            }
        }
        self.non_exact(path)
    }

    fn non_exact(&self, path: &str) -> Option<Capabilities> {
        // Candidates: the longest matching prefix rule and every matching
        // wildcard rule; the highest priority one wins.
        struct Candidate<'a> {
            first_wildcard: usize,
            is_prefix: bool,
            wildcards: usize,
            path: &'a str,
            caps: Capabilities,
        }
        let mut best: Option<Candidate<'_>> =
            self.longest_prefix(path).map(|(p, caps)| Candidate {
                first_wildcard: p.len(),
                is_prefix: true,
                wildcards: 0,
                path: p,
                caps,
            });
        if self.wildcards.is_empty() {
            return best.map(|b| b.caps);
        }
        let parts: Vec<&str> = path.split('/').collect();
        'rules: for rule in &self.wildcards {
            if parts.len() < rule.segments.len()
                || (!rule.is_prefix && parts.len() != rule.segments.len())
            {
                continue;
            }
            let last = rule.segments.len() - 1;
            for (i, seg) in rule.segments.iter().enumerate() {
                let ok = seg == "+"
                    || seg == parts[i]
                    || (rule.is_prefix && i == last && parts[i].starts_with(seg.as_str()));
                if !ok {
                    continue 'rules;
                }
            }
            let c = Candidate {
                first_wildcard: rule.first_wildcard,
                is_prefix: rule.is_prefix,
                wildcards: rule.wildcards,
                path: &rule.path,
                caps: rule.caps,
            };
            // Higher priority: later first wildcard; not a prefix; fewer
            // wildcards; longer; lexicographically greater.
            let higher = match &best {
                None => true,
                Some(b) => {
                    (
                        c.first_wildcard,
                        !c.is_prefix,
                        std::cmp::Reverse(c.wildcards),
                        c.path.len(),
                        c.path,
                    ) > (
                        b.first_wildcard,
                        !b.is_prefix,
                        std::cmp::Reverse(b.wildcards),
                        b.path.len(),
                        b.path,
                    )
                }
            };
            if higher {
                best = Some(c);
            }
        }
        best.map(|b| b.caps)
    }

    /// Decides one request.
    pub fn decide(&self, path: &str, op: Operation) -> AclDecision {
        if self.root {
            return AclDecision {
                allowed: true,
                root_privs: true,
            };
        }
        let path = path.trim_start_matches('/');
        let Some(caps) = self.lookup(path, op == Operation::List) else {
            return AclDecision {
                allowed: false,
                root_privs: false,
            };
        };
        let needed = match op {
            Operation::Read => Capability::Read,
            Operation::List => Capability::List,
            Operation::Create => Capability::Create,
            Operation::Update => Capability::Update,
            Operation::Delete => Capability::Delete,
            Operation::Patch => Capability::Patch,
        };
        AclDecision {
            allowed: caps.has(needed),
            root_privs: caps.has(Capability::Sudo),
        }
    }

    /// What `sys/capabilities` answers for `path`: Vault's names, `["root"]`
    /// for root, `["deny"]` when nothing is granted.
    pub fn capabilities(&self, path: &str) -> Vec<&'static str> {
        if self.root {
            return vec!["root"];
        }
        let path = path.trim_start_matches('/');
        match self.lookup(path, true) {
            Some(c) => c.names(),
            None => vec!["deny"],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::{AclPolicy, PolicyName};
    use proptest::prelude::*;

    fn policy(name: &str, text: &str) -> AclPolicy {
        AclPolicy::parse(PolicyName::new(name).unwrap(), text).unwrap()
    }

    fn acl(texts: &[&str]) -> Acl {
        let policies: Vec<AclPolicy> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| policy(&format!("p{i}"), t))
            .collect();
        Acl::new(&policies)
    }

    #[test]
    fn exact_beats_prefix_and_deny_wins_across_policies() {
        let a = acl(&[
            r#"path "transit/*" { capabilities = ["read", "update"] }
               path "transit/keys/k" { capabilities = ["read"] }"#,
            r#"path "transit/keys/secret" { capabilities = ["deny"] }"#,
            r#"path "transit/keys/secret" { capabilities = ["read"] }"#,
        ]);
        assert!(a.decide("transit/encrypt/k", Operation::Update).allowed);
        assert!(
            !a.decide("transit/keys/k", Operation::Update).allowed,
            "the exact rule wins"
        );
        assert!(!a.decide("transit/keys/secret", Operation::Read).allowed);
        assert_eq!(a.capabilities("transit/keys/secret"), vec!["deny"]);
        assert_eq!(a.capabilities("elsewhere"), vec!["deny"]);
        assert_eq!(a.capabilities("transit/x"), vec!["read", "update"]);
    }

    #[test]
    fn create_and_update_are_distinct() {
        let a = acl(&[r#"path "transit/encrypt/*" { capabilities = ["update"] }"#]);
        assert!(a.decide("transit/encrypt/k", Operation::Update).allowed);
        assert!(!a.decide("transit/encrypt/k", Operation::Create).allowed);
    }

    #[test]
    fn vault_priority_among_wildcards() {
        let a = acl(&[r#"
            path "foo/+" { capabilities = ["read"] }
            path "foo/a*" { capabilities = ["update"] }
            path "foo/+/bar/baz" { capabilities = ["delete"] }
            path "foo/bar/+/baz" { capabilities = ["list"] }
            path "foo/+/+/baz" { capabilities = ["create"] }
        "#]);
        // foo/a* has its glob later than foo/+'s wildcard: it wins.
        assert_eq!(a.capabilities("foo/abc"), vec!["update"]);
        assert_eq!(a.capabilities("foo/xyz"), vec!["read"]);
        // foo/bar/+/baz (wildcard later) beats foo/+/bar/baz and foo/+/+/baz.
        assert_eq!(a.capabilities("foo/bar/bar/baz"), vec!["list"]);
        // Between foo/+/bar/baz and foo/+/+/baz: fewer wildcards wins.
        assert_eq!(a.capabilities("foo/x/bar/baz"), vec!["delete"]);
    }

    #[test]
    fn list_checks_without_the_trailing_slash() {
        let a = acl(&[r#"path "transit/keys" { capabilities = ["list"] }"#]);
        assert!(a.decide("transit/keys/", Operation::List).allowed);
        assert!(!a.decide("transit/keys/", Operation::Read).allowed);
    }

    #[test]
    fn root_allows_everything() {
        let root = acl(&["path \"x\" { capabilities = [\"read\"] }"]);
        assert!(!root.is_root());
        let policies = [policy("root", "")];
        let r = Acl::new(&policies);
        assert!(r.decide("anything", Operation::Delete).allowed);
        assert_eq!(r.capabilities("x"), vec!["root"]);
    }

    /// A plainly written reference: every rule that matches, then Vault's
    /// ordering spelled out step by step.
    fn reference(rules: &[(String, Capabilities)], path: &str) -> Option<Capabilities> {
        let mut merged: Vec<(String, Capabilities)> = Vec::new();
        for (p, c) in rules {
            match merged.iter_mut().find(|(q, _)| q == p) {
                Some((_, m)) => *m = m.merge(*c),
                None => merged.push((p.clone(), *c)),
            }
        }
        if let Some((_, c)) = merged.iter().find(|(p, _)| p == path) {
            return Some(*c);
        }
        let matches = |pattern: &str| -> bool {
            let (pat, prefix) = match pattern.strip_suffix('*') {
                Some(p) => (p, true),
                None => (pattern, false),
            };
            let ps: Vec<&str> = pat.split('/').collect();
            let xs: Vec<&str> = path.split('/').collect();
            if xs.len() < ps.len() || (!prefix && xs.len() != ps.len()) {
                return false;
            }
            ps.iter().enumerate().all(|(i, s)| {
                *s == "+" || *s == xs[i] || (prefix && i == ps.len() - 1 && xs[i].starts_with(s))
            })
        };
        let mut candidates: Vec<(&String, Capabilities)> = merged
            .iter()
            .filter(|(p, _)| p.contains('+') || p.ends_with('*'))
            .filter(|(p, _)| matches(p))
            .map(|(p, c)| (p, *c))
            .collect();
        // Plain prefix rules: only the longest one takes part.
        let longest_plain = candidates
            .iter()
            .filter(|(p, _)| !p.contains('+'))
            .map(|(p, _)| p.len())
            .max();
        candidates.retain(|(p, _)| p.contains('+') || Some(p.len()) == longest_plain);
        candidates.sort_by(|(a, _), (b, _)| {
            let key = |p: &str| {
                let is_prefix = p.ends_with('*');
                let core = p.strip_suffix('*').unwrap_or(p);
                let first = if p.contains('+') {
                    p.find('+').unwrap()
                } else {
                    core.len()
                };
                (
                    first,
                    !is_prefix,
                    std::cmp::Reverse(core.split('/').filter(|s| *s == "+").count()),
                    core.len(),
                    core.to_string(),
                )
            };
            key(a).cmp(&key(b))
        });
        candidates.last().map(|(_, c)| *c)
    }

    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("a".to_string()),
            Just("b".to_string()),
            Just("+".to_string()),
            Just("ab".to_string())
        ]
    }

    fn pattern() -> impl Strategy<Value = String> {
        (proptest::collection::vec(segment(), 1..4), any::<bool>()).prop_map(|(segs, star)| {
            let mut p = segs.join("/");
            if star && !p.ends_with('+') {
                p.push('*');
            }
            p
        })
    }

    fn caps() -> impl Strategy<Value = Vec<&'static str>> {
        proptest::sample::subsequence(vec!["read", "update", "list", "deny"], 1..3)
    }

    proptest! {
        #[test]
        fn compiled_acl_agrees_with_the_reference(
            rules in proptest::collection::vec((pattern(), caps()), 1..8),
            path in proptest::collection::vec(prop_oneof![Just("a"), Just("b"), Just("ab"), Just("abc")], 1..5),
        ) {
            let path = path.join("/");
            let text: String = rules
                .iter()
                .map(|(p, c)| format!("path \"{p}\" {{ capabilities = {c:?} }}\n"))
                .collect();
            let compiled = acl(&[text.as_str()]);
            let reference_rules: Vec<(String, Capabilities)> = policy("r", &text)
                .rules()
                .iter()
                .map(|r| (if r.is_prefix { format!("{}*", r.path) } else { r.path.clone() }, r.capabilities))
                .collect();
            let expected = reference(&reference_rules, &path).map(|c| c.names()).unwrap_or(vec!["deny"]);
            let got = compiled.capabilities(&path);
            prop_assert_eq!(got, expected, "rules {:?} path {}", rules, path);
        }
    }
}
