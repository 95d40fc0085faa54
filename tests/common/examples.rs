//! Shared by the tests that run whole flows: a server with one flow on it, and assertions
//! on how an execution ended and what its history shows.

use serde_json::Value;

use super::{Backend, Client, Ended, TestServer};

/// A server and one flow created on it.
pub async fn server_with_flow(
    backend: Backend,
    flow: &str,
    definition: &str,
) -> (TestServer, Client) {
    let server = TestServer::start(backend).await;
    let client = server.client();
    client.create_flow(flow, definition).await;
    (server, client)
}

#[track_caller]
pub fn assert_succeeded(ended: &Ended, output: Value) {
    assert_eq!(
        (ended.status.as_str(), ended.output.as_ref()),
        ("Succeeded", Some(&output)),
        "history: {:#?}",
        ended.events
    );
}

#[track_caller]
pub fn assert_failed(ended: &Ended, error: &str, cause: Option<&str>) {
    assert_eq!(ended.status, "Failed", "history: {:#?}", ended.events);
    let last = ended.events.last().expect("a history");
    assert_eq!(last["Type"], "ExecutionFailed");
    assert_eq!(ended.error.as_deref(), Some(error), "{last}");
    if let Some(cause) = cause {
        assert_eq!(ended.cause.as_deref(), Some(cause), "{last}");
    }
}

/// The names of the steps (states) entered, in order.
pub fn entered_steps(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["Type"] == "StepEntered")
        .map(|e| e["StepName"].as_str().unwrap_or_default().to_string())
        .collect()
}

pub fn first_event<'a>(events: &'a [Value], event_type: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["Type"] == event_type)
        .unwrap_or_else(|| panic!("no {event_type} in {events:#?}"))
}
