//! Resource limits of the parsers and the transport, on the server binary in a process of
//! its own: hostile definitions are refused within CPU and memory budgets read from /proc
//! while other requests are served, and idle or dribbling connections are closed by the
//! server's timeouts while requests keep being served, also when the process runs out of
//! file descriptors.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::process::ServerProcess;
use common::{Backend, Client, Storage, encode_form};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const FLOW: &str = "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: p\n";

/// CPU the server may spend refusing all the hostile definitions of the test (a debug build;
/// before the budgets one nested definition alone took about a minute).
const CPU_BUDGET_SECONDS: f64 = 3.0;
/// How much the server's peak resident memory may grow meanwhile (before, the alias bomb
/// alone took it to about 1 GB).
const MEMORY_BUDGET_KIB: u64 = 128 * 1024;

/// 300 KB of nested flow sequences.
fn nested_definition() -> String {
    let depth = 150_000;
    format!(
        "version: v1\ntype: flow\nsteps: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

/// 220 KB that alias a 200 KB anchor 4,000 times (800 MB once expanded).
fn alias_bomb_definition() -> String {
    let uses = vec!["*big"; 4000].join(",");
    format!(
        "version: v1\ntype: flow\nbig: &big '{}'\nsteps: [{uses}]\n",
        "x".repeat(200 * 1024)
    )
}

backend_tests! {
    async fn hostile_definitions_are_refused_within_budgets_while_others_are_served(backend) {
        let storage = Storage::new(backend).await;
        let server = ServerProcess::start_with(&storage.database_url, "", &[]).await;
        let client = server.client();
        client.create_flow("steady", FLOW).await;
        let pid = server.pid();
        let (cpu_before, memory_before) = (cpu_seconds(pid), peak_rss_kib(pid));

        // Every hostile request is sent but its last byte, so all are in flight at once.
        let bombs = [
            (nested_definition(), "is nested more than 128 levels deep"),
            (alias_bomb_definition(), "has aliases that expand to more than 1048576 bytes"),
        ];
        let mut held = Vec::new();
        for (index, (definition, reason)) in bombs.iter().cycle().take(6).enumerate() {
            let name = format!("hostile_{index}");
            let params = [("Name", name.as_str()), ("Type", "FDL"), ("Definition", definition)];
            held.push((hold_request(&client, "CreateFlow", &params).await, *reason));
        }
        describe_steady(&server.endpoint).await;

        // Released together, while other clients keep asking.
        let described = Arc::new(AtomicUsize::new(0));
        let describing = {
            let (endpoint, described) = (server.endpoint.clone(), described.clone());
            tokio::spawn(async move {
                loop {
                    describe_steady(&endpoint).await;
                    described.fetch_add(1, Ordering::SeqCst);
                }
            })
        };
        let answers = futures_join(held.into_iter().map(|(request, reason)| async move {
            (request.finish().await, reason)
        }))
        .await;
        let described_meanwhile = described.load(Ordering::SeqCst);
        describing.abort();
        for (answer, reason) in answers {
            assert_eq!(answer["Code"], "InvalidArgument", "{answer}");
            let message = answer["Message"].as_str().unwrap_or_default();
            assert!(
                message.starts_with("Parameter error: Definition is invalid: ")
                    && message.contains(reason),
                "{message}"
            );
        }
        describe_steady(&server.endpoint).await;

        let cpu = cpu_seconds(pid) - cpu_before;
        let memory = peak_rss_kib(pid).saturating_sub(memory_before);
        println!(
            "refusing 6 hostile definitions: {cpu:.2} s of CPU, peak memory +{memory} KiB, \
             {described_meanwhile} DescribeFlow answered meanwhile"
        );
        assert!(cpu < CPU_BUDGET_SECONDS, "{cpu} s of CPU");
        assert!(memory < MEMORY_BUDGET_KIB, "peak memory grew by {memory} KiB");
        // Anchors within the budget still work.
        let reused = "version: v1\ntype: flow\nsteps:\n  - &p {type: pass, name: a}\n  - {type: pass, name: b}\n";
        client.create_flow("reused", reused).await;
        drop(server);
        storage.cleanup().await;
    }

    async fn idle_and_dribbling_connections_are_closed_while_requests_are_served(backend) {
        raise_own_open_file_limit(8192);
        let storage = Storage::new(backend).await;
        // Fewer slots than idle clients: the later ones wait to be accepted, then time out too.
        let env = [("FNF_HEADER_READ_TIMEOUT", "2"), ("FNF_MAX_CONNECTIONS", "1500")];
        let server = ServerProcess::start_with(&storage.database_url, "", &env).await;
        server.client().create_flow("steady", FLOW).await;

        let mut idle = Vec::new();
        for index in 0..2000 {
            let mut stream = TcpStream::connect(&server.endpoint).await.expect("connecting");
            // A third start a request head and never finish it.
            if index % 3 == 0 {
                let _ = stream.write_all(b"GET /?Action=DescribeFlow HTTP/1.1\r\nHo").await;
            }
            idle.push(stream);
        }
        let dribbling = tokio::spawn(dribble(server.endpoint.clone()));
        // Served meanwhile (after waiting for a slot at most one timeout).
        describe_steady(&server.endpoint).await;

        let deadline = Instant::now() + Duration::from_secs(90);
        for stream in &mut idle {
            assert!(closed_by_server(stream, deadline).await, "an idle connection stayed open");
        }
        let bytes_sent = tokio::time::timeout(Duration::from_secs(30), dribbling)
            .await
            .expect("the dribbling connection is closed")
            .expect("the dribbling task ends");
        assert!(bytes_sent < 64, "{bytes_sent} bytes dribbled before the server closed it");
        // And after.
        describe_steady(&server.endpoint).await;
        assert!(server.ready().await);
        drop(server);
        storage.cleanup().await;
    }
}

/// With too few descriptors for its clients the server pauses accepting instead of failing,
/// serves what it holds, and accepts again once the idle connections time out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_out_of_file_descriptors_pauses_accepting_and_recovers() {
    let storage = Storage::new(Backend::Sqlite).await;
    let env = [("FNF_HEADER_READ_TIMEOUT", "2")];
    let server = ServerProcess::start_with_open_files(&storage.database_url, &env, 256).await;
    server.client().create_flow("steady", FLOW).await;
    let mut idle = Vec::new();
    for _ in 0..600 {
        idle.push(
            TcpStream::connect(&server.endpoint)
                .await
                .expect("connecting"),
        );
    }
    describe_steady(&server.endpoint).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    for stream in &mut idle {
        assert!(closed_by_server(stream, deadline).await);
    }
    describe_steady(&server.endpoint).await;
    assert!(server.ready().await);
    drop(server);
    storage.cleanup().await;
}

/// DescribeFlow of `steady` on a connection of its own succeeds.
async fn describe_steady(endpoint: &str) {
    let client = common::Client::new(endpoint, common::ACCESS_KEY_ID, common::ACCESS_KEY_SECRET);
    client.get("DescribeFlow", &[("Name", "steady")]).await.ok();
}

/// A signed POST whose last body byte is not sent yet.
struct HeldRequest {
    stream: TcpStream,
    last: u8,
}

async fn hold_request(client: &Client, action: &str, params: &[(&str, &str)]) -> HeldRequest {
    let body = encode_form(&client.signed("POST", action, params, |_| {}));
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n",
        client.endpoint,
        body.len()
    );
    let mut stream = TcpStream::connect(&client.endpoint)
        .await
        .expect("connecting");
    let (most, last) = body.as_bytes().split_at(body.len() - 1);
    stream.write_all(head.as_bytes()).await.expect("sending");
    stream.write_all(most).await.expect("sending");
    HeldRequest {
        stream,
        last: last[0],
    }
}

impl HeldRequest {
    /// Sends the last byte and reads the answer's JSON body.
    async fn finish(mut self) -> Value {
        self.stream.write_all(&[self.last]).await.expect("sending");
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 4096];
        let answer = tokio::time::timeout(Duration::from_secs(300), async {
            loop {
                let read = self.stream.read(&mut chunk).await.expect("reading");
                bytes.extend_from_slice(&chunk[..read]);
                if let Some(body) = complete_body(&bytes) {
                    return body;
                }
                assert!(read > 0, "closed before a whole answer");
            }
        })
        .await
        .expect("the hostile request is answered");
        serde_json::from_slice(&answer).expect("a JSON answer")
    }
}

/// The body of a complete HTTP/1.1 answer with a `content-length`.
fn complete_body(bytes: &[u8]) -> Option<Vec<u8>> {
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))?
        .trim()
        .parse()
        .ok()?;
    let body = bytes.get(end + 4..end + 4 + length)?;
    Some(body.to_vec())
}

/// Whether the server closes `stream` (end of stream or reset) before `deadline`.
async fn closed_by_server(stream: &mut TcpStream, deadline: Instant) -> bool {
    let mut buffer = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // A server may answer before closing; keep reading.
            Ok(Ok(_)) => continue,
        }
    }
}

/// Sends a request head one byte every 200 ms until the server closes the connection;
/// returns how many bytes it got to send.
async fn dribble(endpoint: String) -> usize {
    let mut stream = TcpStream::connect(&endpoint).await.expect("connecting");
    let head = b"GET /?Action=DescribeFlow HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    let mut sent = 0;
    loop {
        let byte = head.get(sent).copied().unwrap_or(b'a');
        if stream.write_all(&[byte]).await.is_err() {
            return sent;
        }
        sent += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut probe = [0u8; 64];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(1), stream.read(&mut probe)).await
        {
            return sent;
        }
    }
}

/// Runs futures concurrently and collects their outputs in order.
async fn futures_join<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await.expect("the task ends"));
    }
    outputs
}

/// User plus system CPU time of a process, in seconds, from /proc.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // The fields after the command name, which is in parentheses: utime and stime are the
    // 12th and 13th of them, in clock ticks (100 per second on Linux).
    let after_name = &stat[stat.rfind(')').expect("a command name") + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    ticks as f64 / 100.0
}

/// The peak resident set size of a process (`VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

/// Lets this test process hold `at_least` sockets.
fn raise_own_open_file_limit(at_least: u64) {
    let limit = rlimit::increase_nofile_limit(at_least).expect("raising the open file limit");
    assert!(
        limit >= at_least.min(4096),
        "only {limit} open files allowed"
    );
}
