//! The outside calls a task attempt makes, as the interpreter asks for them. The worker (or
//! the in-memory driver of synchronous executions) performs them and reports each answer back
//! as a `SignalPayload::CallResult` carrying a `TaskOutcome`.

use serde_json::Value;

use super::ir::FunctionRef;

#[derive(Debug, Clone, PartialEq)]
pub struct CallRequest {
    /// Identifies the attempt (`<StepEntered id>.<attempt>`).
    pub call_key: String,
    /// The attempt's task token (HTTP callback header, child executions' callback).
    pub token: String,
    /// When the attempt times out (epoch ms); the call need not outlive it.
    pub deadline: Option<i64>,
    pub kind: CallKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CallKind {
    /// Invoke a function over the protocol of docs/COMPATIBILITY.md#function-compute.
    Function {
        function: FunctionRef,
        /// The event: strings are sent as they are, anything else as JSON.
        event: Value,
        /// `X-Fc-Invocation-Type: Async` (state machine `RequestComplete` + `Async` only).
        asynchronous: bool,
        shape: FunctionShape,
    },
    /// `HTTP:Request` (docs/COMPATIBILITY.md#http-tasks).
    Http {
        url: String,
        method: String,
        headers: Vec<(String, String)>,
        /// Strings are sent as they are, anything else as JSON.
        body: Option<Value>,
        /// Send the token in `X-FnF-Http-Callback-Task-Token`.
        with_callback_token: bool,
    },
    /// Start a child execution of a flow of the same account.
    StartExecution {
        flow_name: String,
        execution_name: Option<String>,
        input: Value,
        /// The child reports its end to this token (waiting patterns).
        callback_token: Option<String>,
        shape: ChildShape,
    },
}

/// How a function's answer becomes the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionShape {
    /// FDL: the parsed body is the local; empty → `{}`; not an object → `FnF.InvalidLocal`.
    FdlLocal,
    /// State machine: `{"Code": 200, "Header": {}, "Body": <JSON or text>}` (docs/COMPATIBILITY.md#function-compute).
    Wrapped,
    /// State machine asynchronous invocation: `{"Code": 202, "Header": {}, "Body": ""}`.
    Accepted,
    /// Only the submission counts (callbacks): the outcome is the request id or body.
    Submission,
}

/// How a child start becomes the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildShape {
    /// FDL `requestResponse` (docs/COMPATIBILITY.md#q17): `{"FlowName", "ExecutionName"}`.
    Fdl,
    /// State machine `RequestComplete` (docs/COMPATIBILITY.md#state-machine-tasks): `{"FlowName", "ExecutionName", "RequestID"}`.
    StateMachine,
    /// The child's end is awaited: the outcome is its execution name.
    Submission,
}
