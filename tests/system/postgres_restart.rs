//! Postgres restarted under load: while the database is down, requests are answered
//! `503 ServiceUnavailable` in the normal envelope (never a 500, never past the client
//! timeout) and /readyz says not ready; once it is back, every execution whose start was
//! accepted ends with its output and a sound history. The database is a throwaway cluster
//! of the test's own, never the shared server.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::fc_stub::FcStub;
use common::load::{self, Driver, Start};
use common::process::ServerProcess;
use common::{Client, assert_envelope};

/// A Postgres cluster in a temporary directory on a free port; stopped and removed on drop.
struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
    /// Postgres refuses to run as root: then it runs as the `postgres` user.
    run_as: Option<&'static str>,
}

impl Cluster {
    fn create() -> Cluster {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let run_as = root.then_some("postgres");
        if root {
            let status = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(dir.path())
                .status()
                .expect("chown runs");
            assert!(status.success());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Cluster { dir, port, run_as };
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data().display().to_string(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
            ],
        );
        cluster.start();
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Runs a Postgres program (as the `postgres` user when we are root); true if it worked.
    fn try_run(&self, program: &str, args: &[&str]) -> bool {
        let path = find_program(program);
        let mut command = match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(path);
                command
            }
            None => Command::new(path),
        };
        command
            .args(args)
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    #[track_caller]
    fn run(&self, program: &str, args: &[&str]) {
        assert!(self.try_run(program, args), "{program} {args:?} failed");
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("postgres.log").display().to_string();
        let data = self.data().display().to_string();
        self.run(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-o", &options, "-w", "start"],
        );
    }

    /// `-m immediate`: the connections drop at once, like a crash.
    fn stop(&self) -> bool {
        let data = self.data().display().to_string();
        self.try_run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"])
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // The directory goes with `dir`; a cluster already stopped makes this fail harmlessly.
        self.stop();
    }
}

/// A Postgres program: on the PATH, else in a versioned Debian directory.
fn find_program(name: &str) -> PathBuf {
    let on_path = std::env::var("PATH").unwrap_or_default();
    let mut places: Vec<PathBuf> = std::env::split_paths(&on_path).collect();
    if let Ok(versions) = std::fs::read_dir("/usr/lib/postgresql") {
        places.extend(versions.flatten().map(|v| v.path().join("bin")));
    }
    places
        .into_iter()
        .map(|dir| dir.join(name))
        .find(|path| Path::new(path).is_file())
        .unwrap_or_else(|| panic!("{name} is not installed"))
}

/// How many executions, one every `PACE`.
const EXECUTIONS: usize = 60;
const PACE: Duration = Duration::from_millis(100);
/// Any answer must come well within this (the store's acquire timeout is a few seconds).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_get_503_while_postgres_restarts_and_work_resumes() {
    let cluster = Cluster::create();
    let stub = Arc::new(FcStub::start().await);
    let server = ServerProcess::start(&cluster.url(), &stub.endpoint()).await;
    let client = Client {
        http: reqwest::Client::builder()
            .no_proxy()
            .timeout(CLIENT_TIMEOUT)
            .build()
            .unwrap(),
        ..server.client()
    };
    let mut driver = Driver::run(
        stub.clone(),
        vec![client.clone()],
        EXECUTIONS,
        PACE,
        // The server stays up: no answer in time is a hang.
        |clients, n| async move {
            load::start(&clients[0], n)
                .await
                .unwrap_or_else(|e| panic!("start {n}: no answer: {e}"))
        },
    )
    .await;

    // Some executions under way, then the outage, while a call is being made.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let calling = load::call_under_way(&stub, 1, |_| true, Duration::from_secs(3))
        .await
        .expect("a call under way");
    assert!(cluster.stop(), "stopping the test cluster");
    let down = Instant::now();
    let deadline = down + Duration::from_secs(15);
    loop {
        match server.readyz_status().await {
            Some(503) => break,
            Some(200) => {}
            other => panic!("/readyz answered {other:?} during the outage"),
        }
        assert!(Instant::now() < deadline, "/readyz stayed ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let asked = Instant::now();
    let answer = client
        .try_get(
            "DescribeExecution",
            &[("FlowName", "waits"), ("ExecutionName", "waits-0")],
        )
        .await
        .expect("an answer during the outage");
    assert!(asked.elapsed() < CLIENT_TIMEOUT);
    load::assert_unavailable(&answer);
    assert_envelope(&answer, &client.endpoint);
    // The load keeps coming for a while with the database down.
    let outage = Duration::from_secs(4);
    tokio::time::sleep(outage.saturating_sub(down.elapsed())).await;
    cluster.start();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !server.ready().await {
        assert!(Instant::now() < deadline, "not ready after the restart");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let starts = driver.starts().await;
    let refused = load::count(&starts, Start::Unknown);
    assert!(refused > 0, "no start fell in the outage");
    assert!(refused < EXECUTIONS, "no start was accepted");
    let lost = driver.finish(&client).await;
    // The call answered during the outage: its answer was kept (recorded once the database
    // was back), not dropped and the call made again.
    let events = client.history("calls", &calling).await;
    assert!(
        !events.iter().any(
            |e| e["Type"] == "TaskFailed" && common::event_detail(e)["error"] == "FnF.TaskLost"
        ),
        "{calling}: {events:?}"
    );
    eprintln!("{EXECUTIONS} starts, {refused} answered 503, {lost} lost attempts redone");
    drop(server);
    drop(cluster);
}
