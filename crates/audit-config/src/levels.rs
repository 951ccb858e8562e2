//! ArangoDB's log topics and levels (`/_admin/log/level`), including the
//! `audit-*` topics that decide which audit events are written.

use std::collections::BTreeMap;
use std::fmt;

/// A log level, from the least to the most verbose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Only fatal errors.
    Fatal,
    /// Errors.
    Error,
    /// Warnings.
    Warning,
    /// Information.
    Info,
    /// Debugging.
    Debug,
    /// Everything.
    Trace,
    /// Inherit the global level (only as a topic's level).
    Default,
}

impl LogLevel {
    /// ArangoDB's upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Fatal => "FATAL",
            LogLevel::Error => "ERROR",
            LogLevel::Warning => "WARNING",
            LogLevel::Info => "INFO",
            LogLevel::Debug => "DEBUG",
            LogLevel::Trace => "TRACE",
            LogLevel::Default => "DEFAULT",
        }
    }

    /// Parses a level as ArangoDB does: case-insensitive, `err` and `warn`
    /// accepted, `default` or `""` meaning inherit.
    pub fn parse(s: &str) -> Option<LogLevel> {
        Some(match s.to_ascii_lowercase().as_str() {
            "fatal" => LogLevel::Fatal,
            "error" | "err" => LogLevel::Error,
            "warning" | "warn" => LogLevel::Warning,
            "info" => LogLevel::Info,
            "debug" => LogLevel::Debug,
            "trace" => LogLevel::Trace,
            "default" | "" => LogLevel::Default,
            _ => return None,
        })
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The ArangoDB audit topics, each the home of some keyward events. An
/// event is written only while its topic is at INFO or more verbose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditTopic {
    /// FAILED_LOGIN, AUTHENTICATED, BAD_HEADERS, SSL_EXCEPTION.
    Authentication,
    /// MISSING_PRIVILEGES, GRANTED_PRIVILEGES.
    Authorization,
    /// Changes to the security configuration (users, roles, mappings, ...),
    /// to the transit mounts, to Vault ACL policies and to Vault tokens
    /// (created, renewed, revoked: by display name, never by id).
    Database,
    /// Transit key lifecycle: create, config, rotate, trim, delete, import, restore.
    Collection,
    /// No keyward events (kept so that the topic can be set as in ArangoDB).
    View,
    /// Secret store writes and deletes, AES key rotation and deletion.
    Document,
    /// Encryption-at-rest rotation, TLS reload, audit configuration and log level changes.
    Service,
    /// Snapshots (no keyward events yet).
    Hotbackup,
}

impl AuditTopic {
    /// Every audit topic.
    pub const ALL: [AuditTopic; 8] = [
        AuditTopic::Authentication,
        AuditTopic::Authorization,
        AuditTopic::Database,
        AuditTopic::Collection,
        AuditTopic::View,
        AuditTopic::Document,
        AuditTopic::Service,
        AuditTopic::Hotbackup,
    ];

    /// ArangoDB's name of the topic.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditTopic::Authentication => "audit-authentication",
            AuditTopic::Authorization => "audit-authorization",
            AuditTopic::Database => "audit-database",
            AuditTopic::Collection => "audit-collection",
            AuditTopic::View => "audit-view",
            AuditTopic::Document => "audit-document",
            AuditTopic::Service => "audit-service",
            AuditTopic::Hotbackup => "audit-hotbackup",
        }
    }
}

impl fmt::Display for AuditTopic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for AuditTopic {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The names of the audit topics.
pub const AUDIT_TOPICS: &[&str] = &[
    "audit-authentication",
    "audit-authorization",
    "audit-database",
    "audit-collection",
    "audit-view",
    "audit-document",
    "audit-service",
    "audit-hotbackup",
];

/// Which of keyward's own log targets (`tracing` targets) each ArangoDB topic
/// governs. Targets no topic names follow `general` (the global level).
pub const TRACING_TARGETS: &[(&str, &[&str])] = &[
    ("requests", &["keyward::request"]),
    ("ssl", &["keyward::tls"]),
    (
        "communication",
        &["keyward::listener", "hyper", "h2", "rustls"],
    ),
    ("cluster", &["keyward::cluster"]),
    (
        "security",
        &[
            "keyward::security",
            "keyward::encryption",
            "keyward::policies",
            "keyward::quotas",
        ],
    ),
    ("authentication", &["keyward::auth", "keyward::tokens"]),
    (
        "engines",
        &["keyward::transit", "keyward::mounts", "keyward::secrets"],
    ),
    ("backup", &["keyward::snapshot"]),
    ("rocksdb", &["keyward::storage", "redb"]),
    (
        "startup",
        &["keyward::server", "keyward::dev", "keyward::upgrade"],
    ),
    ("audit-service", &["keyward::audit"]),
];

/// ArangoDB's topics with their startup levels (devel `lib/Logger/Topics.h`),
/// plus the audit topics at INFO. One difference: `requests` starts at INFO
/// (ArangoDB: FATAL), because keyward writes one line per request at INFO.
const TOPICS: &[(&str, LogLevel)] = {
    use LogLevel::*;
    &[
        ("agency", Info),
        ("agencycomm", Info),
        ("agencystore", Warning),
        ("aql", Info),
        ("arangosearch", Info),
        ("audit-authentication", Info),
        ("audit-authorization", Info),
        ("audit-collection", Info),
        ("audit-database", Info),
        ("audit-document", Info),
        ("audit-hotbackup", Info),
        ("audit-service", Info),
        ("audit-view", Info),
        ("authentication", Warning),
        ("authorization", Default),
        ("backup", Default),
        ("bench", Info),
        ("cache", Info),
        ("cluster", Info),
        ("communication", Info),
        ("config", Default),
        ("crash", Default),
        ("deprecation", Info),
        ("development", Fatal),
        ("dump", Info),
        ("engines", Info),
        ("flush", Info),
        ("general", Info),
        ("graphs", Info),
        ("heartbeat", Info),
        ("httpclient", Warning),
        ("libiresearch", Info),
        ("license", Info),
        ("maintenance", Info),
        ("memory", Info),
        ("queries", Info),
        ("rep-state", Warning),
        ("rep-wal", Warning),
        ("replication", Info),
        ("replication2", Warning),
        ("requests", Info),
        ("restore", Info),
        ("rocksdb", Warning),
        ("security", Info),
        ("ssl", Warning),
        ("startup", Info),
        ("statistics", Info),
        ("supervision", Info),
        ("syscall", Info),
        ("threads", Warning),
        ("trx", Warning),
        ("ttl", Warning),
        ("v8", Warning),
        ("validation", Info),
        ("views", Fatal),
    ]
};

/// Why a level change was refused; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LevelsError {
    /// The topic does not exist.
    #[error("Failed to update log levels: Unknown log topic {0}")]
    UnknownTopic(String),
    /// The level is not one of FATAL, ERROR, WARNING, INFO, DEBUG, TRACE, DEFAULT.
    #[error("Failed to update log levels: Unknown enum value {value} at path ['{topic}']")]
    BadLevel {
        /// The topic it was given for.
        topic: String,
        /// The value, upper-cased.
        value: String,
    },
    /// A value that is not a string.
    #[error("Failed to update log levels: Expecting type String at path ['{0}']")]
    NotAString(String),
    /// An output (`withAppenders`) that does not exist; keyward has one, `-`.
    #[error("Failed to update log levels: Unknown appender {0}")]
    UnknownAppender(String),
}

/// The name of keyward's one log output (standard error), as ArangoDB names stdout.
pub const APPENDER: &str = "-";

/// One requested change: a topic (or `all`) and a level string.
pub type LevelChange = (String, Option<String>);

/// The level of every topic now, and at startup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLevels {
    global: LogLevel,
    levels: BTreeMap<String, LogLevel>,
    startup: (LogLevel, BTreeMap<String, LogLevel>),
}

impl Default for LogLevels {
    fn default() -> Self {
        let levels: BTreeMap<String, LogLevel> =
            TOPICS.iter().map(|(t, l)| (t.to_string(), *l)).collect();
        LogLevels {
            global: LogLevel::Info,
            startup: (LogLevel::Info, levels.clone()),
            levels,
        }
    }
}

impl LogLevels {
    /// The map `GET /_admin/log/level` answers with.
    pub fn topics(&self) -> &BTreeMap<String, LogLevel> {
        &self.levels
    }

    /// The global level.
    pub fn global(&self) -> LogLevel {
        self.global
    }

    /// The `withAppenders` form: applies the `global` changes and those of
    /// each appender (keyward has one, `-`, so both land on the same
    /// levels), every one or none.
    pub fn apply_with_appenders(
        &mut self,
        global: &[LevelChange],
        appenders: &[(String, Vec<LevelChange>)],
    ) -> Result<(), LevelsError> {
        if let Some((name, _)) = appenders.iter().find(|(name, _)| name != APPENDER) {
            return Err(LevelsError::UnknownAppender(name.clone()));
        }
        let mut next = self.clone();
        next.apply(global)?;
        for (_, changes) in appenders {
            next.apply(changes)?;
        }
        *self = next;
        Ok(())
    }

    /// The `tracing` filter directives for keyward's own log lines: the
    /// global level, then each target at the level of its topic
    /// ([`TRACING_TARGETS`]).
    pub fn tracing_directives(&self) -> String {
        fn name(l: LogLevel) -> &'static str {
            match l {
                LogLevel::Fatal | LogLevel::Error => "error",
                LogLevel::Warning => "warn",
                LogLevel::Info | LogLevel::Default => "info",
                LogLevel::Debug => "debug",
                LogLevel::Trace => "trace",
            }
        }
        let mut out = name(self.global).to_string();
        for (topic, targets) in TRACING_TARGETS {
            let level = self.effective(topic);
            for target in *targets {
                out.push(',');
                out.push_str(target);
                out.push('=');
                out.push_str(name(level));
            }
        }
        out
    }

    /// Applies every change or none. `all` sets every topic; a `None` value
    /// (not a string) is an error.
    pub fn apply(&mut self, changes: &[LevelChange]) -> Result<(), LevelsError> {
        let mut next = self.levels.clone();
        for (topic, value) in changes {
            let value = value
                .as_deref()
                .ok_or_else(|| LevelsError::NotAString(topic.clone()))?;
            let level = LogLevel::parse(value).ok_or_else(|| LevelsError::BadLevel {
                topic: topic.clone(),
                value: value.to_ascii_uppercase(),
            })?;
            if topic == "all" {
                for l in next.values_mut() {
                    *l = level;
                }
            } else {
                let slot = next
                    .get_mut(topic.as_str())
                    .ok_or_else(|| LevelsError::UnknownTopic(topic.clone()))?;
                *slot = level;
            }
        }
        self.levels = next;
        Ok(())
    }

    /// `PUT` with a string body: the global level and the `general` topic.
    /// An unknown string falls back to INFO, as ArangoDB does.
    pub fn set_global(&mut self, value: &str) {
        let level = match LogLevel::parse(value) {
            Some(LogLevel::Default) | None => LogLevel::Info,
            Some(l) => l,
        };
        self.global = level;
        self.levels.insert("general".into(), level);
    }

    /// Back to the startup levels (`DELETE /_admin/log/level`).
    pub fn reset(&mut self) {
        self.global = self.startup.0;
        self.levels = self.startup.1.clone();
    }

    /// The effective level of a topic (`DEFAULT` inherits the global level).
    pub fn effective(&self, topic: &str) -> LogLevel {
        match self.levels.get(topic).copied().unwrap_or(LogLevel::Default) {
            LogLevel::Default => self.global,
            l => l,
        }
    }

    /// True when an event of `level` on `topic` is written: the topic must
    /// be at least as verbose as the event.
    pub fn allows(&self, topic: &str, level: LogLevel) -> bool {
        level <= self.effective(topic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(t: &str, v: &str) -> LevelChange {
        (t.to_string(), Some(v.to_string()))
    }

    #[test]
    fn changes_are_all_or_nothing_with_arango_texts() {
        let mut levels = LogLevels::default();
        let before = levels.clone();
        let err = levels
            .apply(&[change("all", "debug"), change("invalidTopic", "info")])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Failed to update log levels: Unknown log topic invalidTopic"
        );
        assert_eq!(levels, before);
        let err = levels
            .apply(&[change("general", "invalidlevel")])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Failed to update log levels: Unknown enum value INVALIDLEVEL at path ['general']"
        );
        levels
            .apply(&[
                change("agency", "DEBUG"),
                change("engines", "info"),
                change("threads", "warn"),
            ])
            .unwrap();
        assert_eq!(levels.topics()["agency"], LogLevel::Debug);
        assert_eq!(levels.topics()["threads"], LogLevel::Warning);
        levels.apply(&[change("ssl", "default")]).unwrap();
        assert_eq!(levels.topics()["ssl"], LogLevel::Default);
        levels.reset();
        assert_eq!(levels, before);
    }

    #[test]
    fn a_topic_at_warning_silences_info_events() {
        let mut levels = LogLevels::default();
        assert!(levels.allows("audit-authentication", LogLevel::Info));
        levels
            .apply(&[change("audit-authentication", "warning")])
            .unwrap();
        assert!(!levels.allows("audit-authentication", LogLevel::Info));
        assert!(levels.allows("audit-authentication", LogLevel::Warning));
        levels
            .apply(&[change("audit-authentication", "default")])
            .unwrap();
        assert!(
            levels.allows("audit-authentication", LogLevel::Info),
            "inherits the global INFO"
        );
    }

    #[test]
    fn every_audit_topic_exists() {
        let levels = LogLevels::default();
        for t in AUDIT_TOPICS {
            assert_eq!(levels.topics()[*t], LogLevel::Info);
        }
        let names: Vec<&str> = AuditTopic::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(names, AUDIT_TOPICS);
        for (topic, _) in TRACING_TARGETS {
            assert!(levels.topics().contains_key(*topic), "{topic}");
        }
    }

    /// Every `keyward::*` log target the workspace uses belongs to a
    /// topic, so `/_admin/log/level` reaches every log line of the server.
    #[test]
    fn every_log_target_of_the_workspace_has_a_topic() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut missing = Vec::new();
        let mut stack = vec![root.join("crates"), root.join("bins")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for piece in text.split("target: \"").skip(1) {
                        let target = piece.split('"').next().unwrap_or("");
                        let known = TRACING_TARGETS
                            .iter()
                            .any(|(_, targets)| targets.contains(&target));
                        if target.starts_with("keyward::") && !known {
                            missing.push(format!("{target} ({})", path.display()));
                        }
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "log targets without a topic: {missing:?}"
        );
    }

    #[test]
    fn appenders_and_tracing_directives() {
        let mut levels = LogLevels::default();
        let before = levels.clone();
        let err = levels
            .apply_with_appenders(
                &[change("general", "debug")],
                &[("invalidAppender".into(), vec![change("general", "info")])],
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Failed to update log levels: Unknown appender invalidAppender"
        );
        assert_eq!(levels, before);
        levels
            .apply_with_appenders(
                &[change("requests", "warning")],
                &[("-".into(), vec![change("ssl", "debug")])],
            )
            .unwrap();
        let d = levels.tracing_directives();
        assert!(d.starts_with("info,"), "{d}");
        assert!(d.contains("keyward::request=warn"), "{d}");
        assert!(d.contains("keyward::tls=debug"), "{d}");
        levels.apply(&[change("ssl", "default")]).unwrap();
        levels.set_global("error");
        let d = levels.tracing_directives();
        assert!(
            d.starts_with("error,") && d.contains("keyward::tls=error"),
            "{d}"
        );
    }
}
