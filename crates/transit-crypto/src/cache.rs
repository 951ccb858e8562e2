//! The in-memory cache of key policies: every key (size 0, the default) or
//! the `size` most recently used ones (Vault's `cache-config`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::Policy;

pub(crate) struct PolicyCache {
    /// 0 means unlimited.
    capacity: usize,
    entries: HashMap<String, (Arc<Policy>, u64)>,
    /// Use order: tick -> name; the smallest tick is evicted first.
    order: BTreeMap<u64, String>,
    tick: u64,
}

impl PolicyCache {
    pub(crate) fn new(capacity: usize) -> Self {
        PolicyCache {
            capacity,
            entries: HashMap::new(),
            order: BTreeMap::new(),
            tick: 0,
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    pub(crate) fn get(&mut self, name: &str) -> Option<Arc<Policy>> {
        if self.capacity == 0 {
            // Unlimited: no use order to keep.
            return self.entries.get(name).map(|(p, _)| p.clone());
        }
        let tick = self.next_tick();
        let (policy, old) = {
            let entry = self.entries.get_mut(name)?;
            let old = std::mem::replace(&mut entry.1, tick);
            (entry.0.clone(), old)
        };
        self.order.remove(&old);
        self.order.insert(tick, name.to_string());
        Some(policy)
    }

    pub(crate) fn insert(&mut self, name: &str, policy: Arc<Policy>) {
        let tick = self.next_tick();
        if let Some((_, old)) = self.entries.insert(name.to_string(), (policy, tick)) {
            self.order.remove(&old);
        }
        self.order.insert(tick, name.to_string());
        self.evict();
    }

    pub(crate) fn remove(&mut self, name: &str) {
        if let Some((_, old)) = self.entries.remove(name) {
            self.order.remove(&old);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
    }

    /// Changes the capacity, keeping the most recently used entries.
    pub(crate) fn resize(&mut self, capacity: usize) {
        self.capacity = capacity;
        self.evict();
    }

    fn evict(&mut self) {
        while self.capacity != 0 && self.entries.len() > self.capacity {
            let Some((_, name)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeyName, KeyOptions, KeyType};
    use keyring_core::Timestamp;

    fn p(name: &str) -> Arc<Policy> {
        Arc::new(
            Policy::generate(
                KeyName::parse(name).unwrap(),
                &KeyOptions::new(KeyType::Aes128Gcm96),
                Timestamp::from_unix_secs(0),
            )
            .unwrap(),
        )
    }

    #[test]
    fn lru_evicts_the_least_recently_used() {
        let mut c = PolicyCache::new(2);
        c.insert("a", p("a"));
        c.insert("b", p("b"));
        assert!(c.get("a").is_some()); // a is now more recent than b
        c.insert("c", p("c"));
        assert!(c.get("b").is_none());
        assert!(c.get("a").is_some() && c.get("c").is_some());
        c.resize(1);
        assert_eq!(c.len(), 1);
        assert!(c.get("c").is_some(), "the most recent survives");
        c.remove("c");
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn unlimited_keeps_everything() {
        let mut c = PolicyCache::new(0);
        for i in 0..100 {
            let n = format!("k{i}");
            c.insert(&n, p(&n));
        }
        assert_eq!(c.len(), 100);
        assert!(c.get("k0").is_some());
    }
}
