//! What the interpreter asks of an execution's mocks. The mock file, its test cases and their
//! reloads belong to the testing module, which implements [`Mocks`]; the engine only needs the
//! answer of a state's next attempt.

use serde_json::Value;

/// What a mocked attempt answers.
#[derive(Debug, Clone, PartialEq)]
pub enum MockAnswer {
    /// The task's result, as the real integration would have produced it.
    Return(Value),
    /// The attempt fails with this error and cause.
    Throw { error: String, cause: String },
}

/// The mocks of the test case an execution runs with.
pub trait Mocks: Send + Sync + std::fmt::Debug {
    /// The test case's name (`FlowName=<flow>#<TestCase>`), kept in the execution's state.
    fn test_case(&self) -> &str;
    /// The answer of attempt `attempt` (0-based, counting every attempt of the state in the
    /// execution) of `state_name`; `None` when the state runs for real.
    fn answer(&self, state_name: &str, attempt: u32) -> Option<MockAnswer>;
}
