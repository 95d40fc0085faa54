//! Flows from files (`--flows-dir`): every `*.yaml`, `*.yml` and `*.json` file of a directory
//! is a flow of the default account, created or updated when its content changed (never
//! deleted). The directory is watched while the server runs. A file that does not validate is
//! reported with its path, line and reason, and its flow stays as it was.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use tokio::task::JoinHandle;

use crate::engine::parse::{ParseOptions, parse_new_definition};
use crate::file_watch::DirectoryWatch;
use crate::store::{CreateFlowOutcome, Flow, Store};
use crate::testing::MockRegistry;
use crate::time::now_ms;

/// A flow file read and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowFile {
    pub path: PathBuf,
    /// The state machine's `Name`, else the file's stem.
    pub name: String,
    pub definition: String,
}

/// A file that cannot become a flow: where and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}:{line}: {reason}", path.display())]
pub struct FileError {
    pub path: PathBuf,
    /// 1-based; the line of the place named in the reason when it can be found, else 1.
    pub line: usize,
    pub reason: String,
}

/// What became of a file.
#[derive(Debug, Clone, PartialEq)]
pub enum FileOutcome {
    Created(String),
    Updated(String),
    Unchanged(String),
    Invalid(FileError),
}

/// Whether a path is a flow file by its extension.
pub fn is_flow_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// Reads and validates one file (against the mocks' test cases too).
pub fn read_flow_file(path: &Path, mocks: &MockRegistry) -> Result<FlowFile, FileError> {
    let error = |line: usize, reason: String| FileError {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let text =
        std::fs::read_to_string(path).map_err(|e| error(1, format!("cannot be read: {e}")))?;
    let document: Value = serde_yaml_ng::from_str(&text).map_err(|e| {
        let line = e.location().map_or(1, |location| location.line());
        error(line, e.to_string())
    })?;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let name = match document.get("Name").and_then(Value::as_str) {
        Some(name) if document.get("Type").and_then(Value::as_str) == Some("StateMachine") => name,
        _ => stem,
    }
    .to_string();
    crate::names::check_name(&name).map_err(|reason| error(1, format!("flow name {reason}")))?;
    let options = ParseOptions {
        flow_name: &name,
        express: false,
    };
    // Creating or updating a flow from a file holds it to CreateFlow's rules.
    let definition = parse_new_definition(&text, &options, crate::time::now_ms())
        .map_err(|e| error(line_of(&text, &e.path), e.to_string()))?;
    mocks
        .check_flow(&name, &definition)
        .map_err(|e| error(1, e.to_string()))?;
    Ok(FlowFile {
        path: path.to_path_buf(),
        name,
        definition: text,
    })
}

/// The line of a definition path (`States[1].Next`) in block YAML, found by following its
/// keys and list items down the text; 1 when it cannot be followed.
fn line_of(text: &str, path: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |line: &str| line.len() - line.trim_start().len();
    let (mut at, mut depth) = (0usize, 0usize);
    let segments = path
        .split(['.', '['])
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches(']'));
    for segment in segments {
        let found = if let Ok(index) = segment.parse::<usize>() {
            // The index-th list item below the current line, at one indentation.
            let items: Vec<usize> = (at + 1..lines.len())
                .take_while(|&i| lines[i].trim().is_empty() || indent(lines[i]) >= depth)
                .filter(|&i| lines[i].trim_start().starts_with("- "))
                .collect();
            let item_indent = items.first().map(|&i| indent(lines[i]));
            items
                .into_iter()
                .filter(|&i| Some(indent(lines[i])) == item_indent)
                .nth(index)
                .map(|i| (i, indent(lines[i]) + 2))
        } else {
            let key = format!("{segment}:");
            (at..lines.len())
                .find(|&i| {
                    let trimmed = lines[i].trim_start().trim_start_matches("- ");
                    trimmed.starts_with(&key) && indent(lines[i]) >= depth
                })
                .map(|i| (i, indent(lines[i]) + 1))
        };
        match found {
            Some((line, next_depth)) => (at, depth) = (line, next_depth),
            None => break,
        }
    }
    at + 1
}

/// Creates or updates the flow of every file in `dir`.
pub async fn sync_directory(
    dir: &Path,
    store: &dyn Store,
    account_id: &str,
    mocks: &MockRegistry,
) -> Vec<FileOutcome> {
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.is_file() && is_flow_file(path))
            .collect(),
        Err(error) => {
            tracing::warn!(%error, dir = %dir.display(), "cannot read the flows directory");
            return Vec::new();
        }
    };
    paths.sort();
    let mut outcomes = Vec::with_capacity(paths.len());
    for path in paths {
        let outcome = match read_flow_file(&path, mocks) {
            Ok(file) => match store_flow(&file, store, account_id).await {
                Ok(outcome) => outcome,
                Err(error) => FileOutcome::Invalid(FileError {
                    path: path.clone(),
                    line: 1,
                    reason: format!(
                        "the flow could not be stored: {}",
                        crate::error::error_chain(&error)
                    ),
                }),
            },
            Err(error) => FileOutcome::Invalid(error),
        };
        match &outcome {
            FileOutcome::Created(name) | FileOutcome::Updated(name) => {
                tracing::info!(path = %path.display(), flow = %name, "flow loaded from its file");
            }
            FileOutcome::Unchanged(_) => {}
            FileOutcome::Invalid(error) => {
                tracing::warn!(%error, "flow file does not validate; its flow stays as it was");
            }
        }
        outcomes.push(outcome);
    }
    outcomes
}

async fn store_flow(
    file: &FlowFile,
    store: &dyn Store,
    account_id: &str,
) -> crate::store::StoreResult<FileOutcome> {
    let now = now_ms();
    if let Some(mut flow) = store.get_flow(account_id, &file.name).await? {
        if flow.definition == file.definition {
            return Ok(FileOutcome::Unchanged(file.name.clone()));
        }
        let expected = flow.revision;
        flow.definition = file.definition.clone();
        flow.modified_at = now.max(flow.modified_at + 1);
        flow.revision += 1;
        return Ok(if store.update_flow(&flow, expected).await? {
            FileOutcome::Updated(file.name.clone())
        } else {
            // Changed through the API meanwhile: the next save tries again.
            FileOutcome::Unchanged(file.name.clone())
        });
    }
    // CreateFlow's defaults: no description, type FDL, Standard executions.
    let flow = Flow {
        id: uuid::Uuid::new_v4().to_string(),
        account_id: account_id.to_string(),
        name: file.name.clone(),
        description: String::new(),
        definition: file.definition.clone(),
        flow_type: "FDL".into(),
        role_arn: None,
        execution_mode: "Standard".into(),
        external_storage_location: None,
        resource_group_id: None,
        environment: None,
        created_at: now,
        modified_at: now,
        revision: 1,
    };
    // The operator's own flows: the API's per-account limit does not apply to them.
    Ok(match store.create_flow(&flow, i64::MAX).await? {
        CreateFlowOutcome::Created => FileOutcome::Created(file.name.clone()),
        CreateFlowOutcome::AlreadyExists => FileOutcome::Unchanged(file.name.clone()),
        CreateFlowOutcome::LimitReached => {
            return Err(crate::store::StoreError::internal(
                "the account has the most flows it may have",
            ));
        }
    })
}

/// Syncs the directory again whenever one of its flow files is saved, and calls
/// `flow_changed` with the name of each flow it created or updated.
pub fn spawn_watch(
    dir: PathBuf,
    store: Arc<dyn Store>,
    account_id: String,
    mocks: Arc<MockRegistry>,
    flow_changed: impl Fn(&str) + Send + 'static,
) -> Option<JoinHandle<()>> {
    let mut watch = match DirectoryWatch::start(&dir) {
        Ok(watch) => watch,
        Err(error) => {
            tracing::warn!(%error, dir = %dir.display(), "cannot watch the flows directory");
            return None;
        }
    };
    Some(tokio::spawn(async move {
        while let Some(paths) = watch.next().await {
            if paths.iter().any(|path| is_flow_file(path)) {
                for outcome in sync_directory(&dir, store.as_ref(), &account_id, &mocks).await {
                    if let FileOutcome::Created(name) | FileOutcome::Updated(name) = outcome {
                        flow_changed(&name);
                    }
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_state_machine_or_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mocks = MockRegistry::empty();
        let sm = dir.path().join("file-stem.yaml");
        std::fs::write(
            &sm,
            "Type: StateMachine\nName: orders\nSpecVersion: v1\nStartAt: P\nStates:\n  - Type: Pass\n    Name: P\n    End: true\n",
        )
        .unwrap();
        assert_eq!(read_flow_file(&sm, &mocks).unwrap().name, "orders");
        let fdl = dir.path().join("billing.json");
        std::fs::write(
            &fdl,
            r#"{"version": "v1", "type": "flow", "steps": [{"type": "pass", "name": "p"}]}"#,
        )
        .unwrap();
        assert_eq!(read_flow_file(&fdl, &mocks).unwrap().name, "billing");
    }

    #[test]
    fn errors_name_the_path_the_line_and_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let mocks = MockRegistry::empty();
        let path = dir.path().join("broken.yaml");
        std::fs::write(
            &path,
            "Type: StateMachine\nName: broken\nSpecVersion: v1\nStartAt: A\nStates:\n  - Type: Pass\n    Name: A\n    Next: B\n  - Type: Pass\n    Name: B\n    Next: Nowhere\n",
        )
        .unwrap();
        let error = read_flow_file(&path, &mocks).unwrap_err();
        assert_eq!(error.line, 11, "{error}");
        assert!(
            error
                .to_string()
                .starts_with(&format!("{}:11: States[1].Next", path.display())),
            "{error}"
        );
        std::fs::write(&path, "Type: StateMachine\nStates: [\n  - a\n b: c\n").unwrap();
        let error = read_flow_file(&path, &mocks).unwrap_err();
        assert!(error.line > 1, "{error}");
    }

    #[test]
    fn lines_follow_keys_and_items() {
        let text = "a: 1\nStates:\n  - Name: x\n    Next: y\n  - Name: y\n    Branches:\n      - StartAt: q\n";
        assert_eq!(line_of(text, "States[1].Branches[0].StartAt"), 7);
        assert_eq!(line_of(text, "States[0].Next"), 4);
        assert_eq!(line_of(text, ""), 1);
        assert_eq!(line_of(text, "Missing.Key"), 1);
    }
}
