//! A crash on SQLite: the single server process is killed (SIGKILL) under a mixed load and
//! started again on the same file, twice. Nothing accepted is lost: every StartExecution
//! that answered 200 exists and ends with its output, with a history without gaps.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::fc_stub::FcStub;
use common::load::{self, Start, Starts};
use common::process::ServerProcess;
use common::{Backend, Storage};

const EXECUTIONS: usize = 90;
const PACE: Duration = Duration::from_millis(80);
const KILLS: usize = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_loses_nothing_accepted_when_killed_under_load() {
    let stub = Arc::new(FcStub::start().await);
    let storage = Storage::new(Backend::Sqlite).await;
    let mut server = ServerProcess::start(&storage.database_url, &stub.endpoint()).await;
    let client = server.client();
    load::create_flows(&client).await;
    let stop = Arc::new(AtomicBool::new(false));
    let reporter = load::answer_callbacks(stub.clone(), vec![client.clone()], stop.clone());
    let starts = Starts::default();
    let starter = {
        let (client, starts) = (client.clone(), starts.clone());
        tokio::spawn(async move {
            for n in 0..EXECUTIONS {
                let (client, starts) = (client.clone(), starts.clone());
                tokio::spawn(async move {
                    // No answer (the process died meanwhile): it may or may not exist.
                    let start = load::start(&client, n).await.unwrap_or(Start::Unknown);
                    starts.record(n, start).await;
                });
                tokio::time::sleep(PACE).await;
            }
        })
    };

    let began = Instant::now();
    for _ in 0..KILLS {
        // Mid-load and mid-call, so a call's attempt is lost and made again.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        load::call_under_way(&stub, 1, |_| true, Duration::from_secs(3)).await;
        server.kill();
        server.restart().await;
    }
    starter.await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while starts.all().await.len() < EXECUTIONS {
        assert!(Instant::now() < deadline, "starts did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let all = starts.all().await;
    let accepted = all.values().filter(|s| **s == Start::Accepted).count();
    assert!(accepted > EXECUTIONS / 2, "only {accepted} starts accepted");
    let lost = load::verify(&client, &stub, &all).await;
    assert!(lost > 0, "no kill caught a call");
    eprintln!(
        "{EXECUTIONS} starts, {accepted} accepted, {KILLS} kills, {lost} lost attempts redone, {:?}",
        began.elapsed()
    );
    stop.store(true, Ordering::SeqCst);
    reporter.await.unwrap();
    server.kill();
}
