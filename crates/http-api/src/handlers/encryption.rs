//! ArangoDB's encryption at rest: `/_admin/server/encryption`.
//!
//! POST re-reads the key folder and wraps the internal data key under each
//! key now in it; GET lists the keys in use. Both answer
//! `{"error":false,"code":200,"result":{"encryption-keys":[{"sha256":...}]}}`.

use http::StatusCode;
use keyring_core::KeyHash;
use serde_json::json;

use crate::ctx::{Body, Ctx};
use crate::family::arango::{self, ArangoError, error_num};

fn keys_result(hashes: &[KeyHash]) -> serde_json::Value {
    let keys: Vec<_> = hashes
        .iter()
        .map(|h| json!({"sha256": h.as_str()}))
        .collect();
    json!({ "encryption-keys": keys })
}

fn disabled() -> ArangoError {
    ArangoError::new(
        StatusCode::NOT_FOUND,
        error_num::DISABLED,
        "encryption is disabled: keyward was started without --encryption-keyfolder",
    )
}

/// `POST /_admin/server/encryption`: rotate the user keys.
pub(crate) async fn rotate(ctx: Ctx) -> http::Response<Body> {
    if let Err(e) = arango::check_database(ctx.param("db")) {
        return e.into_response();
    }
    let barrier = &ctx.state.barrier;
    if !barrier.has_key_folder() {
        return disabled().into_response();
    }
    match barrier.rotate_user_keys().await {
        Ok(hashes) => {
            tracing::info!(target: "keyward::encryption", keys = hashes.len(), "user keys rotated");
            // The key hashes are public (GET answers them); never the keys.
            crate::audit::changed(
                &ctx,
                audit_config::AuditTopic::Service,
                audit_config::ComplianceAction::Rotate,
                "encryption/keys",
                hashes.iter().map(|h| h.as_str().to_string()).collect(),
            );
            arango::ok(keys_result(&hashes))
        }
        Err(e @ keyring_core::Error::KeyFolder { .. }) => ArangoError::new(
            StatusCode::BAD_REQUEST,
            error_num::CANNOT_READ_FILE,
            format!("rotation refused, nothing changed: {e}"),
        )
        .into_response(),
        Err(e) => {
            tracing::error!(target: "keyward::encryption", error = %e, "rotation failed");
            ArangoError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                error_num::INTERNAL,
                format!("rotation failed, the previous keys still open the store: {e}"),
            )
            .into_response()
        }
    }
}

/// `GET /_admin/server/encryption`: the keys in use.
pub(crate) async fn read(ctx: Ctx) -> http::Response<Body> {
    if let Err(e) = arango::check_database(ctx.param("db")) {
        return e.into_response();
    }
    if !ctx.state.barrier.has_key_folder() {
        return disabled().into_response();
    }
    arango::ok(keys_result(&ctx.state.barrier.user_key_hashes()))
}
