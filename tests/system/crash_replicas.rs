//! Crashes among replicas: three server processes on one Postgres database run a mixed load
//! (waits, task calls, retries, callbacks, parallel, foreach) while one of them is killed
//! (SIGKILL) at random moments and started again, several times. Every execution ends with
//! its output, and no history has a gap or a step run twice but for recorded lost attempts.

use crate::common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::fc_stub::FcStub;
use common::load::{self, Driver, Start};
use common::process::ServerProcess;
use common::{Backend, Storage};

/// Executions started, one every `PACE`, while the victim is killed `KILLS` times.
const EXECUTIONS: usize = 150;
const PACE: Duration = Duration::from_millis(120);
const KILLS: usize = 4;

/// A random duration in [from, to) milliseconds.
fn random_ms(from: u64, to: u64) -> Duration {
    let spread = (uuid::Uuid::new_v4().as_u128() % u128::from(to - from)) as u64;
    Duration::from_millis(from + spread)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_survive_a_replica_killed_again_and_again() {
    let stub = Arc::new(FcStub::start().await);
    let storage = Storage::new(Backend::Postgres).await;
    let mut victim = ServerProcess::start(&storage.database_url, &stub.endpoint()).await;
    let others = [
        ServerProcess::start(&storage.database_url, &stub.endpoint()).await,
        ServerProcess::start(&storage.database_url, &stub.endpoint()).await,
    ];
    // The victim keeps its address across restarts, so its client stays valid.
    let clients = vec![victim.client(), others[0].client(), others[1].client()];
    let mut driver =
        Driver::run(
            stub.clone(),
            clients.clone(),
            EXECUTIONS,
            PACE,
            |clients, n| async move {
                load::start_somewhere(&clients, n, Duration::from_secs(20)).await
            },
        )
        .await;

    let began = Instant::now();
    for _ in 0..KILLS {
        tokio::time::sleep(random_ms(1000, 2500)).await;
        // Aimed at a call the victim (server 0) is making, so attempts are lost for sure.
        load::call_under_way(&stub, clients.len(), |s| s == 0, Duration::from_secs(3)).await;
        tokio::time::sleep(random_ms(0, 200)).await;
        victim.kill();
        tokio::time::sleep(random_ms(0, 1000)).await;
        victim.restart().await;
    }
    let starts = driver.starts().await;
    assert_eq!(
        load::count(&starts, Start::Accepted),
        EXECUTIONS,
        "every start was accepted by some replica"
    );
    let lost = driver.finish(&clients[1]).await;
    assert!(lost > 0, "no kill caught the victim in a call");
    eprintln!(
        "{EXECUTIONS} executions, {KILLS} kills, {lost} lost attempts redone, {:?}",
        began.elapsed()
    );
    victim.kill();
    drop(others);
    storage.cleanup().await;
}
