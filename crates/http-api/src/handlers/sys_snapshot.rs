//! `/v1/sys/storage/raft/snapshot`: download a snapshot of the whole store,
//! or restore one into the running server, as Vault's integrated storage
//! answers them (`GET` the bytes, `POST` the bytes back, 204).
//!
//! A snapshot is keyward's own format (keyring-core's `Snapshot`): every
//! stored value still sealed by the barrier, the keystore file, and a
//! SHA-256 over the whole. It is useless without a key of the key folder.

use http::StatusCode;
use keyring_core::Snapshot;

use crate::ctx::{Body, Ctx};
use crate::family::vault::{self, VaultError};

fn storage_failure(e: &keyring_core::Error) -> VaultError {
    tracing::error!(target: "keyward::snapshot", error = %e, "snapshot failed");
    VaultError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

/// `GET /v1/sys/storage/raft/snapshot`: one read transaction, streamed back
/// as `application/octet-stream`.
pub(crate) async fn take(ctx: Ctx) -> http::Response<Body> {
    match ctx.state.barrier.snapshot(ctx.state.clock.now()).await {
        Ok(bytes) => http::Response::builder()
            .status(StatusCode::OK)
            .header(http::header::CONTENT_TYPE, "application/octet-stream")
            .header(
                http::header::CONTENT_DISPOSITION,
                "attachment; filename=\"keyward.snapshot\"",
            )
            .header(http::header::CACHE_CONTROL, "no-store")
            .body(Body::from(bytes))
            .unwrap_or_else(|_| VaultError::permission_denied().into_response()),
        Err(e) => storage_failure(&e).into_response(),
    }
}

/// `POST /v1/sys/storage/raft/snapshot` with a snapshot as the body: waits
/// for the requests in flight, replaces the store's contents in one atomic
/// write, rebuilds every in-memory index from it, 204. A damaged snapshot,
/// or one from another data store, is a 400 and changes nothing.
pub(crate) async fn restore(ctx: Ctx) -> http::Response<Body> {
    let body = ctx.body.clone();
    let parsed = tokio::task::spawn_blocking(move || Snapshot::parse(&body)).await;
    let snapshot = match parsed {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return VaultError::bad_request(e.to_string()).into_response(),
        Err(e) => {
            return VaultError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
                .into_response();
        }
    };
    let _alone = ctx.life.exclusive().await;
    match ctx.state.barrier.restore(&snapshot).await {
        Ok(n) => {
            tracing::info!(target: "keyward::snapshot", entries = n, taken = snapshot.created.unix_secs(), "snapshot restored");
        }
        Err(e @ keyring_core::Error::Snapshot(_))
        | Err(e @ keyring_core::Error::Corrupt { .. }) => {
            return VaultError::bad_request(e.to_string()).into_response();
        }
        Err(e) => return storage_failure(&e).into_response(),
    }
    match ctx.life.reload().await {
        Ok(()) => vault::no_content(),
        Err(e) => {
            tracing::error!(target: "keyward::snapshot", error = %e, "the restored store could not be loaded");
            VaultError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()
        }
    }
}
