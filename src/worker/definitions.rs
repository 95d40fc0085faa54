//! Parsed definitions, cached by their text: every advance of an execution needs its IR, and
//! parsing YAML on each one would dominate the cost of short steps.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

use crate::engine::ir::FlowDefinition;
use crate::engine::parse::{DefinitionError, ParseOptions, parse_definition};

/// Entries kept before the cache starts over (definitions are few; executions are many).
const CAPACITY: usize = 1024;

#[derive(Default)]
pub struct DefinitionCache {
    entries: Mutex<HashMap<u64, Vec<Entry>>>,
}

struct Entry {
    text: String,
    flow_name: String,
    express: bool,
    definition: Arc<FlowDefinition>,
}

impl DefinitionCache {
    pub fn get(
        &self,
        text: &str,
        flow_name: &str,
        express: bool,
    ) -> Result<Arc<FlowDefinition>, DefinitionError> {
        let key = {
            let mut hasher = DefaultHasher::new();
            text.hash(&mut hasher);
            hasher.finish()
        };
        if let Some(found) = self.lookup(key, text, flow_name, express) {
            return Ok(found);
        }
        let definition = Arc::new(parse_definition(
            text,
            &ParseOptions { flow_name, express },
        )?);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.entry(key).or_default().push(Entry {
            text: text.to_string(),
            flow_name: flow_name.to_string(),
            express,
            definition: definition.clone(),
        });
        Ok(definition)
    }

    fn lookup(
        &self,
        key: u64,
        text: &str,
        flow_name: &str,
        express: bool,
    ) -> Option<Arc<FlowDefinition>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(&key)?.iter().find_map(|entry| {
            (entry.text == text && entry.flow_name == flow_name && entry.express == express)
                .then(|| entry.definition.clone())
        })
    }
}
