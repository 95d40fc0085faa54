//! Virtual time (`--time-scale`): at 0 a day-long Wait, ten retries with growing backoff and
//! an hour-long callback timeout all finish at once, in the order real time would give; at
//! 0.01 every wait lasts a hundredth of its length (checked on the recorded times, never on
//! the test's own clock).

use crate::common;

use std::time::Duration;

use common::fc_stub::FcStub;
use common::{TestServer, event_detail, event_time_gap_ms, event_types, run_execution};

const WITHIN: Duration = Duration::from_secs(30);

fn state_machine(name: &str, states: &str) -> String {
    format!("Type: StateMachine\nName: {name}\nSpecVersion: v1\nStartAt: First\nStates:\n{states}")
}

/// A Task calling the stub's `fail` function, retried `attempts` times.
fn failing_task(attempts: u32, interval: u32) -> String {
    format!(
        "  - Type: Task\n    Name: First\n    Action: FC:InvokeFunction\n    Parameters:\n      resourceArn: acs:fc:cn-hangzhou:123456789012:functions/fail/LATEST\n      invocationType: Sync\n      body:\n        errorType: Flaky\n        errorMessage: try again\n    Retry:\n      - Errors: [Flaky]\n        MaxAttempts: {attempts}\n        IntervalSeconds: {interval}\n        BackoffRate: 2\n    End: true\n"
    )
}

async fn scaled_server(backend: common::Backend, factor: f64) -> (TestServer, FcStub) {
    let stub = FcStub::start().await;
    let endpoint = stub.endpoint();
    let server = TestServer::start_with(backend, |config| {
        config.time_scale = factor;
        config.fc_endpoint = Some(endpoint);
    })
    .await;
    (server, stub)
}

backend_tests! {
    async fn zero_skips_every_wait_in_order(backend) {
        let (server, _stub) = scaled_server(backend, 0.0).await;
        let client = server.client();

        // A day-long Wait (FDL: a state machine waits 300 s at most).
        let day = "version: v1\ntype: flow\nsteps:\n  - type: wait\n    name: First\n    duration: 86400\n  - type: pass\n    name: After\n";
        client.create_flow("day", day).await;
        let ended = run_execution(&client, "day", "e1", "{}", WITHIN).await;
        assert_eq!(ended.status, "Succeeded");
        assert_eq!(
            event_types(&ended.events),
            [
                "ExecutionStarted", "StepEntered", "StepStarted", "StepExited", "StepEntered",
                "StepExited", "ExecutionSucceeded"
            ]
        );
        assert_eq!(ended.events[1]["StepName"], "First");
        assert_eq!(ended.events[4]["StepName"], "After");

        // Ten retries with growing backoff (60 s, 120 s, … about 17 hours in all).
        client
            .create_flow("retries", &state_machine("retries", &failing_task(10, 60)))
            .await;
        let ended = run_execution(&client, "retries", "e1", "{}", WITHIN).await;
        assert_eq!((ended.status.as_str(), ended.error.as_deref()), ("Failed", Some("Flaky")));
        let task_events: Vec<(String, Option<u64>)> = ended
            .events
            .iter()
            .filter(|e| e["Type"].as_str().is_some_and(|t| t.starts_with("Task")))
            .map(|e| (e["Type"].as_str().unwrap().to_string(), event_detail(e)["attempt"].as_u64()))
            .collect();
        let mut expected = Vec::new();
        for attempt in 1..=11 {
            expected.push(("TaskScheduled".to_string(), Some(attempt)));
            expected.push(("TaskStarted".to_string(), None));
            expected.push(("TaskFailed".to_string(), None));
        }
        assert_eq!(task_events, expected);

        // An hour-long callback timeout: submitted, then timed out, then caught.
        let callback = state_machine(
            "callback",
            "  - Type: Task\n    Name: First\n    Action: FC:InvokeFunction\n    TaskMode: WaitForCustomCallback\n    Timeout: 3600\n    Parameters:\n      resourceArn: acs:fc:cn-hangzhou:123456789012:functions/echo/LATEST\n      invocationType: Sync\n      body:\n        token.$: $Context.Current.TaskToken\n    Catch:\n      - Errors: [FnF.TaskTimeout]\n        Next: Late\n    End: true\n  - Type: Pass\n    Name: Late\n    End: true\n",
        );
        client.create_flow("callback", &callback).await;
        let ended = run_execution(&client, "callback", "e1", "{}", WITHIN).await;
        assert_eq!(ended.status, "Succeeded");
        assert_eq!(
            event_types(&ended.events),
            [
                "ExecutionStarted", "StepEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted",
                "TaskTimedOut", "StepExited", "StepEntered", "StepExited", "ExecutionSucceeded"
            ]
        );

        // The execution's own timeout keeps its place among the timers.
        let timed = |wait: u32| {
            format!("version: v1\ntype: flow\ntimeoutSeconds: 3600\nsteps:\n  - type: wait\n    name: hold\n    duration: {wait}\n")
        };
        client.create_flow("short", &timed(10)).await;
        client.create_flow("long", &timed(7200)).await;
        let short = run_execution(&client, "short", "e1", "{}", WITHIN).await;
        assert_eq!(short.status, "Succeeded");
        let long = run_execution(&client, "long", "e1", "{}", WITHIN).await;
        assert_eq!((long.status.as_str(), long.error.as_deref()), ("TimedOut", Some("FnF.Timeout")));
        server.stop().await;
    }

    async fn a_hundredth_scales_the_recorded_delays(backend) {
        let (server, _stub) = scaled_server(backend, 0.01).await;
        let client = server.client();
        let wait = state_machine("wait", "  - Type: Wait\n    Name: First\n    Seconds: 100\n    End: true\n");
        client.create_flow("wait", &wait).await;
        let ended = run_execution(&client, "wait", "e1", "{}", WITHIN).await;
        assert_eq!(ended.status, "Succeeded");
        let started = ended.events.iter().find(|e| e["Type"] == "StepStarted").unwrap();
        let exited = ended.events.iter().find(|e| e["Type"] == "StepExited").unwrap();
        // The history keeps wall-clock times: the 100 s wait was due 1 s after it began.
        let until = chrono::DateTime::parse_from_rfc3339(event_detail(started)["until"].as_str().unwrap())
            .unwrap()
            .timestamp_millis();
        let began = chrono::DateTime::parse_from_rfc3339(started["Time"].as_str().unwrap())
            .unwrap()
            .timestamp_millis();
        assert_eq!(until - began, 1_000);
        assert!(event_time_gap_ms(started, exited) >= 1_000);

        // Retry intervals of 2 s and 4 s: 20 ms and 40 ms apart at least.
        client
            .create_flow("retries", &state_machine("retries", &failing_task(2, 2)))
            .await;
        let ended = run_execution(&client, "retries", "e1", "{}", WITHIN).await;
        assert_eq!(ended.status, "Failed");
        let failed: Vec<&serde_json::Value> =
            ended.events.iter().filter(|e| e["Type"] == "TaskFailed").collect();
        let scheduled: Vec<&serde_json::Value> =
            ended.events.iter().filter(|e| e["Type"] == "TaskScheduled").collect();
        assert_eq!((failed.len(), scheduled.len()), (3, 3));
        assert!(event_time_gap_ms(failed[0], scheduled[1]) >= 20);
        assert!(event_time_gap_ms(failed[1], scheduled[2]) >= 40);
        server.stop().await;
    }
}

#[test]
fn the_factor_is_checked() {
    use clap::Parser;
    let parse = |value: &str| {
        fnf_server::config::Config::try_parse_from(["fnf-server", "--time-scale", value])
    };
    assert_eq!(parse("0").unwrap().time_scale, 0.0);
    assert_eq!(parse("0.5").unwrap().time_scale, 0.5);
    for bad in ["-1", "inf", "NaN", "fast"] {
        assert!(parse(bad).is_err(), "{bad}");
    }
}
