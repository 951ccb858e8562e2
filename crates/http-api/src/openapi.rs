//! The OpenAPI 3.1 document, generated from the route table
//! (`cargo xtask openapi` writes it to `docs/openapi.json`).

use serde_json::{Map, Value, json};

use crate::route::{Family, RouteInfo, routes};

fn error_schema(family: Family) -> &'static str {
    match family {
        Family::Vault => "#/components/schemas/VaultError",
        Family::OpenSearch => "#/components/schemas/OpenSearchError",
        Family::Arango => "#/components/schemas/ArangoError",
        Family::Atlassian => "#/components/schemas/AtlassianError",
    }
}

fn path_params(path: &str) -> Vec<Value> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            json!({
                "name": name.trim_start_matches('*'),
                "in": "path",
                "required": true,
                "schema": {"type": "string"},
            })
        })
        .collect()
}

/// The OpenAPI form of a path: catch-alls (`{*rest}`) are plain parameters.
fn openapi_path(path: &str) -> String {
    path.replace("{*", "{")
}

fn operation(route: &RouteInfo) -> Value {
    // Vault takes a token (X-Vault-Token or Bearer); the other families take
    // Basic credentials, or a token as Bearer.
    let security = if route.permission == "open" {
        json!([])
    } else if route.family == Family::Vault {
        json!([{"token": []}, {"bearer": []}])
    } else {
        json!([{"basic": []}, {"bearer": []}])
    };
    json!({
        "summary": route.summary,
        "tags": [route.family],
        "deprecated": route.deprecated,
        "x-keyward-permission": route.permission,
        "parameters": path_params(&route.path),
        "security": security,
        "responses": responses(route),
    })
}

/// What an operation answers: a JSON success, an empty one (Vault's writes
/// answer 204), and errors in the family's shape; the OpenSearch plugin's
/// authentication layer answers 401 in plain text.
fn responses(route: &RouteInfo) -> Value {
    let family = route.family;
    let mut responses = json!({
        "200": {"description": "Success", "content": {"application/json": {"schema": {}}}},
        "204": {"description": "Success, no body"},
        "default": {
                "description": "An error, in the shape of the route's API family",
                "content": {"application/json": {"schema": {"$ref": error_schema(family)}}},
        },
    });
    // The metrics routes answer Prometheus' text format (always on ArangoDB's
    // path; with `?format=prometheus` on Vault's).
    if route.path.ends_with("/metrics/v2") || route.path == "/v1/sys/metrics" {
        responses["200"]["content"]["text/plain"] = json!({"schema": {"type": "string"}});
    }
    // A raft snapshot is a binary file.
    if route.path == "/v1/sys/storage/raft/snapshot" {
        responses["200"]["content"] = json!({
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        });
    }
    if family == Family::OpenSearch {
        responses["401"] = json!({
            "description": "Not authenticated (the plugin's plain-text answer)",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        });
    }
    responses
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in routes() {
        let item = paths
            .entry(openapi_path(&route.path))
            .or_insert_with(|| Value::Object(Map::new()));
        for method in &route.methods {
            let Value::Object(ops) = item else { continue };
            if method == "LIST" {
                // LIST (Vault) is no OpenAPI method: it is GET ?list=true.
                let mut op = operation(&route);
                if let Some(Value::Array(params)) = op.get_mut("parameters") {
                    params.push(json!({
                        "name": "list",
                        "in": "query",
                        "required": true,
                        "schema": {"type": "boolean", "const": true},
                    }));
                }
                ops.insert("get".into(), op);
            } else {
                ops.insert(method.to_lowercase(), operation(&route));
            }
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "keyward",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "One server for Vault-Transit-compatible encryption, OpenSearch-Security-compatible identity and access control, ArangoDB-style TLS and encryption-at-rest management, Atlassian-style secret keys and audit logging. Generated from the route table.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer"},
                "token": {"type": "apiKey", "in": "header", "name": "X-Vault-Token"},
            },
            "schemas": {
                "VaultError": {
                    "type": "object",
                    "required": ["errors"],
                    "properties": {"errors": {"type": "array", "items": {"type": "string"}}},
                },
                "OpenSearchError": {"type": ["object", "string"]},
                "ArangoError": {
                    "type": "object",
                    "required": ["error", "code", "errorNum", "errorMessage"],
                    "properties": {
                        "error": {"type": "boolean"},
                        "code": {"type": "integer"},
                        "errorNum": {"type": "integer"},
                        "errorMessage": {"type": "string"},
                    },
                },
                "AtlassianError": {
                    "type": "object",
                    "required": ["message", "status"],
                    "properties": {"message": {"type": "string"}, "status": {"type": "string"}},
                },
            },
        },
    })
}

/// The document as the committed file holds it: pretty JSON and a newline.
pub fn document_text() -> String {
    let mut text = serde_json::to_string_pretty(&document()).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_document_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == super::document_text(),
            "docs/openapi.json is stale: run `cargo xtask openapi` and commit the result"
        );
    }
}
