//! The state every handler shares.

use std::sync::Arc;

use keyring_core::{Barrier, Clock, SecretStore};
use serde::{Deserialize, Serialize};
use tls_inventory::ReloadableTls;

use crate::api::ApiConfig;
use crate::audit::Audit;
use crate::auth::Authenticator;
use crate::security::Security;
use crate::vault::mounts::Mounts;
use crate::vault::policies::Policies;
use crate::vault::quotas::Quotas;

pub(crate) const CLUSTER_PATH: &str = "sys/cluster";

/// Name and id of this keyward cluster, made at first start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ClusterInfo {
    pub(crate) name: String,
    pub(crate) id: String,
}

pub(crate) struct State {
    pub(crate) barrier: Arc<Barrier>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) config: ApiConfig,
    pub(crate) auth: Authenticator,
    pub(crate) security: Security,
    pub(crate) cluster: ClusterInfo,
    pub(crate) mounts: Mounts,
    pub(crate) policies: Policies,
    pub(crate) quotas: Quotas,
    /// The HTTP listener's TLS (none: plain HTTP).
    pub(crate) tls: Option<Arc<ReloadableTls>>,
    /// The transport (node-to-node) listener's TLS (none: no cluster listener).
    pub(crate) transport_tls: Option<Arc<ReloadableTls>>,
    pub(crate) audit: Audit,
    pub(crate) secrets: SecretStore,
}
