//! The server binary in a process of its own, so tests can kill it for real (SIGKILL), stop
//! it gracefully (SIGTERM) and start it again on the same address and store.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{ACCESS_KEY_ID, ACCESS_KEY_SECRET, ACCOUNT_ID, Client};

pub struct ServerProcess {
    child: Option<Child>,
    pub endpoint: String,
    database_url: String,
    fc_endpoint: String,
    env: Vec<(String, String)>,
    /// Where its output (the log) goes, appended across restarts; inherited when `None`.
    log: Option<std::path::PathBuf>,
    /// Soft and hard limit of open files for the process, when set.
    open_files: Option<u64>,
}

impl ServerProcess {
    /// A server on a free loopback port with a 2 s lease (quick takeovers after a kill).
    pub async fn start(database_url: &str, fc_endpoint: &str) -> ServerProcess {
        ServerProcess::start_with(database_url, fc_endpoint, &[]).await
    }

    /// The same with extra (or overriding) environment variables.
    pub async fn start_with(
        database_url: &str,
        fc_endpoint: &str,
        env: &[(&str, &str)],
    ) -> ServerProcess {
        let mut server = ServerProcess::start_unspawned(database_url, fc_endpoint, env);
        server.spawn().await;
        server
    }

    /// The same, logging JSON lines to `log` (at info level).
    pub async fn start_logged(
        database_url: &str,
        fc_endpoint: &str,
        env: &[(&str, &str)],
        log: &std::path::Path,
    ) -> ServerProcess {
        let mut env: Vec<(&str, &str)> = env.to_vec();
        env.push(("RUST_LOG", "info,sqlx=warn"));
        env.push(("FNF_LOG_JSON", "true"));
        let mut server = ServerProcess::start_unspawned(database_url, fc_endpoint, &env);
        server.log = Some(log.to_path_buf());
        server.spawn().await;
        server
    }

    fn start_unspawned(database_url: &str, fc_endpoint: &str, env: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        ServerProcess {
            child: None,
            endpoint: format!("127.0.0.1:{port}"),
            database_url: database_url.to_string(),
            fc_endpoint: fc_endpoint.to_string(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            log: None,
            open_files: None,
        }
    }

    /// The same with at most `open_files` descriptors (soft and hard limit), so that the
    /// server can run out of them.
    pub async fn start_with_open_files(
        database_url: &str,
        env: &[(&str, &str)],
        open_files: u64,
    ) -> ServerProcess {
        let mut server = ServerProcess::start_unspawned(database_url, "", env);
        server.open_files = Some(open_files);
        server.spawn().await;
        server
    }

    /// Spawns the binary and waits until `/readyz` answers 200.
    async fn spawn(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        let mut command = Command::new(env!("CARGO_BIN_EXE_fnf-server"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("FNF_LISTEN", &self.endpoint)
            .env("DATABASE_URL", &self.database_url)
            .env("FNF_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("FNF_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET)
            .env("FNF_ACCOUNT_ID", ACCOUNT_ID)
            .env("FNF_FC_ENDPOINT", &self.fc_endpoint)
            .env("FNF_LEASE_SECONDS", "2")
            .env("RUST_LOG", "warn");
        for (name, value) in &self.env {
            command.env(name, value);
        }
        if let Some(limit) = self.open_files {
            use std::os::unix::process::CommandExt;
            // SAFETY: only `setrlimit`, a system call safe to make between fork and exec.
            unsafe {
                command.pre_exec(move || rlimit::setrlimit(rlimit::Resource::NOFILE, limit, limit));
            }
        }
        // The log goes to stdout.
        let (stdout, stderr) = match &self.log {
            Some(path) => {
                let file = std::fs::File::options()
                    .create(true)
                    .append(true)
                    .open(path)
                    .expect("the log file opens");
                let copy = file.try_clone().expect("the log file is shared");
                (Stdio::from(file), Stdio::from(copy))
            }
            None => (Stdio::null(), Stdio::inherit()),
        };
        let child = command
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("the server binary starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.ready().await {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!("the server exited before it was ready: {status}");
            }
            assert!(Instant::now() < deadline, "the server did not become ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether `/readyz` answers 200 now.
    pub async fn ready(&self) -> bool {
        self.readyz_status().await == Some(200)
    }

    /// The status `/readyz` answers with (None: no answer within 5 s).
    pub async fn readyz_status(&self) -> Option<u16> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        http.get(format!("http://{}/readyz", self.endpoint))
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16())
    }

    pub fn client(&self) -> Client {
        Client::new(&self.endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server is running").id()
    }

    /// SIGKILL to this process's pid: no shutdown code runs.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Fails only if it has exited already; reaped either way.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM: the graceful shutdown; `wait_exit` awaits its end.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits (polling, with a deadline) until the process has exited.
    pub async fn wait_exit(&mut self, within: Duration) {
        let deadline = Instant::now() + within;
        if let Some(child) = self.child.as_mut() {
            while child.try_wait().unwrap().is_none() {
                assert!(Instant::now() < deadline, "the server did not exit");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        self.child = None;
    }

    /// Starts the binary again on the same address and store (after `kill` or an exit).
    pub async fn restart(&mut self) {
        self.spawn().await;
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
