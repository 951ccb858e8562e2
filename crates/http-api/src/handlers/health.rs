//! Health endpoints: open to everyone, no credentials needed.

use http::StatusCode;
use serde::Serialize;

use crate::ctx::{Body, Ctx};
use crate::family::{opensearch, vault};

/// `GET /v1/sys/health`, with Vault's fields and no envelope.
pub(crate) async fn vault(ctx: Ctx) -> http::Response<Body> {
    #[derive(Serialize)]
    struct Health<'a> {
        initialized: bool,
        sealed: bool,
        standby: bool,
        performance_standby: bool,
        replication_performance_mode: &'static str,
        replication_dr_mode: &'static str,
        server_time_utc: i64,
        version: &'a str,
        cluster_name: &'a str,
        cluster_id: &'a str,
    }
    let state = &ctx.state;
    vault::raw(
        StatusCode::OK,
        &Health {
            initialized: true,
            sealed: false,
            standby: false,
            performance_standby: false,
            replication_performance_mode: "disabled",
            replication_dr_mode: "disabled",
            server_time_utc: state.clock.now().unix_secs(),
            version: &state.config.version,
            cluster_name: &state.cluster.name,
            cluster_id: &state.cluster.id,
        },
    )
}

/// `GET /_plugins/_security/health`: `mode` echoes `?mode=` (`strict` by
/// default); keyward is initialised whenever it answers.
pub(crate) async fn opensearch(ctx: Ctx) -> http::Response<Body> {
    let mode = crate::handlers::security::query(&ctx, "mode")
        .filter(|m| *m == "lenient")
        .unwrap_or("strict");
    let ttl = ctx.state.security.settings.cache.ttl_minutes;
    crate::family::json_response(
        StatusCode::OK,
        opensearch::CONTENT_TYPE,
        &serde_json::json!({
            "message": null,
            "mode": mode,
            "status": "UP",
            "settings": {"plugins.security.cache.ttl_minutes": ttl},
        }),
    )
}
