//! Flows kept in memory for StartExecution, so a start reads nothing when its flow is here.
//!
//! Coherence does not rest on forgetting entries: a start from a cached flow is written only
//! if the flow row still has the cached revision (`NewExecution::flow_revision`, checked by
//! the start's own insert), so a flow another replica updated or deleted answers
//! `StartOutcome::StaleFlow`, and the start reads the flow again. Changes made on this replica
//! forget their entry at once, and a copy read before such a change is not kept (see
//! [`FlowCache::mark`]): on a store this process alone writes, an entry is then current.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::store::Flow;

/// Flows by (account id, flow name), at most `capacity` of them.
pub struct FlowCache {
    entries: Mutex<Entries>,
    capacity: usize,
}

#[derive(Default)]
struct Entries {
    flows: HashMap<(String, String), Flow>,
    /// Bumped by every forget: a copy read before it may be older than the change.
    forgets: u64,
}

/// When a flow was about to be read from the store ([`FlowCache::mark`]).
#[derive(Clone, Copy, Debug)]
pub struct ReadMark(u64);

impl FlowCache {
    /// Enough for every flow of most deployments; a flow is a few kilobytes.
    pub const DEFAULT_CAPACITY: usize = 10_000;

    pub fn new(capacity: usize) -> FlowCache {
        FlowCache {
            entries: Mutex::default(),
            capacity,
        }
    }

    pub fn get(&self, account_id: &str, name: &str) -> Option<Flow> {
        self.lock()
            .flows
            .get(&(account_id.to_string(), name.to_string()))
            .cloned()
    }

    /// Taken before reading a flow from the store, for [`FlowCache::insert`]: a change made
    /// here between the mark and the insert (its forget) could have come after the read.
    pub fn mark(&self) -> ReadMark {
        ReadMark(self.lock().forgets)
    }

    /// Keeps `flow`, read from the store after `read_after`, replacing any older copy, unless
    /// a flow was forgotten since (the read may predate that change; the next read caches);
    /// when full, an arbitrary entry makes room.
    pub fn insert(&self, flow: Flow, read_after: ReadMark) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.lock();
        if entries.forgets != read_after.0 {
            return;
        }
        let flows = &mut entries.flows;
        let key = (flow.account_id.clone(), flow.name.clone());
        if flows.len() >= self.capacity
            && !flows.contains_key(&key)
            && let Some(evicted) = flows.keys().next().cloned()
        {
            flows.remove(&evicted);
        }
        flows.insert(key, flow);
    }

    /// Drops the flow of that name (created, updated or deleted here).
    pub fn forget(&self, account_id: &str, name: &str) {
        let mut entries = self.lock();
        entries.forgets += 1;
        entries
            .flows
            .remove(&(account_id.to_string(), name.to_string()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // The map is valid whatever a panicking holder was doing: each change is one call.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Default for FlowCache {
    fn default() -> Self {
        FlowCache::new(FlowCache::DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(account: &str, name: &str, revision: i64) -> Flow {
        Flow {
            id: format!("{account}/{name}"),
            account_id: account.into(),
            name: name.into(),
            description: String::new(),
            definition: String::new(),
            flow_type: "FDL".into(),
            role_arn: None,
            execution_mode: "Standard".into(),
            external_storage_location: None,
            resource_group_id: None,
            environment: None,
            created_at: 0,
            modified_at: 0,
            revision,
        }
    }

    #[test]
    fn flows_are_kept_per_account_and_name_until_forgotten() {
        let cache = FlowCache::new(10);
        cache.insert(flow("a", "f", 1), cache.mark());
        cache.insert(flow("a", "f", 2), cache.mark());
        assert_eq!(cache.get("a", "f").map(|f| f.revision), Some(2));
        assert_eq!(cache.get("b", "f"), None);
        cache.forget("a", "f");
        assert_eq!(cache.get("a", "f"), None);
    }

    #[test]
    fn a_full_cache_makes_room() {
        let cache = FlowCache::new(2);
        for name in ["f1", "f2", "f3"] {
            cache.insert(flow("a", name, 1), cache.mark());
        }
        let kept = ["f1", "f2", "f3"]
            .iter()
            .filter(|name| cache.get("a", name).is_some())
            .count();
        assert_eq!(kept, 2);
        assert!(cache.get("a", "f3").is_some(), "the newest is kept");
        let cache = FlowCache::new(0);
        cache.insert(flow("a", "f", 1), cache.mark());
        assert_eq!(cache.get("a", "f"), None);
    }

    #[test]
    fn a_copy_read_before_a_change_is_not_kept() {
        let cache = FlowCache::new(10);
        let before_read = cache.mark();
        // Meanwhile an update here commits and forgets the flow.
        cache.forget("a", "f");
        cache.insert(flow("a", "f", 1), before_read);
        assert_eq!(cache.get("a", "f"), None);
        cache.insert(flow("a", "f", 2), cache.mark());
        assert_eq!(cache.get("a", "f").map(|f| f.revision), Some(2));
    }
}
