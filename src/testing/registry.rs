//! The server's mocks at run time: the mock file named at start, replaced when it is reloaded.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use super::mocks::{MockConfig, MockError, TestCase};
use crate::engine::ir::FlowDefinition;

/// The server's mocks: the file named at start, reloaded on change. Running executions look
/// their test case up again at every advance, so a reload applies from their next step on.
#[derive(Debug)]
pub struct MockRegistry {
    file: Option<PathBuf>,
    current: RwLock<Arc<MockConfig>>,
}

impl MockRegistry {
    /// No mock file: every test case is unknown.
    pub fn empty() -> MockRegistry {
        MockRegistry {
            file: None,
            current: RwLock::new(Arc::new(MockConfig::default())),
        }
    }

    /// Loads `file`; a broken file is an error (the server does not start).
    pub fn load(file: &Path) -> Result<MockRegistry, MockError> {
        Ok(MockRegistry {
            current: RwLock::new(Arc::new(MockConfig::load(file)?)),
            file: Some(file.to_path_buf()),
        })
    }

    /// Mocks given as they are (the test runner's).
    pub fn fixed(config: MockConfig) -> MockRegistry {
        MockRegistry {
            file: None,
            current: RwLock::new(Arc::new(config)),
        }
    }

    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    pub fn current(&self) -> Arc<MockConfig> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn replace(&self, config: MockConfig) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(config);
    }

    pub fn test_case(&self, flow: &str, case: &str) -> Option<Arc<TestCase>> {
        self.current().test_case(flow, case)
    }

    /// Checks a flow being created or updated against the loaded test cases.
    pub fn check_flow(&self, flow: &str, definition: &FlowDefinition) -> Result<(), MockError> {
        self.current()
            .check_flow(flow, definition)
            .map_err(|(path, reason)| MockError {
                file: self.file.clone().unwrap_or_else(|| PathBuf::from("mocks")),
                path,
                reason,
            })
    }
}
