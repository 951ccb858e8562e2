//! `auth_failure_listeners`: brute-force protection. Failed logins are
//! counted per client address and per user name; a client that reaches
//! `allowed_tries` inside `time_window_seconds` is blocked for
//! `block_expiry_seconds`. Blocks live in memory, as in the plugin.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use rbac_model::model::{AuthFailureListener, ListenerType};
use rbac_model::pattern::PatternSet;

#[derive(Default)]
struct Client {
    failures: VecDeque<Instant>,
    blocked_until: Option<Instant>,
}

struct Listener {
    config: AuthFailureListener,
    ignore: PatternSet,
    clients: Mutex<HashMap<String, Client>>,
}

impl Listener {
    fn window(&self) -> Duration {
        Duration::from_secs(self.config.time_window_seconds)
    }

    fn is_blocked(&self, key: &str, now: Instant) -> bool {
        if self.ignore.matches(key) {
            return false;
        }
        let clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients
            .get(key)
            .and_then(|c| c.blocked_until)
            .is_some_and(|until| until > now)
    }

    fn record(&self, key: &str, now: Instant) {
        if self.ignore.matches(key) {
            return;
        }
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if !clients.contains_key(key) && clients.len() >= self.config.max_tracked_clients {
            // Forget clients that are neither blocked nor recently failing.
            let window = self.window();
            clients.retain(|_, c| {
                c.blocked_until.is_some_and(|u| u > now)
                    || c.failures
                        .back()
                        .is_some_and(|t| now.duration_since(*t) < window)
            });
            if clients.len() >= self.config.max_tracked_clients {
                return;
            }
        }
        let blocked = clients
            .values()
            .filter(|c| c.blocked_until.is_some_and(|u| u > now))
            .count();
        let client = clients.entry(key.to_string()).or_default();
        let window = self.window();
        while client
            .failures
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            client.failures.pop_front();
        }
        client.failures.push_back(now);
        if client.failures.len() >= self.config.allowed_tries.max(1) as usize
            && blocked < self.config.max_blocked_clients
        {
            client.blocked_until =
                Some(now + Duration::from_secs(self.config.block_expiry_seconds));
            client.failures.clear();
        }
    }
}

/// Every configured listener.
#[derive(Default)]
pub(crate) struct AuthFailures {
    listeners: RwLock<Vec<(String, Listener)>>,
}

impl AuthFailures {
    /// Applies the configured listeners; unchanged ones keep their counts.
    pub(crate) fn configure(&self, wanted: &BTreeMap<String, AuthFailureListener>) {
        let mut listeners = self.listeners.write().unwrap_or_else(|p| p.into_inner());
        let same = listeners.len() == wanted.len()
            && listeners
                .iter()
                .all(|(name, l)| wanted.get(name) == Some(&l.config));
        if same {
            return;
        }
        let mut old: HashMap<String, Listener> = listeners.drain(..).collect();
        for (name, config) in wanted {
            let listener = match old.remove(name) {
                Some(l) if &l.config == config => l,
                _ => Listener {
                    ignore: PatternSet::new(config.ignore_hosts.iter().map(String::as_str)),
                    config: config.clone(),
                    clients: Mutex::new(HashMap::new()),
                },
            };
            listeners.push((name.clone(), listener));
        }
    }

    fn any(&self, kind: ListenerType, f: impl Fn(&Listener) -> bool) -> bool {
        let listeners = self.listeners.read().unwrap_or_else(|p| p.into_inner());
        listeners
            .iter()
            .any(|(_, l)| l.config.listener_type == kind && f(l))
    }

    /// True when the client address is blocked.
    pub(crate) fn ip_blocked(&self, ip: Option<IpAddr>) -> bool {
        let Some(ip) = ip else { return false };
        let key = ip.to_string();
        let now = Instant::now();
        self.any(ListenerType::Ip, |l| l.is_blocked(&key, now))
    }

    /// True when the user name is blocked for the internal user database.
    pub(crate) fn user_blocked(&self, user: &str) -> bool {
        let now = Instant::now();
        self.any(ListenerType::Username, |l| l.is_blocked(user, now))
    }

    /// Counts one failed login.
    pub(crate) fn record_failure(&self, ip: Option<IpAddr>, user: Option<&str>) {
        let now = Instant::now();
        let listeners = self.listeners.read().unwrap_or_else(|p| p.into_inner());
        for (_, l) in listeners.iter() {
            match (l.config.listener_type, ip, user) {
                (ListenerType::Ip, Some(ip), _) => l.record(&ip.to_string(), now),
                (ListenerType::Username, _, Some(user)) => l.record(user, now),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_blocked_after_allowed_tries() {
        let f = AuthFailures::default();
        let mut map = BTreeMap::new();
        map.insert(
            "ip".to_string(),
            AuthFailureListener {
                allowed_tries: 2,
                ..Default::default()
            },
        );
        f.configure(&map);
        let ip: Option<IpAddr> = Some("10.0.0.1".parse().unwrap());
        assert!(!f.ip_blocked(ip));
        f.record_failure(ip, Some("u"));
        assert!(!f.ip_blocked(ip));
        f.record_failure(ip, Some("u"));
        assert!(f.ip_blocked(ip));
        assert!(!f.ip_blocked(Some("10.0.0.2".parse().unwrap())));
        assert!(!f.user_blocked("u"));
    }
}
