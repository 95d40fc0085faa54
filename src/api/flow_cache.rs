//! Flows kept in memory for StartExecution, so a start reads nothing when its flow is here.
//!
//! Coherence does not rest on forgetting entries: a start from a cached flow is written only
//! if the flow row still has the cached revision (`NewExecution::flow_revision`, checked by
//! the start's own insert), so a flow another replica updated or deleted answers
//! `StartOutcome::StaleFlow`, and the start reads the flow again. Changes made on this replica
//! forget their entry at once, which only spares that round.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::store::Flow;

/// Flows by (account id, flow name), at most `capacity` of them.
pub struct FlowCache {
    flows: Mutex<HashMap<(String, String), Flow>>,
    capacity: usize,
}

impl FlowCache {
    /// Enough for every flow of most deployments; a flow is a few kilobytes.
    pub const DEFAULT_CAPACITY: usize = 10_000;

    pub fn new(capacity: usize) -> FlowCache {
        FlowCache {
            flows: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    pub fn get(&self, account_id: &str, name: &str) -> Option<Flow> {
        self.lock()
            .get(&(account_id.to_string(), name.to_string()))
            .cloned()
    }

    /// Keeps `flow` (as just read), replacing any older copy; when full, an arbitrary entry
    /// makes room.
    pub fn insert(&self, flow: Flow) {
        if self.capacity == 0 {
            return;
        }
        let mut flows = self.lock();
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
        self.lock()
            .remove(&(account_id.to_string(), name.to_string()));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Flow>> {
        // The map is valid whatever a panicking holder was doing: each change is one call.
        self.flows
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
        cache.insert(flow("a", "f", 1));
        cache.insert(flow("a", "f", 2));
        assert_eq!(cache.get("a", "f").map(|f| f.revision), Some(2));
        assert_eq!(cache.get("b", "f"), None);
        cache.forget("a", "f");
        assert_eq!(cache.get("a", "f"), None);
    }

    #[test]
    fn a_full_cache_makes_room() {
        let cache = FlowCache::new(2);
        for name in ["f1", "f2", "f3"] {
            cache.insert(flow("a", name, 1));
        }
        let kept = ["f1", "f2", "f3"]
            .iter()
            .filter(|name| cache.get("a", name).is_some())
            .count();
        assert_eq!(kept, 2);
        assert!(cache.get("a", "f3").is_some(), "the newest is kept");
        let cache = FlowCache::new(0);
        cache.insert(flow("a", "f", 1));
        assert_eq!(cache.get("a", "f"), None);
    }
}
