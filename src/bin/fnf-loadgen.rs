//! Load generator for fnf-server benchmarks: signed V1 requests (a fresh nonce each) from N
//! concurrent connections, bounded by count and time, to loopback addresses only. Prints one
//! JSON object with the figures.
//!
//! Scenarios:
//! * `start`    — StartExecution of a flow (throughput and latency of the call itself);
//! * `e2e`      — a burst of StartExecution, then waits until none is running: executions
//!   completed per second from the first start to the last end;
//! * `sync`     — StartSyncExecution of an Express flow;
//! * `callback` — ReportTaskSucceeded until the next step has started (a flow that waits for
//!   a callback and then waits again; the clock stops when the history shows the next step).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use fnf_server::auth::v1;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Scenario {
    Start,
    E2e,
    Sync,
    Callback,
}

/// Drives load against a fnf-server on a loopback address.
#[derive(Debug, Parser)]
#[command(name = "fnf-loadgen")]
struct Args {
    /// host:port of the server; must be a loopback address.
    #[arg(long, default_value = "127.0.0.1:8089")]
    endpoint: SocketAddr,
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
}

#[derive(Clone)]
struct Signer {
    http: reqwest::Client,
    endpoint: String,
    key: String,
    secret: String,
}

impl Signer {
    async fn call(&self, action: &str, params: &[(&str, &str)]) -> Result<Value, String> {
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let timestamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let mut all: Vec<(&str, &str)> = vec![
            ("Action", action),
            ("Version", "2019-03-15"),
            ("AccessKeyId", &self.key),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", &nonce),
            ("Timestamp", &timestamp),
            ("Format", "JSON"),
        ];
        all.extend_from_slice(params);
        let signature = v1::sign(
            &self.secret,
            &v1::string_to_sign("POST", all.iter().copied()),
        );
        all.push(("Signature", &signature));
        let body = all
            .iter()
            .map(|(k, v)| format!("{}={}", v1::percent_encode(k), v1::percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let response = self
            .http
            .post(&self.endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body: Value = response.json().await.map_err(|e| e.to_string())?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(format!("{status}: {body}"))
        }
    }
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
    let signer = Signer {
        http: reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(args.clients)
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| e.to_string())?,
        endpoint: format!("http://{}/", args.endpoint),
        key: args.access_key_id.clone(),
        secret: args.access_key_secret.clone(),
    };
    if let Some(path) = &args.definition_file {
        let definition =
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let _ = signer.call("DeleteFlow", &[("Name", &args.flow)]).await;
        let mode = if args.express { "Express" } else { "Standard" };
        signer
            .call(
                "CreateFlow",
                &[
                    ("Name", &args.flow),
                    ("Definition", &definition),
                    ("Type", "FDL"),
                    ("Description", "benchmark"),
                    ("ExecutionMode", mode),
                ],
            )
            .await?;
    }
    let report = match args.scenario {
        Scenario::Start | Scenario::Sync | Scenario::E2e => run_calls(&args, &signer).await?,
        Scenario::Callback => run_callbacks(&args, &signer).await?,
    };
    println!("{report}");
    Ok(())
}

/// StartExecution / StartSyncExecution from N clients; `e2e` then waits for the last end.
async fn run_calls(args: &Args, signer: &Signer) -> Result<Value, String> {
    let issued = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.max_seconds);
    let started = Instant::now();
    let action = match args.scenario {
        Scenario::Sync => "StartSyncExecution",
        _ => "StartExecution",
    };
    let mut workers = Vec::new();
    for _ in 0..args.clients {
        let (signer, issued, errors, flow, total) = (
            signer.clone(),
            issued.clone(),
            errors.clone(),
            args.flow.clone(),
            args.requests,
        );
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut first_error = None;
            while issued.fetch_add(1, Ordering::Relaxed) < total && Instant::now() < deadline {
                let sent = Instant::now();
                let answer = signer
                    .call(action, &[("FlowName", &flow), ("Input", "{}")])
                    .await;
                latencies.push(sent.elapsed().as_micros() as u64);
                let failed = match &answer {
                    Ok(body) => action == "StartSyncExecution" && body["Status"] != "Succeeded",
                    Err(_) => true,
                };
                if failed {
                    errors.fetch_add(1, Ordering::Relaxed);
                    first_error.get_or_insert_with(|| format!("{answer:?}"));
                }
            }
            (latencies, first_error)
        }));
    }
    let mut latencies = Vec::new();
    let mut first_error = None;
    for worker in workers {
        let (mine, error) = worker.await.map_err(|e| e.to_string())?;
        latencies.extend(mine);
        first_error = first_error.or(error);
    }
    let calls_elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let count = latencies.len() as u64;
    let mut report = json!({
        "scenario": format!("{:?}", args.scenario).to_lowercase(),
        "clients": args.clients,
        "requests": count,
        "errors": errors.load(Ordering::Relaxed),
        "first_error": first_error,
        "seconds": calls_elapsed,
        "requests_per_second": count as f64 / calls_elapsed,
        "p50_ms": percentile(&latencies, 0.50),
        "p90_ms": percentile(&latencies, 0.90),
        "p99_ms": percentile(&latencies, 0.99),
        "max_ms": percentile(&latencies, 1.0),
    });
    if let Scenario::E2e = args.scenario {
        // Done when no execution of the flow is running any more.
        loop {
            let running = signer
                .call(
                    "ListExecutions",
                    &[
                        ("FlowName", &args.flow),
                        ("Status", "Running"),
                        ("Limit", "1"),
                        ("MetadataOnly", "true"),
                    ],
                )
                .await?;
            if running["Executions"]
                .as_array()
                .is_none_or(|e| e.is_empty())
            {
                break;
            }
            if Instant::now() > deadline {
                return Err("executions still running at the deadline".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let total = started.elapsed().as_secs_f64();
        report["e2e_seconds"] = json!(total);
        report["executions_per_second"] = json!(count as f64 / total);
    }
    Ok(report)
}

/// Callback round trips: each client starts an execution whose first task waits for a
/// callback (the token comes from the task's input) and whose next step is a Wait; the
/// round trip ends when the history shows the Wait's `StepStarted`.
async fn run_callbacks(args: &Args, signer: &Signer) -> Result<Value, String> {
    let issued = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.max_seconds);
    let mut workers = Vec::new();
    for client in 0..args.clients {
        let (signer, issued, flow, total) = (
            signer.clone(),
            issued.clone(),
            args.flow.clone(),
            args.requests,
        );
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
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
                    let scheduled = history["Events"].as_array().and_then(|events| {
                        events
                            .iter()
                            .find(|e| e["Type"] == "TaskSubmitted" || e["Type"] == "TaskScheduled")
                            .and_then(|e| {
                                serde_json::from_str::<Value>(e["EventDetail"].as_str()?).ok()
                            })
                    });
                    if let Some(token) = scheduled
                        .and_then(|d| d["input"]["input"]["token"].as_str().map(str::to_string))
                    {
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
                // The next step has started once its StepStarted is in the history.
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
                }
                latencies.push(sent.elapsed().as_micros() as u64);
                let _ = signer
                    .call(
                        "StopExecution",
                        &[("FlowName", &flow), ("ExecutionName", &name)],
                    )
                    .await;
            }
            Ok::<_, String>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.map_err(|e| e.to_string())??);
    }
    latencies.sort_unstable();
    Ok(json!({
        "scenario": "callback",
        "clients": args.clients,
        "round_trips": latencies.len(),
        "p50_ms": percentile(&latencies, 0.50),
        "p99_ms": percentile(&latencies, 0.99),
    }))
}
