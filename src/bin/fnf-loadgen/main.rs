//! Load generator for fnf-server benchmarks: signed requests (a fresh nonce each) from N
//! concurrent connections, bounded by count and time, to loopback addresses only. Prints one
//! JSON object with the figures.
//!
//! Scenarios:
//! * `start`    — StartExecution of a flow (throughput and latency of the call itself);
//! * `e2e`      — a burst of StartExecution, then waits until none is running: executions
//!   completed per second from the first start to the last end, and (fnf) the states
//!   entered per second, from the server's committed-step counter;
//! * `sync`     — StartSyncExecution of an Express flow;
//! * `callback` — ReportTaskSucceeded until the next step has started (a flow that waits for
//!   a callback and then waits again; the clock stops when the history shows the next step).
//!
//! `--protocol aws` speaks the AWS Step Functions JSON protocol instead (for `start` and
//! `e2e` against an emulator, with an ASL definition), through the same measurement code.

mod client;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use client::Client;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Start,
    E2e,
    Sync,
    Callback,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Protocol {
    /// fnf RPC, signature V1 (form body).
    Fnf,
    /// AWS JSON 1.0 (`X-Amz-Target: AWSStepFunctions.*`), SigV4.
    Aws,
}

/// Drives load against a fnf-server (or a Step Functions emulator) on a loopback address.
#[derive(Debug, Parser)]
#[command(name = "fnf-loadgen")]
struct Args {
    /// host:port of the server; must be a loopback address.
    #[arg(long, default_value = "127.0.0.1:8089")]
    endpoint: SocketAddr,
    #[arg(long, value_enum, default_value = "fnf")]
    protocol: Protocol,
    #[arg(long, default_value = "fnf-dev-access-key-id")]
    access_key_id: String,
    #[arg(long, default_value = "fnf-dev-access-key-secret")]
    access_key_secret: String,
    #[arg(long, value_enum)]
    scenario: Scenario,
    /// The flow to run (created by --definition-file if given).
    #[arg(long)]
    flow: String,
    /// Create (or replace) the flow from this definition first.
    #[arg(long)]
    definition_file: Option<std::path::PathBuf>,
    /// Create a second flow first (e.g. the child a callback flow starts): NAME=PATH.
    #[arg(long)]
    child_flow: Option<String>,
    /// Create the flow in Express mode (for `sync`).
    #[arg(long)]
    express: bool,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Requests (or executions) in all.
    #[arg(long, default_value_t = 10_000)]
    requests: u64,
    /// Stop after this many seconds even if requests remain.
    #[arg(long, default_value_t = 120)]
    max_seconds: u64,
    /// Pace the calls to this many per second in all (a steady load, e.g. for a soak);
    /// unpaced when absent.
    #[arg(long)]
    rate: Option<f64>,
    /// How often `e2e` asks whether executions are still running, milliseconds.
    #[arg(long, default_value_t = 20)]
    poll_ms: u64,
}

/// Latencies in microseconds, sorted for percentiles.
fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index] as f64 / 1000.0
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    if !args.endpoint.ip().is_loopback() {
        return Err(format!(
            "refusing to load {}: only loopback addresses",
            args.endpoint
        ));
    }
    let http = client::http(args.clients)?;
    let host = args.endpoint.to_string();
    let client = match args.protocol {
        Protocol::Fnf => Client::fnf(http, &host, &args.access_key_id, &args.access_key_secret),
        Protocol::Aws => Client::aws(http, &host, &args.access_key_id, &args.access_key_secret),
    };
    if args.protocol == Protocol::Aws && args.scenario == Scenario::Callback {
        return Err("the callback scenario speaks fnf only".into());
    }
    if let Some(spec) = &args.child_flow {
        let (name, path) = spec.split_once('=').ok_or("--child-flow takes NAME=PATH")?;
        let definition = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        client.create_flow(name, &definition, false).await?;
    }
    let flow = match &args.definition_file {
        Some(path) => {
            let definition =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            client
                .create_flow(&args.flow, &definition, args.express)
                .await?
        }
        None => client.flow_ref(&args.flow),
    };
    let mut report = match args.scenario {
        Scenario::Start | Scenario::Sync | Scenario::E2e => {
            run_calls(&args, &client, &flow).await?
        }
        Scenario::Callback => run_callbacks(&args, &client, &flow).await?,
    };
    report["protocol"] = json!(format!("{:?}", args.protocol).to_lowercase());
    println!("{report}");
    Ok(())
}

/// StartExecution / StartSyncExecution from N clients; `e2e` then waits for the last end.
async fn run_calls(args: &Args, client: &Client, flow: &str) -> Result<Value, String> {
    let issued = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.max_seconds);
    let (steps_before, events_before) = (
        client.counter("fnf_steps_total").await,
        client.counter("fnf_history_events_total").await,
    );
    let started = Instant::now();
    let sync = args.scenario == Scenario::Sync;
    let rate = args.rate.filter(|r| *r > 0.0);
    let mut workers = Vec::new();
    for _ in 0..args.clients {
        let (client, issued, errors, flow, total) = (
            client.clone(),
            issued.clone(),
            errors.clone(),
            flow.to_string(),
            args.requests,
        );
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut first_error = None;
            let mut sample = None;
            loop {
                let ticket = issued.fetch_add(1, Ordering::Relaxed);
                if ticket >= total || Instant::now() >= deadline {
                    break;
                }
                if let Some(rate) = rate {
                    let due = started + Duration::from_secs_f64(ticket as f64 / rate);
                    tokio::time::sleep_until(due.into()).await;
                }
                let sent = Instant::now();
                let answer = if sync {
                    client.start_sync(&flow, "{}").await.map(|()| None)
                } else {
                    client.start(&flow, "{}").await.map(Some)
                };
                latencies.push(sent.elapsed().as_micros() as u64);
                match answer {
                    // The latest: under retention (a soak) the first one may be gone by the end.
                    Ok(execution) => sample = execution.or(sample),
                    Err(error) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        first_error.get_or_insert(error);
                    }
                }
            }
            (latencies, first_error, sample)
        }));
    }
    let mut latencies = Vec::new();
    let mut first_error = None;
    let mut sample = None;
    for worker in workers {
        let (mine, error, execution) = worker.await.map_err(|e| e.to_string())?;
        latencies.extend(mine);
        first_error = first_error.or(error);
        sample = sample.or(execution);
    }
    let calls_elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let count = latencies.len() as u64;
    let failed = errors.load(Ordering::Relaxed);
    let mut report = json!({
        "scenario": format!("{:?}", args.scenario).to_lowercase(),
        "clients": args.clients,
        "rate": rate,
        "requests": count,
        "errors": failed,
        "first_error": first_error,
        "seconds": calls_elapsed,
        "requests_per_second": count as f64 / calls_elapsed,
        "p50_ms": percentile(&latencies, 0.50),
        "p90_ms": percentile(&latencies, 0.90),
        "p99_ms": percentile(&latencies, 0.99),
        "max_ms": percentile(&latencies, 1.0),
    });
    if args.scenario == Scenario::E2e {
        // Done when no execution of the flow is running any more.
        let mut timed_out = false;
        while client.any_running(flow).await? {
            if Instant::now() > deadline {
                timed_out = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(args.poll_ms)).await;
        }
        let total = started.elapsed().as_secs_f64();
        let completed = count - failed;
        report["timed_out"] = json!(timed_out);
        report["e2e_seconds"] = json!(total);
        report["executions"] = json!(completed);
        report["executions_per_second"] = json!(completed as f64 / total);
        // Durable state transitions: states entered, counted by the server as it commits
        // them; checked against one execution's history below.
        if let (Some(before), Some(after)) = (steps_before, client.counter("fnf_steps_total").await)
        {
            report["steps_committed"] = json!(after - before);
            report["steps_per_second"] = json!((after - before) as f64 / total);
        }
        if let (Some(before), Some(after)) = (
            events_before,
            client.counter("fnf_history_events_total").await,
        ) {
            report["history_events_committed"] = json!(after - before);
            report["history_events_per_second"] = json!((after - before) as f64 / total);
        }
        if let Some(execution) = &sample {
            report["sample_status"] = json!(client.status(flow, execution).await?);
            report["sample_steps_in_history"] =
                json!(client.steps_in_history(flow, execution).await?);
        }
    }
    Ok(report)
}

/// Callback round trips: each client starts an execution whose first task waits for a
/// callback (the token comes from the task's input) and whose next step is a Wait. The token
/// is reported once the history shows `TaskSubmitted`: a real holder gets the token from the
/// call that starts it (here the child execution), so its report finds the task waiting; a
/// report sent as soon as `TaskScheduled` shows would race the call itself. The
/// server advances the execution inside ReportTaskSucceeded, so its answer comes after the
/// Wait's start has committed: that is the round trip. A history read after each answer
/// checks it (`seen` times also include that read); a round whose first read does not show
/// the step is counted in `not_started_at_answer`.
async fn run_callbacks(args: &Args, client: &Client, flow: &str) -> Result<Value, String> {
    let signer = client
        .fnf_ref()
        .ok_or("the callback scenario speaks fnf only")?;
    let issued = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.max_seconds);
    let mut workers = Vec::new();
    for client in 0..args.clients {
        let (signer, issued, flow, total) = (
            signer.clone(),
            issued.clone(),
            flow.to_string(),
            args.requests,
        );
        workers.push(tokio::spawn(async move {
            let (mut answered, mut seen, mut late) = (Vec::new(), Vec::new(), 0u64);
            let mut round = 0u64;
            while issued.fetch_add(1, Ordering::Relaxed) < total && Instant::now() < deadline {
                round += 1;
                let name = format!("cb-{client}-{round}-{}", uuid::Uuid::new_v4().simple());
                signer
                    .call(
                        "StartExecution",
                        &[
                            ("FlowName", &flow),
                            ("ExecutionName", &name),
                            ("Input", "{}"),
                        ],
                    )
                    .await?;
                let token = loop {
                    let history = signer
                        .call(
                            "GetExecutionHistory",
                            &[("FlowName", &flow), ("ExecutionName", &name)],
                        )
                        .await?;
                    let events = history["Events"].as_array();
                    let submitted = events
                        .is_some_and(|events| events.iter().any(|e| e["Type"] == "TaskSubmitted"));
                    let scheduled = events.and_then(|events| {
                        events
                            .iter()
                            .find(|e| e["Type"] == "TaskScheduled")
                            .and_then(|e| {
                                serde_json::from_str::<Value>(e["EventDetail"].as_str()?).ok()
                            })
                    });
                    let token = scheduled
                        .and_then(|d| d["input"]["input"]["token"].as_str().map(str::to_string));
                    if submitted && let Some(token) = token {
                        break token;
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                };
                let sent = Instant::now();
                signer
                    .call(
                        "ReportTaskSucceeded",
                        &[("TaskToken", &token), ("Output", "{}")],
                    )
                    .await?;
                let answer = sent.elapsed().as_micros() as u64;
                // The next step has started once its StepStarted is in the history.
                let mut first_read = true;
                loop {
                    let history = signer
                        .call(
                            "GetExecutionHistory",
                            &[("FlowName", &flow), ("ExecutionName", &name)],
                        )
                        .await?;
                    let started = history["Events"]
                        .as_array()
                        .is_some_and(|events| events.iter().any(|e| e["Type"] == "StepStarted"));
                    if started {
                        break;
                    }
                    first_read = false;
                }
                let until_seen = sent.elapsed().as_micros() as u64;
                seen.push(until_seen);
                // Not there at the answer: the round lasts until a read shows it.
                answered.push(if first_read { answer } else { until_seen });
                late += u64::from(!first_read);
                let _ = signer
                    .call(
                        "StopExecution",
                        &[("FlowName", &flow), ("ExecutionName", &name)],
                    )
                    .await;
            }
            Ok::<_, String>((answered, seen, late))
        }));
    }
    let (mut answered, mut seen, mut late) = (Vec::new(), Vec::new(), 0u64);
    for worker in workers {
        let (a, s, l) = worker.await.map_err(|e| e.to_string())??;
        answered.extend(a);
        seen.extend(s);
        late += l;
    }
    answered.sort_unstable();
    seen.sort_unstable();
    Ok(json!({
        "scenario": "callback",
        "clients": args.clients,
        "round_trips": answered.len(),
        "p50_ms": percentile(&answered, 0.50),
        "p99_ms": percentile(&answered, 0.99),
        "seen_p50_ms": percentile(&seen, 0.50),
        "seen_p99_ms": percentile(&seen, 0.99),
        "not_started_at_answer": late,
    }))
}
