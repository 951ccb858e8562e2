//! Matching a request to a route of the table.

use http::Method;

use crate::Error;
use crate::ctx::percent_decode;
use crate::family::family_of_path;
use crate::route::{Family, MOUNT_PREFIX, Route};

/// One matchit tree and the routes of each of its paths.
struct Tree {
    paths: matchit::Router<usize>,
    groups: Vec<Vec<Route>>,
}

/// The routes: absolute ones, and those relative to a Vault mount
/// (`/v1/{mount}/...` in the table, matched on what follows the mount).
pub(crate) struct Router {
    main: Tree,
    mounted: Tree,
}

/// The outcome of matching.
pub(crate) enum Match<'a> {
    Route {
        route: &'a Route,
        params: Vec<(String, String)>,
    },
    MethodNotAllowed {
        family: Family,
        allowed: Vec<Method>,
    },
    NotFound {
        family: Family,
    },
}

impl Tree {
    fn new() -> Self {
        Tree {
            paths: matchit::Router::new(),
            groups: Vec::new(),
        }
    }

    fn insert(
        &mut self,
        index: &mut std::collections::HashMap<String, usize>,
        path: String,
        route: Route,
    ) -> Result<(), Error> {
        let slot = match index.get(&path) {
            Some(&slot) => slot,
            None => {
                let slot = self.groups.len();
                self.paths
                    .insert(path.clone(), slot)
                    .map_err(|e| Error::Routes(format!("{}: {e}", route.path)))?;
                index.insert(path, slot);
                self.groups.push(Vec::new());
                slot
            }
        };
        let group = &mut self.groups[slot];
        if group
            .iter()
            .any(|r| r.methods.iter().any(|m| route.methods.contains(m)))
        {
            return Err(Error::Routes(format!("{} has a method twice", route.path)));
        }
        group.push(route);
        Ok(())
    }

    /// `check` vets each captured value (Vault's name rules); a value it
    /// refuses makes the path unknown, as Vault's route regexes do.
    fn find(
        &self,
        method: &Method,
        path: &str,
        unknown: Family,
        check: impl Fn(&Route, &str, &str) -> bool,
    ) -> Match<'_> {
        // `P/roles/` is `P/roles`, as OpenSearch's core routes it.
        let trimmed = if path.len() > 1 {
            path.trim_end_matches('/')
        } else {
            path
        };
        let Ok(m) = self.paths.at(trimmed) else {
            return Match::NotFound { family: unknown };
        };
        let group = &self.groups[*m.value];
        let family = group[0].family;
        let mut params = Vec::new();
        for (k, v) in m.params.iter() {
            match percent_decode(v) {
                Some(v) if check(&group[0], k, &v) => params.push((k.to_string(), v)),
                _ => return Match::NotFound { family },
            }
        }
        let Some(route) = group.iter().find(|r| r.methods.contains(method)) else {
            let mut allowed: Vec<Method> = group
                .iter()
                .flat_map(|r| r.methods.iter().cloned())
                .collect();
            allowed.sort_by(|a, b| a.as_str().cmp(b.as_str()));
            return Match::MethodNotAllowed { family, allowed };
        };
        Match::Route { route, params }
    }
}

impl Router {
    pub(crate) fn new(routes: Vec<Route>) -> Result<Self, Error> {
        let mut main = Tree::new();
        let mut mounted = Tree::new();
        let mut main_index = Default::default();
        let mut mounted_index = Default::default();
        for route in routes {
            match route.path.strip_prefix(MOUNT_PREFIX) {
                Some(suffix) => {
                    let suffix = suffix.to_string();
                    mounted.insert(&mut mounted_index, suffix, route)?;
                }
                None => {
                    let path = route.path.clone();
                    main.insert(&mut main_index, path, route)?;
                }
            }
        }
        Ok(Router { main, mounted })
    }

    pub(crate) fn find(&self, method: &Method, path: &str) -> Match<'_> {
        self.main
            .find(method, path, family_of_path(path), |_, _, _| true)
    }

    /// Matches `path`, what follows a mount (`/encrypt/k`), against the
    /// mount-relative routes. Captures other than catch-alls must be Vault
    /// names (`\w(([\w-.]+)?\w)?`).
    pub(crate) fn find_mounted(&self, method: &Method, path: &str) -> Match<'_> {
        self.mounted
            .find(method, path, Family::Vault, |route, name, value| {
                route.path.contains(&format!("{{*{name}}}"))
                    || transit_crypto::KeyName::parse(value).is_some()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::table;

    #[test]
    fn the_table_builds_and_matches() {
        let router = Router::new(table()).unwrap();
        assert!(matches!(
            router.find(&Method::GET, "/v1/sys/health"),
            Match::Route { .. }
        ));
        match router.find(&Method::POST, "/_db/_system/_admin/server/encryption") {
            Match::Route { params, .. } => {
                assert_eq!(params, vec![("db".into(), "_system".into())])
            }
            _ => panic!("expected a route"),
        }
        assert!(matches!(
            router.find(&Method::DELETE, "/_admin/server/encryption"),
            Match::MethodNotAllowed {
                family: Family::Arango,
                ..
            }
        ));
        assert!(matches!(
            router.find(&Method::GET, "/v1/nothing/here"),
            Match::NotFound {
                family: Family::Vault
            }
        ));
        assert!(matches!(
            router.find(&Method::GET, "/_plugins/_security/health/"),
            Match::Route { .. }
        ));
    }

    #[test]
    fn mounted_routes_match_what_follows_the_mount() {
        let router = Router::new(table()).unwrap();
        match router.find_mounted(&Method::POST, "/encrypt/my-key") {
            Match::Route { params, .. } => {
                assert_eq!(params, vec![("name".into(), "my-key".into())])
            }
            _ => panic!("expected a route"),
        }
        // Names Vault's regex refuses are unknown paths.
        assert!(matches!(
            router.find_mounted(&Method::POST, "/encrypt/trailing-dot."),
            Match::NotFound { .. }
        ));
        // Optional trailing parameters take the rest of the path.
        match router.find_mounted(&Method::POST, "/hash/sha2-256/x") {
            Match::Route { params, .. } => {
                assert_eq!(params, vec![("urlalgorithm".into(), "sha2-256/x".into())])
            }
            _ => panic!("expected a route"),
        }
        assert!(matches!(
            router.find_mounted(&Method::DELETE, "/encrypt/k"),
            Match::MethodNotAllowed { .. }
        ));
        assert!(matches!(
            router.find_mounted(&crate::route::list_method(), "/keys/"),
            Match::Route { .. }
        ));
    }

    #[test]
    fn every_route_path_is_unique_per_method() {
        // Router::new refuses duplicates; building the table proves there are none.
        assert!(Router::new(table()).is_ok());
    }
}
