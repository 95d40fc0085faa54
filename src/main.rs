use std::process::ExitCode;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use fnf_server::config::Config;
use tracing_subscriber::EnvFilter;

// `fnf-server [OPTIONS]` serves (every flag and variable of `Config`); `fnf-server test …`
// runs flow test files.
/// fnf-server: a self-hosted, wire-compatible Alibaba Cloud Serverless Workflow (fnf) server.
#[derive(Debug, Parser)]
#[command(
    name = "fnf-server",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    config: Config,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run flow test files (files, or directories of *.yaml / *.yml / *.json) without a
    /// server or network: mocked tasks, virtual time 0 unless a case sets another.
    Test {
        /// Test files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Also write the results as JUnit XML to this file.
        #[arg(long)]
        junit: Option<PathBuf>,
    },
}

// The request path allocates many short-lived buffers from many threads; glibc's allocator
// spent about a quarter of the server's time on them under load (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Test { paths, junit }) = cli.command {
        // Only problems: the results are the output.
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("error"));
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
        return fnf_server::runner::run(&paths, junit.as_deref()).await;
    }
    let config = cli.config;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    if config.log_json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    raise_open_file_limit();
    let mut server = match fnf_server::server::start(config).await {
        Ok(server) => server,
        Err(error) => {
            tracing::error!(%error, "fnf-server cannot start");
            return ExitCode::FAILURE;
        }
    };
    tokio::select! {
        _ = shutdown_signal() => {
            tracing::info!("shutting down");
            server.stop().await;
        }
        _ = server.serving() => {}
    }
    ExitCode::SUCCESS
}

/// Every client connection holds a file descriptor: take the most the system allows this
/// process (the soft limit is often far below the hard one).
fn raise_open_file_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open file limit"),
        Err(error) => tracing::warn!(%error, "cannot raise the open file limit"),
    }
}

/// SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
