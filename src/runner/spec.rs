//! Flow test files: the flow (a file or inline), the mocks (a file or inline), the cases.
//!
//! ```yaml
//! flow: ../flows/orders.yaml          # or the definition inline
//! mocks: ../mocks.yaml                # optional
//! cases:
//!   - name: charges the card
//!     testCase: HappyPath             # optional: the mock file's test case
//!     input: {orderId: 7}
//!     timeScale: 0                    # optional, 0 by default
//!     expect:
//!       status: Succeeded
//!       output: {charged: true}       # exact; or outputContains: a subset
//!       path: [Validate, ChargeCard]  # states entered, in order
//!       error: Card.Declined          # for a failed execution
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::testing::MockConfig;

/// A test file, with its flow and mocks loaded.
#[derive(Debug, Clone)]
pub struct TestFile {
    pub path: PathBuf,
    pub flow_name: String,
    pub definition: String,
    pub mocks: MockConfig,
    pub cases: Vec<Case>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    flow: Value,
    #[serde(default)]
    mocks: Option<Value>,
    cases: Vec<Case>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Case {
    pub name: String,
    #[serde(default)]
    pub test_case: Option<String>,
    #[serde(default)]
    pub input: Option<Value>,
    #[serde(default)]
    pub time_scale: Option<f64>,
    pub expect: Expect,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Expect {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub output: Option<Value>,
    #[serde(default)]
    pub output_contains: Option<Value>,
    #[serde(default)]
    pub path: Option<Vec<String>>,
    #[serde(default)]
    pub error: Option<String>,
}

/// Reads a test file; the error says which file and why.
pub fn load(path: &Path) -> Result<TestFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot be read: {e}"))?;
    let raw: RawFile = serde_yaml_ng::from_str(&text).map_err(|e| e.to_string())?;
    let base = path.parent().unwrap_or(Path::new("."));
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("flow")
        .split('.')
        .next()
        .unwrap_or("flow")
        .to_string();
    let (definition, fallback_name) = match &raw.flow {
        Value::String(file) => {
            let file = base.join(file);
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("flow: cannot read {}: {e}", file.display()))?;
            let stem = file
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("flow")
                .to_string();
            (text, stem)
        }
        inline @ Value::Object(_) => (
            serde_yaml_ng::to_string(inline).map_err(|e| format!("flow: {e}"))?,
            stem,
        ),
        other => {
            return Err(format!(
                "flow: must be a file path or a definition, got {other}"
            ));
        }
    };
    let document: Value = serde_yaml_ng::from_str(&definition).map_err(|e| format!("flow: {e}"))?;
    let flow_name = match document.get("Name").and_then(Value::as_str) {
        Some(name) if document.get("Type").and_then(Value::as_str) == Some("StateMachine") => {
            name.to_string()
        }
        _ => fallback_name,
    };
    let mocks = match &raw.mocks {
        None => MockConfig::default(),
        Some(Value::String(file)) => {
            MockConfig::load(&base.join(file)).map_err(|e| format!("mocks: {e}"))?
        }
        Some(inline @ Value::Object(_)) => {
            let text = serde_yaml_ng::to_string(inline).map_err(|e| format!("mocks: {e}"))?;
            MockConfig::parse(&text)
                .map_err(|(place, reason)| format!("mocks: {place}: {reason}"))?
        }
        Some(other) => {
            return Err(format!(
                "mocks: must be a file path or a mapping, got {other}"
            ));
        }
    };
    if raw.cases.is_empty() {
        return Err("cases: at least one case is needed".into());
    }
    for case in &raw.cases {
        if let Some(scale) = case.time_scale
            && crate::engine::clock::TimeScale::new(scale).is_none()
        {
            return Err(format!(
                "case '{}': timeScale must be a number ≥ 0",
                case.name
            ));
        }
    }
    Ok(TestFile {
        path: path.to_path_buf(),
        flow_name,
        definition,
        mocks,
        cases: raw.cases,
    })
}

/// The test files named on the command line: files as given, directories' `*.yaml`,
/// `*.yml` and `*.json` files, sorted.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|p| p.is_file() && crate::flows_dir::is_flow_file(p))
                .collect();
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(format!("{}: no such file or directory", path.display()));
        }
    }
    Ok(files)
}
