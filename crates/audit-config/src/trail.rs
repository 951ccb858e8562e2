//! The audit trail: the current configuration, the log levels of the audit
//! topics and the sink, behind one small type that the request path asks
//! ("is this event wanted?") and feeds.

use std::sync::Arc;

use arc_swap::ArcSwap;
use keyring_core::{Clock, Timestamp};

use crate::{
    AuditCategory, AuditConfig, AuditEvent, AuditFilter, AuditSink, AuditTopic, LogLevel,
    LogLevels, SinkCounts,
};

/// Who this server is, as events name it.
#[derive(Debug, Clone, Default)]
pub struct NodeIdentity {
    /// `audit_node_name`.
    pub node_name: Option<Arc<str>>,
    /// `audit_cluster_name`.
    pub cluster_name: Option<Arc<str>>,
}

/// What decides whether an event is written, and where it goes.
pub struct AuditTrail {
    filter: ArcSwap<AuditFilter>,
    levels: ArcSwap<LogLevels>,
    sink: Option<Arc<AuditSink>>,
    node: NodeIdentity,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for AuditTrail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditTrail")
            .field("sink", &self.sink)
            .finish_non_exhaustive()
    }
}

impl AuditTrail {
    /// A trail writing to `sink` (none: events are decided on and dropped,
    /// which is what an embedder without an audit log gets).
    pub fn new(
        config: &AuditConfig,
        levels: LogLevels,
        sink: Option<Arc<AuditSink>>,
        node: NodeIdentity,
        clock: Arc<dyn Clock>,
    ) -> Self {
        AuditTrail {
            filter: ArcSwap::from_pointee(AuditFilter::new(config)),
            levels: ArcSwap::from_pointee(levels),
            sink,
            node,
            clock,
        }
    }

    /// The compiled configuration now.
    pub fn filter(&self) -> Arc<AuditFilter> {
        self.filter.load_full()
    }

    /// Swaps in a new configuration.
    pub fn set_config(&self, config: &AuditConfig) {
        self.filter.store(Arc::new(AuditFilter::new(config)));
    }

    /// The log levels now.
    pub fn levels(&self) -> Arc<LogLevels> {
        self.levels.load_full()
    }

    /// Swaps in new log levels.
    pub fn set_levels(&self, levels: LogLevels) {
        self.levels.store(Arc::new(levels));
    }

    /// The time an event is stamped with.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn topic_open(&self, topic: AuditTopic) -> bool {
        self.sink.is_some() && self.levels.load().allows(topic.as_str(), LogLevel::Info)
    }

    /// True when a REST event of `category` by `user` on `path` would be
    /// written: the configuration wants it and its topic is at INFO or more
    /// verbose. Cheap; ask before building the event.
    pub fn wants_rest(&self, category: AuditCategory, user: Option<&str>, path: &str) -> bool {
        self.topic_open(category.rest_topic())
            && self.filter.load().wants_rest(category, user, path)
    }

    /// True when a change by `user` filed under `topic` would be written.
    pub fn wants_config_write(&self, topic: AuditTopic, user: Option<&str>) -> bool {
        self.topic_open(topic) && self.filter.load().wants_config_write(user)
    }

    /// Queues an event the caller decided is wanted (see `wants_*`); adds
    /// the node's identity.
    pub fn record(&self, mut event: AuditEvent) {
        if let Some(sink) = &self.sink {
            event.audit_node_name = self.node.node_name.clone();
            event.audit_cluster_name = self.node.cluster_name.clone();
            sink.push(event);
        }
    }

    /// The sink's counters and queue capacity, when there is a sink.
    pub fn counts(&self) -> Option<(SinkCounts, usize)> {
        self.sink
            .as_ref()
            .map(|s| (s.stats().counts(), s.capacity()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SinkConfig;

    struct Fixed;
    impl Clock for Fixed {
        fn now(&self) -> Timestamp {
            Timestamp::from_unix_secs(0)
        }
    }

    #[test]
    fn topic_levels_and_the_configuration_decide() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let sink = Arc::new(AuditSink::open(SinkConfig::new(&path), Arc::new(Fixed)).unwrap());
        let trail = AuditTrail::new(
            &AuditConfig::shipped(),
            LogLevels::default(),
            Some(sink.clone()),
            NodeIdentity {
                node_name: Some("n1".into()),
                cluster_name: Some("c1".into()),
            },
            Arc::new(Fixed),
        );
        assert!(trail.wants_rest(AuditCategory::FailedLogin, Some("bob"), "/x"));
        assert!(!trail.wants_rest(AuditCategory::GrantedPrivileges, Some("bob"), "/x"));
        let mut levels = LogLevels::default();
        levels
            .apply(&[("audit-authentication".into(), Some("warning".into()))])
            .unwrap();
        trail.set_levels(levels);
        assert!(!trail.wants_rest(AuditCategory::FailedLogin, Some("bob"), "/x"));
        assert!(trail.wants_config_write(AuditTopic::Document, Some("bob")));
        let mut all = AuditConfig::shipped();
        all.audit.disabled_rest_categories.clear();
        trail.set_config(&all);
        assert!(trail.wants_rest(AuditCategory::GrantedPrivileges, Some("bob"), "/x"));
        trail.record(AuditEvent::new(
            AuditCategory::GrantedPrivileges,
            AuditTopic::Authorization,
            trail.now(),
        ));
        sink.shutdown();
        let line: serde_json::Value =
            serde_json::from_str(std::fs::read_to_string(&path).unwrap().trim()).unwrap();
        assert_eq!(line["audit_node_name"], "n1");
        assert_eq!(line["audit_cluster_name"], "c1");

        let silent = AuditTrail::new(
            &AuditConfig::shipped(),
            LogLevels::default(),
            None,
            NodeIdentity::default(),
            Arc::new(Fixed),
        );
        assert!(!silent.wants_rest(AuditCategory::FailedLogin, None, "/x"));
    }
}
