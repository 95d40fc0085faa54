//! The error names the engine and its drivers raise (docs/COMPATIBILITY.md#retry-and-catch), in one place so
//! a retry, a catch or a test names exactly what is raised.

/// The wildcard that matches every error in a retry or catch.
pub const ALL: &str = "FnF.ALL";
pub const RUNTIME: &str = "FnF.RuntimeError";
pub const TASK_TIMEOUT: &str = "FnF.TaskTimeout";
pub const INVALID_LOCAL: &str = "FnF.InvalidLocal";
pub const TIMEOUT: &str = "FnF.Timeout";
pub const EVENT_LIMIT: &str = "FnF.EventLimitExceeded";
pub const FAIL: &str = "FnF.Fail";
pub const ACTION_NOT_SUPPORTED: &str = "FnF.ActionNotSupported";
/// A call whose replica died mid-call (recorded before the attempt is made again).
pub const TASK_LOST: &str = "FnF.TaskLost";
/// A Map fails with it when more children failed than it tolerates.
pub const EXCEEDED_TOLERANCE: &str = "FnF.ExceedToleratedFailureThreshold";
/// A map run's children are stopped with it when the map run ends.
pub const MAP_RUN_ABORTED: &str = "FnF.MapRunAborted";
/// A call refused because tests run without network.
pub const CALL_NOT_MOCKED: &str = "FnF.CallNotMocked";
/// Executions of a deleted flow stop with it (written by the store's SQL, which cannot use
/// this constant).
pub const FLOW_DELETED: &str = "FnF.FlowDeleted";

#[cfg(test)]
mod tests {
    #[test]
    fn the_store_stops_executions_of_a_deleted_flow_with_this_name() {
        let sql = include_str!("../store/sql.rs");
        assert!(sql.contains(&format!("error = '{}'", super::FLOW_DELETED)));
    }
}
