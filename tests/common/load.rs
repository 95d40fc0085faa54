//! A mixed load for the crash and fault tests: waits, task calls, retries, callbacks,
//! parallel branches and foreach iterations, each flow with a known output. Starts are
//! spread over the servers given; callbacks are answered as their tokens reach the stub;
//! at the end every execution is checked: right output, contiguous history, every step
//! and every task attempt ended once, and a step's call made again only after the lost
//! attempt was recorded (`FnF.TaskLost`).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::fc_stub::FcStub;
use super::{Answer, Client, event_detail, json_field};

const WAITS: &str = "version: v1\ntype: flow\nsteps:\n  - type: wait\n    name: pause\n    duration: 1\n  - type: pass\n    name: after\n    outputMappings:\n      - target: waited\n        source: true\n";

const CALLS: &str = "version: v1\ntype: flow\nsteps:\n  - type: task\n    name: slow\n    resourceArn: acs:fc:::services/s/functions/sleep\n    inputMappings:\n      - target: seconds\n        source: 1\n      - target: name\n        source: $context.execution.name\n    outputMappings:\n      - target: called\n        source: true\n";

const RETRIES: &str = "version: v1\ntype: flow\nsteps:\n  - type: task\n    name: flaky\n    resourceArn: acs:fc:::services/s/functions/flaky\n    inputMappings:\n      - target: failTimes\n        source: 1\n      - target: name\n        source: $context.execution.name\n    retry:\n      - errors: [TransientError]\n        intervalSeconds: 1\n        maxAttempts: 10\n";

const CALLBACKS: &str = "version: v1\ntype: flow\nsteps:\n  - type: task\n    name: approval\n    resourceArn: acs:fc:::services/s/functions/echo\n    pattern: waitForCallback\n    inputMappings:\n      - target: taskToken\n        source: $context.task.token\n      - target: name\n        source: $context.execution.name\n";

const PARALLEL: &str = "version: v1\ntype: flow\nsteps:\n  - type: parallel\n    name: fan\n    branches:\n      - steps:\n          - type: task\n            name: left\n            resourceArn: acs:fc:::services/s/functions/echo\n            inputMappings:\n              - target: side\n                source: left\n              - target: name\n                source: $context.execution.name\n      - steps:\n          - type: task\n            name: right\n            resourceArn: acs:fc:::services/s/functions/echo\n            inputMappings:\n              - target: side\n                source: right\n              - target: name\n                source: $context.execution.name\n    outputMappings:\n      - target: sides\n        source: $local[*].side\n";

const FOREACH: &str = "version: v1\ntype: flow\nsteps:\n  - type: foreach\n    name: each\n    iterationMapping:\n      collection: $.items\n      item: item\n    steps:\n      - type: task\n        name: bump\n        resourceArn: acs:fc:::services/s/functions/increment\n        inputMappings:\n          - target: count\n            source: $input.item\n          - target: name\n            source: $context.execution.name\n    outputMappings:\n      - target: counts\n        source: $local[*].count\n";

/// The flows of the load, by name.
pub const FLOWS: [(&str, &str); 6] = [
    ("waits", WAITS),
    ("calls", CALLS),
    ("retries", RETRIES),
    ("callbacks", CALLBACKS),
    ("parallel", PARALLEL),
    ("foreach", FOREACH),
];

pub async fn create_flows(client: &Client) {
    for (flow, definition) in FLOWS {
        client.create_flow(flow, definition).await;
    }
}

/// The `n`-th execution of the load: its flow and name.
pub fn execution(n: usize) -> (&'static str, String) {
    let flow = FLOWS[n % FLOWS.len()].0;
    (flow, format!("{flow}-{n}"))
}

const INPUT: &str = r#"{"items": [1, 2, 3]}"#;

/// How a StartExecution went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// 200: the execution must exist and end correctly.
    Accepted,
    /// No answer, or 503: it may exist; if it does it must end correctly.
    Unknown,
}

/// Sends one StartExecution: Err when no answer came (the server died, or the client timed
/// out); panics on any answer but 200 and 503 ServiceUnavailable.
pub async fn start(client: &Client, n: usize) -> Result<Start, reqwest::Error> {
    let (flow, name) = execution(n);
    let params = [
        ("FlowName", flow),
        ("ExecutionName", name.as_str()),
        ("Input", INPUT),
    ];
    let answer = client.try_call("StartExecution", &params).await?;
    if answer.status == 200 {
        return Ok(Start::Accepted);
    }
    assert_unavailable(&answer);
    Ok(Start::Unknown)
}

/// The server (of `servers`) asked first to start `n`: every flow goes to every server.
pub fn first_server(n: usize, servers: usize) -> usize {
    (n + n / FLOWS.len()) % servers
}

/// The number of the load's execution `name` names.
pub fn number(name: &str) -> Option<usize> {
    name.rsplit('-').next()?.parse().ok()
}

/// Waits (at most `within`) until some server of `servers` for which `on` holds has just
/// begun a one-second task call (the `calls` flow's first call is made by the server that
/// accepted the start), so that a kill or an outage lands in the middle of it. Returns the
/// name of the execution making it.
pub async fn call_under_way(
    stub: &FcStub,
    servers: usize,
    on: impl Fn(usize) -> bool,
    within: Duration,
) -> Option<String> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        let fresh = stub.invocations_of("sleep").into_iter().find(|i| {
            i.at.elapsed() < Duration::from_millis(300)
                && i.event["name"]
                    .as_str()
                    .and_then(number)
                    .is_some_and(|n| on(first_server(n, servers)))
        });
        if let Some(invocation) = fresh {
            return invocation.event["name"].as_str().map(str::to_string);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

/// Starts `n` on the first of `clients` (in turn from `first_server`) that answers: a start repeated
/// under the same name after a lost answer returns the running execution (docs/COMPATIBILITY.md#flows).
pub async fn start_somewhere(clients: &[Client], n: usize, within: Duration) -> Start {
    let deadline = Instant::now() + within;
    for turn in first_server(n, clients.len()).. {
        let started = start(&clients[turn % clients.len()], n).await;
        if matches!(started, Ok(Start::Accepted)) {
            return Start::Accepted;
        }
        if Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Start::Unknown
}

/// An error during an outage: 503 ServiceUnavailable in the normal envelope, never a 500.
#[track_caller]
pub fn assert_unavailable(answer: &Answer) {
    answer.err(503, "ServiceUnavailable");
}

/// Answers every callback token that reaches the stub, through whichever client answers,
/// until `stop` is set. A token that is no longer valid (its attempt was lost) is dropped;
/// a 503 or no answer is tried again.
fn answer_callbacks(
    stub: Arc<FcStub>,
    clients: Vec<Client>,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut done: HashSet<String> = HashSet::new();
        let mut turn = 0usize;
        while !stop.load(Ordering::SeqCst) {
            for invocation in stub.invocations_of("echo") {
                let Some(token) = invocation.event["taskToken"].as_str() else {
                    continue;
                };
                if done.contains(token) {
                    continue;
                }
                let name = invocation.event["name"].as_str().unwrap_or_default();
                let output = json!({"approved": name}).to_string();
                turn += 1;
                let client = &clients[turn % clients.len()];
                let params = [("TaskToken", token), ("Output", output.as_str())];
                match client.try_call("ReportTaskSucceeded", &params).await {
                    Ok(answer) if answer.status == 503 => assert_unavailable(&answer),
                    Ok(answer) => {
                        assert!(answer.status < 500, "a report failed: {}", answer.body);
                        done.insert(token.to_string());
                    }
                    Err(_) => {}
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

/// The load under way: executions started one every `pace` (each start on a task of its
/// own, so one stuck on a dying server does not hold the others back), and callbacks
/// answered, until `finish`.
pub struct Driver {
    stub: Arc<FcStub>,
    starts: Arc<Mutex<BTreeMap<usize, Start>>>,
    starter: Option<tokio::task::JoinHandle<()>>,
    reporter: tokio::task::JoinHandle<()>,
    stop: Arc<AtomicBool>,
    executions: usize,
}

impl Driver {
    /// Creates the flows and starts `executions` executions with `start_one(clients, n)`.
    pub async fn run<F, Fut>(
        stub: Arc<FcStub>,
        clients: Vec<Client>,
        executions: usize,
        pace: Duration,
        start_one: F,
    ) -> Driver
    where
        F: Fn(Vec<Client>, usize) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Start> + Send + 'static,
    {
        create_flows(&clients[0]).await;
        let stop = Arc::new(AtomicBool::new(false));
        let reporter = answer_callbacks(stub.clone(), clients.clone(), stop.clone());
        let starts = Arc::new(Mutex::new(BTreeMap::new()));
        let starter = {
            let starts = starts.clone();
            tokio::spawn(async move {
                for n in 0..executions {
                    let started = start_one(clients.clone(), n);
                    let starts = starts.clone();
                    tokio::spawn(async move {
                        let start = started.await;
                        starts.lock().await.insert(n, start);
                    });
                    tokio::time::sleep(pace).await;
                }
            })
        };
        Driver {
            stub,
            starts,
            starter: Some(starter),
            reporter,
            stop,
            executions,
        }
    }

    /// Waits until every start has been answered (or given up); how each went.
    pub async fn starts(&mut self) -> BTreeMap<usize, Start> {
        if let Some(starter) = self.starter.take() {
            starter.await.unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let starts = self.starts.lock().await.clone();
            if starts.len() == self.executions {
                return starts;
            }
            assert!(Instant::now() < deadline, "starts did not finish");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Checks every execution started (see `verify`), then stops answering callbacks.
    /// Returns how many attempts were lost and made again.
    pub async fn finish(mut self, client: &Client) -> usize {
        let starts = self.starts().await;
        let lost = verify(client, &self.stub, &starts).await;
        self.stop.store(true, Ordering::SeqCst);
        (&mut self.reporter).await.unwrap();
        lost
    }
}

/// How many of `starts` went this way.
pub fn count(starts: &BTreeMap<usize, Start>, how: Start) -> usize {
    starts.values().filter(|s| **s == how).count()
}

/// Checks every execution started: accepted ones must exist; each one that exists must end
/// with its flow's output and a sound history. Returns how many attempts were lost.
pub async fn verify(client: &Client, stub: &FcStub, starts: &BTreeMap<usize, Start>) -> usize {
    let mut lost = 0;
    for (&n, &start) in starts {
        let (flow, name) = execution(n);
        let described = client
            .get(
                "DescribeExecution",
                &[("FlowName", flow), ("ExecutionName", &name)],
            )
            .await;
        if described.status == 404 && start == Start::Unknown {
            continue;
        }
        described.ok();
        let ended = client.wait_end(flow, &name, Duration::from_secs(60)).await;
        assert_eq!(ended["Status"], "Succeeded", "{name}: {ended}");
        let calls = stub
            .invocations()
            .iter()
            .filter(|i| i.event["name"] == name.as_str())
            .count();
        let expected = match flow {
            "waits" => json!({"waited": true}),
            "calls" => json!({"called": true}),
            // Each invocation of the flaky function counts; the first one fails.
            "retries" => json!({"attempts": calls}),
            "callbacks" => json!({"approved": name}),
            "parallel" => json!({"sides": ["left", "right"]}),
            "foreach" => json!({"counts": [2, 3, 4]}),
            other => unreachable!("{other}"),
        };
        assert_eq!(json_field(&ended, "Output"), expected, "{name}");
        let events = client.history(flow, &name).await;
        let (scheduled, lost_here) = check_history(&events, &name);
        // A call is made once per scheduled attempt at most: a step ran twice only where
        // the history records the lost attempt.
        assert!(
            calls <= scheduled,
            "{name}: {calls} calls for {scheduled} attempts: {events:?}"
        );
        lost += lost_here;
    }
    lost
}

/// Checks a succeeded execution's history: ids 1..n, one start and one end; every step,
/// branch and iteration entered once and ended once; every task attempt ended once, all
/// but a step's last one failed (lost, or the flaky function's error), the last one
/// succeeded. Returns the number of attempts scheduled and of those lost.
pub fn check_history(events: &[Value], name: &str) -> (usize, usize) {
    let ids: Vec<i64> = events
        .iter()
        .map(|e| e["EventId"].as_i64().unwrap())
        .collect();
    let expected: Vec<i64> = (1..=events.len() as i64).collect();
    assert_eq!(ids, expected, "{name}: event ids have a gap or a duplicate");
    let kind = |e: &Value| e["Type"].as_str().unwrap().to_string();
    assert_eq!(kind(&events[0]), "ExecutionStarted", "{name}");
    assert_eq!(kind(events.last().unwrap()), "ExecutionSucceeded", "{name}");
    let ends_of = |id: i64, types: &[&str]| {
        events
            .iter()
            .filter(|e| e["ScheduleEventId"] == id && types.contains(&kind(e).as_str()))
            .count()
    };
    let mut entered = HashSet::new();
    let (mut scheduled, mut lost) = (0, 0);
    for event in events {
        let id = event["EventId"].as_i64().unwrap();
        let ended_once = |types: &[&str]| {
            assert_eq!(
                ends_of(id, types),
                1,
                "{name}: event {id} does not end once: {events:?}"
            )
        };
        match kind(event).as_str() {
            "StepEntered" => {
                let scope = (event["ScheduleEventId"].as_i64(), event["StepName"].clone());
                assert!(
                    entered.insert(scope),
                    "{name}: a step ran twice: {events:?}"
                );
                ended_once(&["StepExited"]);
            }
            "BranchEntered" => ended_once(&["BranchExited"]),
            "IterationEntered" => ended_once(&["IterationExited"]),
            "TaskScheduled" => {
                scheduled += 1;
                ended_once(&["TaskSucceeded", "TaskFailed"]);
                assert!(ends_of(id, &["TaskStarted"]) <= 1, "{name}: {events:?}");
            }
            "TaskFailed" => {
                let error = event_detail(event)["error"].clone();
                if error == "FnF.TaskLost" {
                    lost += 1;
                } else {
                    assert_eq!(error, "TransientError", "{name}: {events:?}");
                }
                // A failed attempt is followed by another one of the same step.
                let attempt = &events[event["ScheduleEventId"].as_u64().unwrap() as usize - 1];
                let step = &attempt["ScheduleEventId"];
                assert!(
                    events[id as usize..]
                        .iter()
                        .any(|e| kind(e) == "TaskScheduled" && &e["ScheduleEventId"] == step),
                    "{name}: no attempt after {event}: {events:?}"
                );
            }
            _ => {}
        }
    }
    (scheduled, lost)
}
