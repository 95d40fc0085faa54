//! Waiting is free: with 1,000 executions waiting — on timers, on callbacks, in retry delays,
//! on a child execution — the server process (the real binary) uses under 1% of a core and
//! the store is not written to while nothing is due.
//!
//! Measured on counters, not on time: the process's CPU ticks from `/proc`, and the store's
//! own counters — SQLite's `PRAGMA data_version` seen from another connection, Postgres's
//! rows written and transactions committed in the test database (`pg_stat_*`).

// A binary of its own: its budgets are measured while no other test of the suite runs
// alongside it in this process.
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::process::ServerProcess;
use common::{Backend, Client, Storage};
use fnf_server::time::now_ms;
use sqlx::Connection;
use tokio::sync::Semaphore;

/// The measurement window.
const WINDOW: Duration = Duration::from_secs(10);
/// Postgres publishes a backend's statistics when it goes idle, at most once a second and
/// otherwise within 10 s (`PGSTAT_IDLE_INTERVAL`): counters are read that long after the
/// activity they must include.
const PG_STATS_DELAY: Duration = Duration::from_secs(11);

const TIMERS: usize = 400;
const CALLBACKS: usize = 300;
const RETRIES: usize = 299;

/// An hour's wait (FDL allows up to two days).
const TIMER_FLOW: &str =
    "version: v1\ntype: flow\nsteps:\n  - type: wait\n    name: pause\n    duration: 3600\n";

/// Waits for a report to its task token (the child it starts ends at once).
const CALLBACK_FLOW: &str = r#"Type: StateMachine
Name: callbacks
SpecVersion: v1
StartAt: ask
States:
  - Type: Task
    Name: ask
    Action: FNF:StartExecution
    TaskMode: WaitForCustomCallback
    Parameters:
      resourceArn: acs:fnf:::flow/done
      input:
        token.$: $Context.Current.TaskToken
    End: true
"#;

const DONE_FLOW: &str = "Type: StateMachine\nName: done\nSpecVersion: v1\nStartAt: p\nStates:\n  - Type: Pass\n    Name: p\n    End: true\n";

/// Fails (its child flow does not exist) and waits an hour before the next attempt.
const RETRY_FLOW: &str = r#"Type: StateMachine
Name: retries
SpecVersion: v1
StartAt: try
States:
  - Type: Task
    Name: try
    Action: FNF:StartExecution
    TaskMode: RequestComplete
    Parameters:
      resourceArn: acs:fnf:::flow/missing
    Retry:
      - Errors: [FnF.ALL]
        MaxAttempts: 3
        IntervalSeconds: 3600
    End: true
"#;

/// Waits for its child, which waits on a timer.
const PARENT_FLOW: &str = r#"Type: StateMachine
Name: parent
SpecVersion: v1
StartAt: call
States:
  - Type: Task
    Name: call
    Action: FNF:StartExecution
    TaskMode: WaitForSystemCallback
    Parameters:
      resourceArn: acs:fnf:::flow/timers
    End: true
"#;

/// A connection to the store the server uses, for its counters.
enum Probe {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

/// What the store counters say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counters {
    /// SQLite: `data_version`; Postgres: rows inserted, updated or deleted in user tables.
    writes: i64,
    /// Postgres: transactions committed in the database (SQLite: 0).
    commits: i64,
}

impl Probe {
    async fn open(storage: &Storage) -> Probe {
        match storage.backend {
            Backend::Sqlite => Probe::Sqlite(
                sqlx::SqliteConnection::connect(&format!("{}?mode=ro", storage.database_url))
                    .await
                    .expect("the database file opens"),
            ),
            Backend::Postgres => Probe::Postgres(
                sqlx::PgConnection::connect(&storage.database_url)
                    .await
                    .expect("the test database answers"),
            ),
        }
    }

    /// Executions running but neither due within a minute nor leased, and task calls in
    /// flight: once both are (expected, 0), everything waits.
    async fn waiting(&mut self) -> (i64, i64) {
        const WAITING: &str = "SELECT (SELECT COUNT(*) FROM executions WHERE status = 'Running' \
             AND (due_at IS NULL OR due_at > $1) AND lease_owner IS NULL), \
             (SELECT COUNT(*) FROM task_calls)";
        let due_soon = now_ms() + 60_000;
        match self {
            Probe::Sqlite(db) => sqlx::query_as(WAITING).bind(due_soon).fetch_one(db).await,
            Probe::Postgres(db) => sqlx::query_as(WAITING).bind(due_soon).fetch_one(db).await,
        }
        .expect("the store answers")
    }

    /// Reads the counters (on Postgres, one transaction of this connection).
    async fn counters(&mut self) -> Counters {
        match self {
            Probe::Sqlite(connection) => Counters {
                writes: sqlx::query_scalar("PRAGMA data_version")
                    .fetch_one(connection)
                    .await
                    .unwrap(),
                commits: 0,
            },
            Probe::Postgres(connection) => {
                let (writes, commits): (i64, i64) = sqlx::query_as(
                    "SELECT (SELECT CAST(COALESCE(SUM(n_tup_ins + n_tup_upd + n_tup_del), 0) AS BIGINT) \
                     FROM pg_stat_user_tables), \
                     (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())",
                )
                .fetch_one(connection)
                .await
                .unwrap();
                Counters { writes, commits }
            }
        }
    }

    /// Waits until the counters hold still for a second (two minutes at most).
    async fn wait_until_quiet(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut last = self.counters().await;
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = self.counters().await;
            if now == last {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the store kept being written to: {last:?} -> {now:?}"
            );
            last = now;
        }
    }

    /// Postgres: the statements the server's connections started since `since_ms` (each
    /// connection shows its latest).
    async fn server_statements_since(&mut self, since_ms: i64) -> Vec<String> {
        match self {
            Probe::Sqlite(_) => Vec::new(),
            Probe::Postgres(connection) => sqlx::query_scalar(
                "SELECT query FROM pg_stat_activity WHERE datname = current_database() \
                 AND pid <> pg_backend_pid() AND query_start >= to_timestamp($1 / 1000.0)",
            )
            .bind(since_ms as f64)
            .fetch_all(connection)
            .await
            .unwrap(),
        }
    }
}

/// CPU time the process has used (user + system), in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // The command name is in parentheses and may hold spaces: fields count from after it.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .collect();
    // Fields 14 (utime) and 15 (stime) of proc(5); the first one here is field 3.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn clock_ticks_per_second() -> u64 {
    let output = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .expect("getconf runs");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("CLK_TCK is a number")
}

/// Starts `count` executions of `flow`, a few requests at a time.
async fn start_many(client: &Client, flow: &str, count: usize) {
    let permits = Arc::new(Semaphore::new(8));
    let mut started = Vec::new();
    for i in 0..count {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let (client, flow) = (client.clone(), flow.to_string());
        started.push(tokio::spawn(async move {
            client.start(&flow, &format!("run-{i}"), "{}").await;
            drop(permit);
        }));
    }
    for task in started {
        task.await.unwrap();
    }
}

async fn waiting_costs_nothing(backend: Backend) {
    let storage = Storage::new(backend).await;
    // A long lease: a replica sharing its store looks at the wake-ups once per lease period
    // (at most once a minute), and the window must say what idling costs, not those looks.
    let server = ServerProcess::start_with(
        &storage.database_url,
        "http://127.0.0.1:9",
        &[("FNF_LEASE_SECONDS", "60")],
    )
    .await;
    let client = server.client();
    client.create_flow("timers", TIMER_FLOW).await;
    client.create_flow("done", DONE_FLOW).await;
    client.create_flow("callbacks", CALLBACK_FLOW).await;
    client.create_flow("retries", RETRY_FLOW).await;
    client.create_flow("parent", PARENT_FLOW).await;
    start_many(&client, "timers", TIMERS).await;
    start_many(&client, "callbacks", CALLBACKS).await;
    start_many(&client, "retries", RETRIES).await;
    client.start("parent", "run", "{}").await;

    // Every execution reaches its wait: 1,000 started and the parent's child.
    let expected = (TIMERS + CALLBACKS + RETRIES + 2) as i64;
    let mut probe = Probe::open(&storage).await;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let waiting = probe.waiting().await;
        if waiting == (expected, 0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "executions waiting and task calls: {waiting:?}, expected ({expected}, 0)"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let events = client.history("retries", "run-0").await;
    assert!(
        events.iter().any(|e| e["Type"] == "TaskFailed"),
        "the retried task failed once and waits: {events:?}"
    );

    if backend == Backend::Postgres {
        // The setup's statistics are published before the window opens.
        tokio::time::sleep(PG_STATS_DELAY).await;
    } else {
        // With SQLite a request's nonce is written behind its answer: the setup's last
        // requests may still be committing. The window opens once the store is quiet.
        probe.wait_until_quiet().await;
    }
    let ticks_per_second = clock_ticks_per_second();
    let opened_ms = now_ms();
    let before = probe.counters().await;
    let cpu_before = cpu_ticks(server.pid());
    tokio::time::sleep(WINDOW).await;
    let cpu = cpu_ticks(server.pid()) - cpu_before;
    let statements = probe.server_statements_since(opened_ms).await;
    if backend == Backend::Postgres {
        tokio::time::sleep(PG_STATS_DELAY).await;
    }
    let after = probe.counters().await;

    eprintln!(
        "{backend:?}: {cpu} CPU ticks ({ticks_per_second}/s) in {WINDOW:?}; store counters \
         {before:?} -> {after:?}; statements the server started: {statements:?}"
    );
    // Under 1% of a core: 0.1 s of CPU in 10 s.
    let budget = ticks_per_second * WINDOW.as_secs() / 100;
    assert!(
        cpu < budget,
        "the server used {cpu} CPU ticks in {WINDOW:?} ({ticks_per_second}/s), over 1% of a core"
    );
    assert_eq!(
        after.writes, before.writes,
        "the store was written to while nothing was due"
    );
    if backend == Backend::Postgres {
        // This connection's reading of `before` and of the statements is counted too. The
        // server may look at its wake-ups and its schedules, a read each, once a minute.
        let server_commits = after.commits - before.commits - 2;
        assert!(
            server_commits <= 2,
            "the server committed {server_commits} transactions while nothing was due"
        );
        for statement in &statements {
            assert!(
                statement.trim_start().to_uppercase().starts_with("SELECT"),
                "the server wrote while nothing was due: {statement}"
            );
        }
    }
    for (flow, execution) in [
        ("timers", "run-0"),
        ("callbacks", "run-0"),
        ("parent", "run"),
    ] {
        assert_eq!(client.describe(flow, execution).await["Status"], "Running");
    }
    drop(server);
    storage.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_waiting_costs_nothing() {
    waiting_costs_nothing(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_waiting_costs_nothing() {
    waiting_costs_nothing(Backend::Postgres).await;
}
