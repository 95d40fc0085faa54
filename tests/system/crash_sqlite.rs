//! A crash on SQLite: the single server process is killed (SIGKILL) under a mixed load and
//! started again on the same file, twice. Nothing accepted is lost: every StartExecution
//! that answered 200 exists and ends with its output, with a history without gaps.

use crate::common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::fc_stub::FcStub;
use common::load::{self, Driver, Start};
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
    let mut driver = Driver::run(
        stub.clone(),
        vec![client.clone()],
        EXECUTIONS,
        PACE,
        // No answer (the process died meanwhile): the execution may or may not exist.
        |clients, n| async move { load::start(&clients[0], n).await.unwrap_or(Start::Unknown) },
    )
    .await;

    let began = Instant::now();
    for _ in 0..KILLS {
        // Mid-load and mid-call, so a call's attempt is lost and made again.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        load::call_under_way(&stub, 1, |_| true, Duration::from_secs(3)).await;
        server.kill();
        server.restart().await;
    }
    let starts = driver.starts().await;
    let accepted = load::count(&starts, Start::Accepted);
    assert!(accepted > EXECUTIONS / 2, "only {accepted} starts accepted");
    let lost = driver.finish(&client).await;
    assert!(lost > 0, "no kill caught a call");
    eprintln!(
        "{EXECUTIONS} starts, {accepted} accepted, {KILLS} kills, {lost} lost attempts redone, {:?}",
        began.elapsed()
    );
    server.kill();
}
