//! Health endpoints: open to everyone, no credentials needed.

use http::StatusCode;
use serde::Serialize;

use crate::ctx::{Body, Ctx};
use crate::family::{opensearch, vault};

/// Go's `strconv.ParseBool`, as Vault reads `standbyok` and `perfstandbyok`.
fn go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// The status `GET /v1/sys/health` answers with: Vault's query parameters
/// are read (each code must be a number, each flag a Go bool, or the
/// request is `400 {"errors":[]}`); keyward is always initialised,
/// unsealed and active, so `activecode` (default 200) is the one that
/// applies.
fn health_status(query: Option<&str>) -> Result<StatusCode, ()> {
    const CODES: &[&str] = &[
        "activecode",
        "standbycode",
        "drsecondarycode",
        "haunhealthycode",
        "performancestandbycode",
        "removedcode",
        "sealedcode",
        "uninitcode",
    ];
    let mut status = StatusCode::OK;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if CODES.contains(&key) {
            let code: i64 = value.trim_start_matches('+').parse().map_err(|_| ())?;
            // Go accepts any int and then fails to write a status outside
            // 100..=999; keyward refuses it up front.
            let code = u16::try_from(code).map_err(|_| ())?;
            let code = StatusCode::from_u16(code).map_err(|_| ())?;
            if key == "activecode" {
                status = code;
            }
        } else if key == "standbyok" || key == "perfstandbyok" {
            go_bool(value).ok_or(())?;
        }
    }
    Ok(status)
}

/// `GET /v1/sys/health`, with Vault's fields and no envelope.
pub(crate) async fn vault(ctx: Ctx) -> http::Response<Body> {
    let Ok(status) = health_status(ctx.query()) else {
        return vault::raw(StatusCode::BAD_REQUEST, &serde_json::json!({"errors": []}));
    };
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
    if status == StatusCode::NO_CONTENT {
        return vault::no_content();
    }
    vault::raw(
        status,
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

/// `GET /_admin/server/availability`: ArangoDB's readiness probe, open to
/// everyone. 200 `{"code":200,"error":false,"mode":"default"}` while the
/// store answers and takes writes; 503 in ArangoDB's error shape, saying
/// why, when it does not (a full disk, an I/O error), so a load balancer
/// sends traffic elsewhere while reads on this node keep working.
pub(crate) async fn availability(ctx: Ctx) -> http::Response<Body> {
    let barrier = &ctx.state.barrier;
    let problem = match barrier.probe(crate::state::CLUSTER_PATH).await {
        Err(e) => Some(format!("the store does not answer: {e}")),
        Ok(()) => barrier
            .write_failure()
            .map(|why| format!("the store refuses writes: {why}")),
    };
    match problem {
        None => crate::family::json_response(
            StatusCode::OK,
            crate::family::arango::CONTENT_TYPE,
            &serde_json::json!({"code": 200, "error": false, "mode": "default"}),
        ),
        Some(why) => {
            crate::family::arango::ArangoError::new(StatusCode::SERVICE_UNAVAILABLE, 503, why)
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_health_parameters_as_vault_reads_them() {
        assert_eq!(health_status(None), Ok(StatusCode::OK));
        assert_eq!(health_status(Some("activecode=299")).unwrap().as_u16(), 299);
        assert_eq!(
            health_status(Some("activecode=204")),
            Ok(StatusCode::NO_CONTENT)
        );
        assert_eq!(
            health_status(Some("sealedcode=200&standbyok=true")),
            Ok(StatusCode::OK)
        );
        assert_eq!(health_status(Some("unknown=1")), Ok(StatusCode::OK));
        for bad in [
            "activecode=abc",
            "activecode=",
            "sealedcode=x",
            "standbyok=maybe",
            "activecode=99",
            "activecode=1000",
            "activecode=-200",
        ] {
            assert_eq!(health_status(Some(bad)), Err(()), "{bad}");
        }
    }
}
