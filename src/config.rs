//! Server configuration: one clap struct, every option a flag with an environment fallback.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// The address the server listens on when none is given (loopback only).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8089";
/// The embedded store used when no database URL is given.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/fnf.db";

/// fnf-server: a self-hosted, wire-compatible Alibaba Cloud Serverless Workflow (fnf) server.
#[derive(Debug, Clone, Parser)]
#[command(name = "fnf-server", version, about)]
pub struct Config {
    /// Address to listen on (host:port). Without configured credentials only loopback
    /// addresses are allowed.
    #[arg(long, env = "FNF_LISTEN", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,

    /// Database: `postgres://…` for Postgres, `sqlite://PATH` for the embedded store
    /// (created on first start). Migrations run at start.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database_url: String,

    /// AccessKey ID of the default account (with FNF_ACCESS_KEY_SECRET).
    #[arg(long, env = "FNF_ACCESS_KEY_ID")]
    pub access_key_id: Option<String>,

    /// AccessKey secret of the default account (with FNF_ACCESS_KEY_ID).
    #[arg(long, env = "FNF_ACCESS_KEY_SECRET", hide_env_values = true)]
    pub access_key_secret: Option<String>,

    /// A TOML or YAML file declaring accounts, their keys and per-key policies.
    #[arg(long, env = "FNF_CREDENTIALS_FILE")]
    pub credentials_file: Option<PathBuf>,

    /// Requests per second allowed per AccessKey (token bucket refill); off when absent.
    #[arg(long, env = "FNF_THROTTLE_RPS")]
    pub throttle_rps: Option<f64>,

    /// Token bucket size per AccessKey (default: one second's worth of --throttle-rps).
    #[arg(long, env = "FNF_THROTTLE_BURST")]
    pub throttle_burst: Option<u32>,

    /// The region this server serves (DescribeRegions, ARNs, `$Context.Flow.Region`).
    #[arg(long, env = "FNF_REGION", default_value = "cn-hangzhou")]
    pub region: String,

    /// The account id of the default account.
    #[arg(long, env = "FNF_ACCOUNT_ID", default_value = "1234567890123456")]
    pub account_id: String,

    /// Base URL of a Function Compute–compatible invoke API used by FC tasks.
    #[arg(long, env = "FNF_FC_ENDPOINT")]
    pub fc_endpoint: Option<String>,

    /// A TOML or YAML file mapping function names to invoke URLs (overrides --fc-endpoint
    /// per function), e.g. `[functions] echo = "http://127.0.0.1:9000/echo"`.
    #[arg(long, env = "FNF_FC_FUNCTIONS_FILE")]
    pub fc_functions_file: Option<PathBuf>,

    /// Largest allowed clock difference of a signed request, in seconds.
    #[arg(long, env = "FNF_MAX_CLOCK_SKEW", default_value_t = 900)]
    pub max_clock_skew_seconds: u64,

    /// Worker tasks advancing executions in this process.
    #[arg(long, env = "FNF_WORKERS", default_value_t = 8)]
    pub workers: usize,

    /// How long a claim on an execution or a task call lasts without a heartbeat, seconds.
    #[arg(long, env = "FNF_LEASE_SECONDS", default_value_t = 10)]
    pub lease_seconds: u64,

    /// Longest StartSyncExecution run before it ends as TimedOut, seconds.
    #[arg(long, env = "FNF_SYNC_EXECUTION_TIMEOUT", default_value_t = 300)]
    pub sync_execution_timeout_seconds: u64,

    /// Most flows per account.
    #[arg(long, env = "FNF_MAX_FLOWS_PER_ACCOUNT", default_value_t = 10_000)]
    pub max_flows_per_account: u64,

    /// Most executions running at once per account (StartExecution, schedule fires and
    /// nested flows; the children of a distributed Map are not counted). A start past it is
    /// refused with ResourceThrottled.
    #[arg(
        long,
        env = "FNF_MAX_RUNNING_EXECUTIONS_PER_ACCOUNT",
        default_value_t = 10_000
    )]
    pub max_running_executions_per_account: u64,

    /// Log as JSON lines instead of text.
    #[arg(long, env = "FNF_LOG_JSON", default_value_t = false)]
    pub log_json: bool,

    /// Seconds to finish or release held work after SIGTERM before exiting.
    #[arg(long, env = "FNF_SHUTDOWN_GRACE", default_value_t = 10)]
    pub shutdown_grace_seconds: u64,

    /// Serve the web console under /console/ (`--console false` turns it off).
    #[arg(long, env = "FNF_CONSOLE", default_value_t = true, action = clap::ArgAction::Set)]
    pub console: bool,

    /// Host names (optionally with `:port`) the console answers to, comma-separated; any
    /// other `Host` is refused. Default: the loopback names localhost, 127.0.0.1 and [::1].
    /// Set it to the public name when the console is served behind a proxy.
    #[arg(long, env = "FNF_CONSOLE_HOSTS", value_delimiter = ',')]
    pub console_hosts: Vec<String>,

    /// Minutes of inactivity after which a console session ends.
    #[arg(long, env = "FNF_CONSOLE_IDLE_MINUTES", default_value_t = 30)]
    pub console_idle_minutes: u64,

    /// Hours after sign-in at which a console session ends, however active.
    #[arg(long, env = "FNF_CONSOLE_SESSION_HOURS", default_value_t = 12)]
    pub console_session_hours: u64,

    /// A YAML or JSON file of test cases and mocked task answers; an execution started with
    /// `FlowName=<flow>#<TestCase>` uses them. Reloaded on SIGHUP and when it changes.
    #[arg(long, env = "FNF_MOCK_CONFIG")]
    pub mock_config: Option<PathBuf>,

    /// Virtual time: every duration an execution waits for (Wait states, retry delays, task,
    /// callback and execution timeouts) is multiplied by this factor; 0 skips waiting.
    #[arg(long, env = "FNF_TIME_SCALE", default_value_t = 1.0, value_parser = parse_time_scale)]
    pub time_scale: f64,

    /// A directory of flow definitions (`*.yaml`, `*.yml`, `*.json`) created or updated as
    /// flows of the default account at start and whenever a file is saved.
    #[arg(long, env = "FNF_FLOWS_DIR")]
    pub flows_dir: Option<PathBuf>,

    /// Most client connections open at once; further clients wait to be accepted.
    #[arg(long, env = "FNF_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Seconds a connection may take to send a request's head, counted from its opening or
    /// from the end of the previous answer: a connection idle that long is closed.
    #[arg(long, env = "FNF_HEADER_READ_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_seconds: u64,

    /// Seconds an answer may wait for the client to read it before the connection closes.
    #[arg(long, env = "FNF_WRITE_TIMEOUT", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub write_timeout_seconds: u64,

    /// Seconds a request's body may take to arrive once its head has.
    #[arg(long, env = "FNF_BODY_READ_TIMEOUT", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_read_timeout_seconds: u64,

    /// Days an ended execution is kept (with its history) before it is deleted and its name
    /// can be used again; fractions allowed; 0 keeps every execution.
    #[arg(long, env = "FNF_RETENTION_DAYS", default_value_t = 90.0, value_parser = parse_retention_days)]
    pub retention_days: f64,
}

/// `--retention-days`: a finite number of days ≥ 0.
fn parse_retention_days(text: &str) -> Result<f64, String> {
    let days: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number"))?;
    if days.is_finite() && days >= 0.0 {
        Ok(days)
    } else {
        Err(format!("must be a finite number of days ≥ 0, got {text}"))
    }
}

/// `--time-scale`: a finite factor ≥ 0.
fn parse_time_scale(text: &str) -> Result<f64, String> {
    let factor: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number"))?;
    crate::engine::clock::TimeScale::new(factor)
        .map(|scale| scale.factor())
        .ok_or_else(|| format!("must be a finite number ≥ 0, got {text}"))
}

impl Config {
    /// A configuration with every default, for tests and embedding.
    pub fn defaults() -> Config {
        Config::parse_from(["fnf-server"])
    }
}
