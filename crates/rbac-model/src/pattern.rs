//! Permission and name patterns as the plugin's `WildcardMatcher` reads them:
//! `*` alone matches everything, `/.../` is a (Java-flavoured) regular
//! expression that must match the whole value, a text with `*` or `?` is a
//! wildcard, anything else matches itself exactly. Matching is case-sensitive.

use std::fmt;

/// One compiled pattern.
#[derive(Clone)]
pub enum Pattern {
    /// `*`: everything.
    Any,
    /// No wildcard: the value itself.
    Exact(Box<str>),
    /// `prefix*`: the common shape of action patterns, matched without a scan.
    Prefix(Box<str>),
    /// A general wildcard with `*` and `?`.
    Glob(Box<[GlobPart]>),
    /// `/regex/`, anchored at both ends.
    Regex(Box<fancy_regex::Regex>),
    /// A `/regex/` that does not compile: it matches nothing, as a role
    /// with a broken pattern should grant nothing.
    Invalid(Box<str>),
}

/// A piece of a wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlobPart {
    /// Literal text.
    Literal(Box<str>),
    /// `?`: exactly one character.
    One,
    /// `*`: any run of characters.
    Many,
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Any => f.write_str("Any"),
            Pattern::Exact(s) => write!(f, "Exact({s:?})"),
            Pattern::Prefix(s) => write!(f, "Prefix({s:?})"),
            Pattern::Glob(p) => write!(f, "Glob({p:?})"),
            Pattern::Regex(r) => write!(f, "Regex({:?})", r.as_str()),
            Pattern::Invalid(s) => write!(f, "Invalid({s:?})"),
        }
    }
}

impl Pattern {
    /// Compiles a pattern.
    pub fn new(text: &str) -> Pattern {
        if text == "*" {
            return Pattern::Any;
        }
        if text.len() > 1 && text.starts_with('/') && text.ends_with('/') {
            let inner = &text[1..text.len() - 1];
            return match fancy_regex::Regex::new(&format!("^(?:{inner})$")) {
                Ok(re) => Pattern::Regex(Box::new(re)),
                Err(_) => Pattern::Invalid(text.into()),
            };
        }
        if !text.contains(['*', '?']) {
            return Pattern::Exact(text.into());
        }
        let stem = &text[..text.len() - 1];
        if text.ends_with('*') && !stem.contains(['*', '?']) {
            return Pattern::Prefix(stem.into());
        }
        let mut parts: Vec<GlobPart> = Vec::new();
        let mut literal = String::new();
        for c in text.chars() {
            match c {
                '*' | '?' => {
                    if !literal.is_empty() {
                        parts.push(GlobPart::Literal(std::mem::take(&mut literal).into()));
                    }
                    let part = if c == '*' {
                        GlobPart::Many
                    } else {
                        GlobPart::One
                    };
                    // `**` is `*`.
                    if !(part == GlobPart::Many && parts.last() == Some(&GlobPart::Many)) {
                        parts.push(part);
                    }
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(GlobPart::Literal(literal.into()));
        }
        Pattern::Glob(parts.into())
    }

    /// True when the pattern is the bare `*`.
    pub fn is_any(&self) -> bool {
        matches!(self, Pattern::Any)
    }

    /// True when `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Exact(s) => &**s == value,
            Pattern::Prefix(p) => value.starts_with(&**p),
            Pattern::Glob(parts) => glob_match(parts, value),
            Pattern::Regex(re) => re.is_match(value).unwrap_or(false),
            Pattern::Invalid(_) => false,
        }
    }
}

/// Wildcard matching with backtracking on the last `*` only: linear in
/// practice, never exponential.
fn glob_match(parts: &[GlobPart], value: &str) -> bool {
    let v: Vec<char> = value.chars().collect();
    let p: Vec<&GlobPart> = parts.iter().collect();
    let (mut vi, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < p.len() {
            match p[pi] {
                GlobPart::Many => {
                    star = Some((pi, vi));
                    pi += 1;
                    continue;
                }
                GlobPart::One if vi < v.len() => {
                    vi += 1;
                    pi += 1;
                    continue;
                }
                GlobPart::Literal(lit) => {
                    let n = lit.chars().count();
                    if vi + n <= v.len() && lit.chars().zip(&v[vi..vi + n]).all(|(a, b)| a == *b) {
                        vi += n;
                        pi += 1;
                        continue;
                    }
                }
                GlobPart::One => {}
            }
        } else if vi == v.len() {
            return true;
        }
        match star {
            Some((spi, svi)) if svi < v.len() => {
                star = Some((spi, svi + 1));
                pi = spi + 1;
                vi = svi + 1;
            }
            _ => return false,
        }
    }
}

/// A set of patterns, with exact names in a hash set so that a large set
/// answers in constant time for the common case.
#[derive(Debug, Clone, Default)]
pub struct PatternSet {
    any: bool,
    exact: std::collections::HashSet<Box<str>>,
    others: Vec<Pattern>,
}

impl PatternSet {
    /// Compiles every pattern of `texts`.
    pub fn new<'a>(texts: impl IntoIterator<Item = &'a str>) -> PatternSet {
        let mut set = PatternSet::default();
        for t in texts {
            set.push(Pattern::new(t));
        }
        set
    }

    /// Adds a compiled pattern.
    pub fn push(&mut self, p: Pattern) {
        match p {
            Pattern::Any => self.any = true,
            Pattern::Exact(s) => {
                self.exact.insert(s);
            }
            other => self.others.push(other),
        }
    }

    /// True when any pattern matches `value`.
    pub fn matches(&self, value: &str) -> bool {
        self.any || self.exact.contains(value) || self.others.iter().any(|p| p.matches(value))
    }

    /// True when a pattern other than the bare `*` matches (the plugin's
    /// "explicit" privilege, used for `restapi:admin/*`).
    pub fn matches_explicitly(&self, value: &str) -> bool {
        self.exact.contains(value) || self.others.iter().any(|p| p.matches(value))
    }

    /// True when the set holds no pattern.
    pub fn is_empty(&self) -> bool {
        !self.any && self.exact.is_empty() && self.others.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_kinds_of_pattern() {
        assert!(Pattern::new("*").matches("anything"));
        assert!(Pattern::new("cluster:monitor/health").matches("cluster:monitor/health"));
        assert!(!Pattern::new("cluster:monitor/health").matches("cluster:monitor/healthy"));
        assert!(Pattern::new("cluster:*").matches("cluster:admin/x"));
        assert!(!Pattern::new("cluster:*").matches("indices:admin/x"));
        assert!(Pattern::new("indices:data/read*").matches("indices:data/read/search"));
        assert!(Pattern::new("a?c").matches("abc"));
        assert!(!Pattern::new("a?c").matches("ac"));
        assert!(Pattern::new("*beat*").matches("filebeat-1"));
        assert!(Pattern::new("a*b*c").matches("aXbYbZc"));
        assert!(!Pattern::new("a*b*c").matches("aXbYbZ"));
        assert!(Pattern::new("/cluster:(admin|monitor)\\/.*/").matches("cluster:admin/x"));
        assert!(!Pattern::new("/cluster:admin/").matches("cluster:admin/x"));
        assert!(!Pattern::new("/([/").matches("x"));
        assert!(Pattern::new("/(?=.*a).*/").matches("xa"));
    }

    #[test]
    fn explicit_matching_ignores_the_bare_star() {
        let set = PatternSet::new(["*"]);
        assert!(set.matches("restapi:admin/roles"));
        assert!(!set.matches_explicitly("restapi:admin/roles"));
        let set = PatternSet::new(["restapi:admin/*"]);
        assert!(set.matches_explicitly("restapi:admin/roles"));
    }
}
