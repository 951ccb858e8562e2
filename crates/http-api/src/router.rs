//! Matching a request to a route of the table.

use http::Method;

use crate::Error;
use crate::ctx::percent_decode;
use crate::family::family_of_path;
use crate::route::{Family, Route};

pub(crate) struct Router {
    paths: matchit::Router<usize>,
    groups: Vec<Vec<Route>>,
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

impl Router {
    pub(crate) fn new(routes: Vec<Route>) -> Result<Self, Error> {
        let mut paths = matchit::Router::new();
        let mut groups: Vec<Vec<Route>> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = Default::default();
        for route in routes {
            let slot = match index.get(&route.path) {
                Some(&slot) => slot,
                None => {
                    let slot = groups.len();
                    paths
                        .insert(route.path.clone(), slot)
                        .map_err(|e| Error::Routes(format!("{}: {e}", route.path)))?;
                    index.insert(route.path.clone(), slot);
                    groups.push(Vec::new());
                    slot
                }
            };
            let group = &mut groups[slot];
            if group
                .iter()
                .any(|r| r.methods.iter().any(|m| route.methods.contains(m)))
            {
                return Err(Error::Routes(format!("{} has a method twice", route.path)));
            }
            group.push(route);
        }
        Ok(Router { paths, groups })
    }

    pub(crate) fn find(&self, method: &Method, path: &str) -> Match<'_> {
        // `P/roles/` is `P/roles`, as OpenSearch's core routes it.
        let trimmed = if path.len() > 1 {
            path.trim_end_matches('/')
        } else {
            path
        };
        let Ok(m) = self.paths.at(trimmed) else {
            return Match::NotFound {
                family: family_of_path(path),
            };
        };
        let group = &self.groups[*m.value];
        let family = group[0].family;
        let Some(route) = group.iter().find(|r| r.methods.contains(method)) else {
            let mut allowed: Vec<Method> = group
                .iter()
                .flat_map(|r| r.methods.iter().cloned())
                .collect();
            allowed.sort_by(|a, b| a.as_str().cmp(b.as_str()));
            return Match::MethodNotAllowed { family, allowed };
        };
        let mut params = Vec::new();
        for (k, v) in m.params.iter() {
            match percent_decode(v) {
                Some(v) => params.push((k.to_string(), v)),
                None => return Match::NotFound { family },
            }
        }
        Match::Route { route, params }
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
    fn every_route_path_is_unique_per_method() {
        // Router::new refuses duplicates; building the table proves there are none.
        assert!(Router::new(table()).is_ok());
    }
}
