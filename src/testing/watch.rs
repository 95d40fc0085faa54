//! Keeping the server's mocks current: the mock file is reloaded on SIGHUP and whenever it is
//! saved; a file that does not load or validate leaves the previous mocks in place.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::task::JoinHandle;

use super::mocks::{MockConfig, MockError};
use super::registry::MockRegistry;
use crate::engine::parse::{ParseOptions, parse_definition};
use crate::file_watch::DirectoryWatch;
use crate::store::Store;

/// Checks the test cases of flows that exist in any of `accounts` against their definitions.
pub async fn check_stored_flows(
    config: &MockConfig,
    file: &Path,
    store: &dyn Store,
    accounts: &[String],
) -> Result<(), MockError> {
    let error = |path: String, reason: String| MockError {
        file: file.to_path_buf(),
        path,
        reason,
    };
    for flow_name in config.flow_names() {
        for account in accounts {
            let flow = store.get_flow(account, flow_name).await.map_err(|e| {
                error(
                    String::new(),
                    format!("cannot read the flow '{flow_name}': {e}"),
                )
            })?;
            let Some(flow) = flow else { continue };
            let options = ParseOptions {
                flow_name,
                express: flow.execution_mode == "Express",
            };
            // A stored definition that no longer parses has nothing to check against.
            if let Ok(definition) = parse_definition(&flow.definition, &options) {
                config
                    .check_flow(flow_name, &definition)
                    .map_err(|(path, reason)| error(path, reason))?;
            }
        }
    }
    Ok(())
}

/// Loads the mock file again and, if it is valid, puts it in place.
pub async fn reload(
    registry: &MockRegistry,
    store: &dyn Store,
    accounts: &[String],
) -> Result<(), MockError> {
    let Some(file) = registry.file() else {
        return Ok(());
    };
    let config = MockConfig::load(file)?;
    check_stored_flows(&config, file, store, accounts).await?;
    registry.replace(config);
    Ok(())
}

/// Reloads the mock file on SIGHUP and when it changes, until the task is aborted.
pub fn spawn(
    registry: Arc<MockRegistry>,
    store: Arc<dyn Store>,
    accounts: Vec<String>,
) -> Option<JoinHandle<()>> {
    let file: PathBuf = registry.file()?.to_path_buf();
    let dir = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut watch = match DirectoryWatch::start(&dir) {
        Ok(watch) => Some(watch),
        Err(error) => {
            tracing::warn!(%error, file = %file.display(), "cannot watch the mock file; it is reloaded on SIGHUP only");
            None
        }
    };
    Some(tokio::spawn(async move {
        #[cfg(unix)]
        let mut hangup =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        loop {
            let changed = async {
                match watch.as_mut() {
                    Some(watch) => watch.next().await,
                    None => std::future::pending().await,
                }
            };
            #[cfg(unix)]
            let hung_up = async {
                match hangup.as_mut() {
                    Some(signal) => signal.recv().await,
                    None => std::future::pending().await,
                }
            };
            #[cfg(not(unix))]
            let hung_up = std::future::pending::<Option<()>>();
            let reason = tokio::select! {
                paths = changed => match paths {
                    Some(paths) if paths.iter().any(|path| path.file_name() == file.file_name()) => "the file changed",
                    Some(_) => continue,
                    None => {
                        watch = None;
                        continue;
                    }
                },
                _ = hung_up => "SIGHUP",
            };
            match reload(&registry, store.as_ref(), &accounts).await {
                Ok(()) => tracing::info!(file = %file.display(), reason, "mock file reloaded"),
                Err(error) => tracing::warn!(
                    %error,
                    reason,
                    "mock file not reloaded; the previous mocks stay in use"
                ),
            }
        }
    }))
}
