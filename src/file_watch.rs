//! Watching a directory for saved files (`notify`), for the files the server reloads while it
//! runs (the mock file, the flows directory).

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// Editors save in several steps (write a temporary file, rename it over the old one): the
/// changes of one save arrive within this pause and are handled together.
const SETTLE: Duration = Duration::from_millis(100);

/// Changes under a directory; dropping it stops the watching.
pub struct DirectoryWatch {
    _watcher: RecommendedWatcher,
    changes: mpsc::UnboundedReceiver<PathBuf>,
}

impl DirectoryWatch {
    /// Watches `dir` (not its subdirectories).
    pub fn start(dir: &Path) -> notify::Result<DirectoryWatch> {
        let (sender, changes) = mpsc::unbounded_channel();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if let Ok(event) = event
                    && !event.kind.is_access()
                {
                    for path in event.paths {
                        let _ = sender.send(path);
                    }
                }
            })?;
        watcher.watch(dir, RecursiveMode::NonRecursive)?;
        Ok(DirectoryWatch {
            _watcher: watcher,
            changes,
        })
    }

    /// The paths changed by the next save (deduplicated); `None` once watching failed.
    pub async fn next(&mut self) -> Option<Vec<PathBuf>> {
        let first = self.changes.recv().await?;
        let mut paths = vec![first];
        tokio::time::sleep(SETTLE).await;
        while let Ok(path) = self.changes.try_recv() {
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        Some(paths)
    }
}
