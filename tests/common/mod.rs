//! Test harness: a real server on 127.0.0.1:0 over a chosen store, a client that signs its
//! requests (V1, HMAC-SHA1) like the SDKs do, and helpers that await an execution's end.
//!
//! Postgres tests use `TEST_DATABASE_URL` (else `DATABASE_URL`, else the server on
//! 127.0.0.1:5432) to create a fresh database per test; they fail, never skip, when no
//! Postgres answers.

#![allow(dead_code)]

mod client;
mod database;
mod raw_http;
mod responses;
mod server;
mod signing;
mod waiting;

pub mod browser;
pub mod console;
pub mod definitions;
pub mod examples;
pub mod fc_stub;
pub mod load;
pub mod openapi;
pub mod process;

// Each test binary uses a part of the harness, as with `dead_code` above.
#[allow(unused_imports)]
pub use client::{Client, encode_form};
#[allow(unused_imports)]
pub use database::{Storage, create_database, drop_database, postgres_admin_url, with_database};
#[allow(unused_imports)]
pub use raw_http::{RawAnswer, raw_http};
#[allow(unused_imports)]
pub use responses::{
    Answer, assert_envelope, assert_keys, assert_request_id, assert_time_ms, json_field,
};
#[allow(unused_imports)]
pub use server::{TestServer, postgres_replicas, start_with_stub, test_config};
#[allow(unused_imports)]
pub use signing::{
    EMPTY_SHA256, SIGNATURE_NOT_MATCH, V3Request, encode_form_plus, pairs, remove_param, set_param,
    v1_signature,
};
#[allow(unused_imports)]
pub use waiting::{
    Ended, ended_execution, event_detail, event_time_gap_ms, event_types, invocation_gaps,
    run_execution, wait_invocations,
};

pub const ACCESS_KEY_ID: &str = "test-access-key";
pub const ACCESS_KEY_SECRET: &str = "test-access-secret";
pub const ACCOUNT_ID: &str = "1111111111111111";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each test body once per backend: `backend_tests! { async fn name(backend) { … } }`
/// expands to `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! backend_tests {
    ($(async fn $name:ident($backend:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($backend: $crate::common::Backend) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    run($crate::common::Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    run($crate::common::Backend::Postgres).await
                }
            }
        )*
    };
}

/// Awaits concurrent calls and counts those that succeeded; every other one must have been
/// refused with this status and code.
pub async fn count_successes(
    calls: Vec<tokio::task::JoinHandle<Answer>>,
    status: u16,
    code: &str,
) -> usize {
    let mut succeeded = 0;
    for call in calls {
        let answer = call.await.expect("the call task runs");
        if answer.status == 200 {
            succeeded += 1;
        } else {
            answer.err(status, code);
        }
    }
    succeeded
}

/// ReportTaskSucceeded with this token and output text.
pub async fn report_succeeded(client: &Client, token: &str, output: &str) -> Answer {
    client
        .call(
            "ReportTaskSucceeded",
            &[("TaskToken", token), ("Output", output)],
        )
        .await
}

/// ReportTaskFailed with this token, error and cause.
pub async fn report_failed(client: &Client, token: &str, error: &str, cause: &str) -> Answer {
    client
        .call(
            "ReportTaskFailed",
            &[("TaskToken", token), ("Error", error), ("Cause", cause)],
        )
        .await
}

/// A state machine that forwards its input (one Pass state).
pub fn pass_state_machine(name: &str) -> String {
    format!(
        "Type: StateMachine\nName: {name}\nSpecVersion: v1\nStartAt: p\nStates:\n  - Type: Pass\n    Name: p\n    End: true\n"
    )
}

/// A state machine that waits `seconds` (1–300) and then forwards its input.
pub fn wait_state_machine(name: &str, seconds: u32) -> String {
    format!(
        "Type: StateMachine\nName: {name}\nSpecVersion: v1\nStartAt: w\nStates:\n  - Type: Wait\n    Name: w\n    Seconds: {seconds}\n    End: true\n"
    )
}
