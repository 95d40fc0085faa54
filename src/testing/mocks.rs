//! The mock file: test cases per flow, each naming the mocked response of some task states,
//! and the responses themselves, per attempt. The format is the one of AWS Step Functions
//! Local's mock configuration (with `Flows` for its `StateMachines`, which is accepted too):
//!
//! ```yaml
//! Flows:
//!   orders:
//!     TestCases:
//!       HappyPath: {ChargeCard: ChargeOk}
//! MockedResponses:
//!   ChargeOk:
//!     "0": {Return: {charged: true}}
//!     "1-2": {Throw: {Error: FC.Busy, Cause: busy}}
//! ```
//!
//! Attempt keys count every attempt of the state in the execution from 0 (retries, loops and
//! Map iterations alike, as Step Functions Local counts them); they must cover 0, 1, 2, …
//! without gaps or overlaps, and attempts past the last key get the last entry.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::engine::ir::{FlowDefinition, Scope, StateKind};

pub use crate::engine::mocks::MockAnswer;
use crate::engine::mocks::Mocks;

/// The answers of one mocked response, by attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct MockedResponse {
    /// `(first attempt, last attempt, answer)`, contiguous from attempt 0.
    entries: Vec<(u32, u32, MockAnswer)>,
}

impl MockedResponse {
    /// The answer of attempt `attempt` (0-based); past the last key, the last entry.
    pub fn answer(&self, attempt: u32) -> &MockAnswer {
        let (_, _, last) = self.entries.last().expect("a response has an entry");
        self.entries
            .iter()
            .find(|(first, end, _)| (*first..=*end).contains(&attempt))
            .map_or(last, |(_, _, answer)| answer)
    }
}

/// A test case of a flow: the mocked response of each listed state.
#[derive(Debug, Clone, PartialEq)]
pub struct TestCase {
    pub flow: String,
    pub name: String,
    states: BTreeMap<String, Arc<MockedResponse>>,
}

impl TestCase {
    /// The mocked response of a state, `None` when the state runs for real.
    pub fn response(&self, state_name: &str) -> Option<&MockedResponse> {
        self.states.get(state_name).map(|response| &**response)
    }

    pub fn state_names(&self) -> impl Iterator<Item = &str> {
        self.states.keys().map(String::as_str)
    }
}

impl Mocks for TestCase {
    fn test_case(&self) -> &str {
        &self.name
    }

    fn answer(&self, state_name: &str, attempt: u32) -> Option<MockAnswer> {
        self.response(state_name)
            .map(|response| response.answer(attempt).clone())
    }
}

/// A loaded mock file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MockConfig {
    /// Flow name → test case name → test case.
    flows: BTreeMap<String, BTreeMap<String, Arc<TestCase>>>,
}

/// A mock file that cannot be used: the file, the place in it, and why.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {}{reason}", file.display(), if path.is_empty() { String::new() } else { format!("{path}: ") })]
pub struct MockError {
    pub file: PathBuf,
    /// Where in the document (`MockedResponses.Sent."0-1"`); empty for the document itself.
    pub path: String,
    pub reason: String,
}

impl MockConfig {
    /// Reads and validates a mock file (YAML or JSON).
    pub fn load(file: &Path) -> Result<MockConfig, MockError> {
        let text = std::fs::read_to_string(file).map_err(|error| MockError {
            file: file.to_path_buf(),
            path: String::new(),
            reason: format!("cannot be read: {error}"),
        })?;
        MockConfig::parse(&text).map_err(|(path, reason)| MockError {
            file: file.to_path_buf(),
            path,
            reason,
        })
    }

    /// Parses mock file text; errors are `(path in the document, reason)`.
    pub fn parse(text: &str) -> Result<MockConfig, (String, String)> {
        let document: Value =
            serde_yaml_ng::from_str(text).map_err(|error| (String::new(), error.to_string()))?;
        let root = object(&document, "")?;
        let empty = Map::new();
        let mut flows_key = None;
        let mut responses = &empty;
        for (key, value) in root {
            match key.as_str() {
                "Flows" | "StateMachines" => {
                    if let Some(first) = flows_key.replace(key.as_str()) {
                        return Err((
                            key.clone(),
                            format!("is given besides {first}; use one of them"),
                        ));
                    }
                }
                "MockedResponses" => responses = object(value, key)?,
                _ => {
                    return Err((
                        key.clone(),
                        "unknown key (expected Flows and MockedResponses)".into(),
                    ));
                }
            }
        }
        let mut parsed_responses = BTreeMap::new();
        for (name, response) in responses {
            let path = format!("MockedResponses.{}", quoted(name));
            parsed_responses.insert(name.as_str(), Arc::new(parse_response(response, &path)?));
        }
        let mut flows = BTreeMap::new();
        let flows_key = flows_key.unwrap_or("Flows");
        let declared = match root.get(flows_key) {
            Some(value) => object(value, flows_key)?,
            None => &empty,
        };
        for (flow, body) in declared {
            let flow_path = format!("{flows_key}.{}", quoted(flow));
            crate::names::check_name(flow).map_err(|reason| (flow_path.clone(), reason))?;
            let body = object(body, &flow_path)?;
            let mut cases = BTreeMap::new();
            for (key, value) in body {
                if key != "TestCases" {
                    return Err((
                        format!("{flow_path}.{}", quoted(key)),
                        "unknown key (expected TestCases)".into(),
                    ));
                }
                let cases_path = format!("{flow_path}.TestCases");
                for (case, states) in object(value, &cases_path)? {
                    let case_path = format!("{cases_path}.{}", quoted(case));
                    if case.is_empty() || case.contains('#') {
                        return Err((
                            case_path,
                            "a test case name must be non-empty and without '#'".into(),
                        ));
                    }
                    let mut mocked = BTreeMap::new();
                    for (state, response) in object(states, &case_path)? {
                        let state_path = format!("{case_path}.{}", quoted(state));
                        let Value::String(response) = response else {
                            return Err((
                                state_path,
                                format!("must name a mocked response, got {response}"),
                            ));
                        };
                        let found = parsed_responses.get(response.as_str()).ok_or_else(|| {
                            (
                                state_path,
                                format!(
                                    "unknown mocked response '{response}' (not in MockedResponses)"
                                ),
                            )
                        })?;
                        mocked.insert(state.clone(), found.clone());
                    }
                    cases.insert(
                        case.clone(),
                        Arc::new(TestCase {
                            flow: flow.clone(),
                            name: case.clone(),
                            states: mocked,
                        }),
                    );
                }
            }
            flows.insert(flow.clone(), cases);
        }
        Ok(MockConfig { flows })
    }

    pub fn test_case(&self, flow: &str, case: &str) -> Option<Arc<TestCase>> {
        self.flows.get(flow)?.get(case).cloned()
    }

    /// The flows the file has test cases for.
    pub fn flow_names(&self) -> impl Iterator<Item = &str> {
        self.flows.keys().map(String::as_str)
    }

    /// Checks that every state the test cases of `flow` mock is a Task state of its
    /// definition; errors are `(path in the document, reason)`.
    pub fn check_flow(
        &self,
        flow: &str,
        definition: &FlowDefinition,
    ) -> Result<(), (String, String)> {
        let Some(cases) = self.flows.get(flow) else {
            return Ok(());
        };
        let mut kinds = BTreeMap::new();
        collect_states(&definition.root, &mut kinds);
        for case in cases.values() {
            for state in case.state_names() {
                let path = format!(
                    "Flows.{}.TestCases.{}.{}",
                    quoted(flow),
                    quoted(&case.name),
                    quoted(state)
                );
                match kinds.get(state) {
                    None => {
                        return Err((path, format!("the flow '{flow}' has no state '{state}'")));
                    }
                    Some(false) => {
                        return Err((
                            path,
                            format!(
                                "'{state}' of flow '{flow}' is not a Task: only tasks can be mocked"
                            ),
                        ));
                    }
                    Some(true) => {}
                }
            }
        }
        Ok(())
    }
}

/// Every state name under a scope, and whether it is a Task.
fn collect_states(scope: &Scope, kinds: &mut BTreeMap<String, bool>) {
    for state in &scope.states {
        let is_task = matches!(state.kind, StateKind::Task(_));
        *kinds.entry(state.name.clone()).or_default() |= is_task;
        match &state.kind {
            StateKind::Parallel(spec) => spec
                .branches
                .iter()
                .for_each(|branch| collect_states(branch, kinds)),
            StateKind::Map(spec) => collect_states(&spec.processor, kinds),
            StateKind::Choice(spec) => spec
                .options
                .iter()
                .map(|option| &option.target)
                .chain(&spec.default)
                .filter_map(|target| target.steps.as_ref())
                .for_each(|steps| collect_states(steps, kinds)),
            _ => {}
        }
    }
}

fn parse_response(value: &Value, path: &str) -> Result<MockedResponse, (String, String)> {
    let mut entries = Vec::new();
    for (key, answer) in object(value, path)? {
        let entry_path = format!("{path}.{}", quoted(key));
        let range = parse_range(key).ok_or_else(|| {
            (
                entry_path.clone(),
                "an attempt key must be a number (\"0\") or a range (\"1-3\")".to_string(),
            )
        })?;
        entries.push((
            range.0,
            range.1,
            parse_answer(answer, &entry_path)?,
            key.clone(),
        ));
    }
    if entries.is_empty() {
        return Err((
            path.to_string(),
            "needs at least one attempt key (\"0\")".into(),
        ));
    }
    entries.sort_by_key(|(first, ..)| *first);
    let mut expected = 0u32;
    for (first, last, _, key) in &entries {
        if *first < expected {
            return Err((
                format!("{path}.{}", quoted(key)),
                format!("overlaps the attempts before it (attempt {first} is already covered)"),
            ));
        }
        if *first > expected {
            return Err((
                format!("{path}.{}", quoted(key)),
                format!(
                    "leaves a gap: attempt {expected} is not covered (keys must cover 0, 1, 2, … in order)"
                ),
            ));
        }
        expected = last.saturating_add(1);
    }
    Ok(MockedResponse {
        entries: entries
            .into_iter()
            .map(|(first, last, answer, _)| (first, last, answer))
            .collect(),
    })
}

/// `"3"` or `"1-2"` (first ≤ last).
fn parse_range(key: &str) -> Option<(u32, u32)> {
    let number = |text: &str| {
        let text = text.trim();
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse::<u32>().ok())
            .flatten()
    };
    match key.split_once('-') {
        None => number(key).map(|n| (n, n)),
        Some((first, last)) => {
            let (first, last) = (number(first)?, number(last)?);
            (first <= last).then_some((first, last))
        }
    }
}

fn parse_answer(value: &Value, path: &str) -> Result<MockAnswer, (String, String)> {
    let answer = object(value, path)?;
    let mut keys = answer.keys();
    let (Some(key), None) = (keys.next(), keys.next()) else {
        return Err((
            path.to_string(),
            "must have exactly one of Return and Throw".into(),
        ));
    };
    let inner_path = format!("{path}.{key}");
    match key.as_str() {
        "Return" => Ok(MockAnswer::Return(answer[key].clone())),
        "Throw" => {
            let throw = object(&answer[key], &inner_path)?;
            if let Some(unknown) = throw.keys().find(|k| *k != "Error" && *k != "Cause") {
                return Err((
                    format!("{inner_path}.{unknown}"),
                    "unknown key (expected Error and Cause)".into(),
                ));
            }
            let text = |name: &str, required: bool| match throw.get(name) {
                Some(Value::String(text)) if !(required && text.is_empty()) => Ok(text.clone()),
                None if !required => Ok(String::new()),
                Some(other) => Err((
                    format!("{inner_path}.{name}"),
                    format!("must be a non-empty string, got {other}"),
                )),
                None => Err((format!("{inner_path}.{name}"), "is required".to_string())),
            };
            Ok(MockAnswer::Throw {
                error: text("Error", true)?,
                cause: text("Cause", false)?,
            })
        }
        _ => Err((inner_path, "unknown key (expected Return or Throw)".into())),
    }
}

fn object<'v>(value: &'v Value, path: &str) -> Result<&'v Map<String, Value>, (String, String)> {
    value.as_object().ok_or_else(|| {
        let shown = match value {
            Value::Null => "nothing".to_string(),
            other => other.to_string(),
        };
        (path.to_string(), format!("must be a mapping, got {shown}"))
    })
}

/// A key as it appears in a path: quoted when it has characters a path uses.
fn quoted(key: &str) -> String {
    if key.is_empty()
        || key.contains(['.', '"', ' ', '-'])
        || key.starts_with(|c: char| c.is_ascii_digit())
    {
        format!("\"{key}\"")
    } else {
        key.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::parse::{ParseOptions, parse_definition};

    const EXAMPLE: &str = r#"
Flows:
  orders:
    TestCases:
      HappyPath:
        ChargeCard: ChargeOk
      CardDeclined:
        ChargeCard: DeclinedAfterRetries
MockedResponses:
  ChargeOk:
    "0": {Return: {charged: true, id: "c-1"}}
  DeclinedAfterRetries:
    "0-1": {Throw: {Error: FC.ResourceThrottled, Cause: busy}}
    "2":   {Throw: {Error: Card.Declined, Cause: insufficient funds}}
"#;

    fn error_of(text: &str) -> (String, String) {
        MockConfig::parse(text).expect_err("a broken mock file")
    }

    #[test]
    fn answers_by_attempt_and_reuses_the_last_entry() {
        let config = MockConfig::parse(EXAMPLE).unwrap();
        let declined = config.test_case("orders", "CardDeclined").unwrap();
        let response = declined.response("ChargeCard").unwrap();
        let throttled = MockAnswer::Throw {
            error: "FC.ResourceThrottled".into(),
            cause: "busy".into(),
        };
        let declined_answer = MockAnswer::Throw {
            error: "Card.Declined".into(),
            cause: "insufficient funds".into(),
        };
        assert_eq!(response.answer(0), &throttled);
        assert_eq!(response.answer(1), &throttled);
        assert_eq!(response.answer(2), &declined_answer);
        assert_eq!(response.answer(9), &declined_answer);
        assert!(declined.response("Notify").is_none());
        assert!(config.test_case("orders", "Nope").is_none());
        assert!(config.test_case("other", "HappyPath").is_none());
    }

    #[test]
    fn the_aws_key_and_json_are_accepted() {
        let json = r#"{"StateMachines": {"f": {"TestCases": {"T": {"S": "R"}}}},
                       "MockedResponses": {"R": {"0": {"Return": 1}}}}"#;
        let config = MockConfig::parse(json).unwrap();
        let case = config.test_case("f", "T").unwrap();
        assert_eq!(
            case.response("S").unwrap().answer(0),
            &MockAnswer::Return(1.into())
        );
    }

    #[test]
    fn broken_files_name_the_place_and_the_reason() {
        let cases = [
            (
                "Flows: {f: {TestCases: {T: {S: Missing}}}}\nMockedResponses: {}",
                "Flows.f.TestCases.T.S",
                "unknown mocked response 'Missing' (not in MockedResponses)",
            ),
            (
                "MockedResponses: {R: {\"0-1\": {Return: 1}, \"1\": {Return: 2}}}",
                "MockedResponses.R.\"1\"",
                "overlaps the attempts before it (attempt 1 is already covered)",
            ),
            (
                "MockedResponses: {R: {\"0\": {Return: 1}, \"2\": {Return: 2}}}",
                "MockedResponses.R.\"2\"",
                "leaves a gap: attempt 1 is not covered (keys must cover 0, 1, 2, … in order)",
            ),
            (
                "MockedResponses: {R: {\"1\": {Return: 1}}}",
                "MockedResponses.R.\"1\"",
                "leaves a gap: attempt 0 is not covered (keys must cover 0, 1, 2, … in order)",
            ),
            (
                "MockedResponses: {R: {\"2-1\": {Return: 1}}}",
                "MockedResponses.R.\"2-1\"",
                "an attempt key must be a number (\"0\") or a range (\"1-3\")",
            ),
            (
                "MockedResponses: {R: {\"0\": {Return: 1, Throw: {Error: E}}}}",
                "MockedResponses.R.\"0\"",
                "must have exactly one of Return and Throw",
            ),
            (
                "MockedResponses: {R: {\"0\": {Throw: {Cause: c}}}}",
                "MockedResponses.R.\"0\".Throw.Error",
                "is required",
            ),
            (
                "MockedResponse: {}",
                "MockedResponse",
                "unknown key (expected Flows and MockedResponses)",
            ),
            (
                "MockedResponses: {R: {}}",
                "MockedResponses.R",
                "needs at least one attempt key (\"0\")",
            ),
        ];
        for (text, path, reason) in cases {
            assert_eq!(
                error_of(text),
                (path.to_string(), reason.to_string()),
                "{text}"
            );
        }
        let (path, reason) = error_of("Flows: [\n  - a\n b");
        assert_eq!(path, "");
        assert!(reason.contains("line"), "{reason}");
    }

    #[test]
    fn the_file_is_named_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mocks.yaml");
        std::fs::write(&file, "MockedResponses: {R: {\"1\": {Return: 1}}}").unwrap();
        let error = MockConfig::load(&file).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{}: MockedResponses.R.\"1\": leaves a gap: attempt 0 is not covered (keys must cover 0, 1, 2, … in order)",
                file.display()
            )
        );
    }

    #[test]
    fn test_cases_are_checked_against_the_flow() {
        let config = MockConfig::parse(EXAMPLE).unwrap();
        let definition = |kind: &str, name: &str| {
            let text = format!(
                "Type: StateMachine\nName: orders\nSpecVersion: v1\nStartAt: {name}\nStates:\n  - Type: {kind}\n    Name: {name}\n{}    End: true\n",
                if kind == "Task" {
                    "    Action: ECS:RunInstances\n"
                } else {
                    ""
                }
            );
            let options = ParseOptions {
                flow_name: "orders",
                express: false,
            };
            parse_definition(&text, &options).unwrap()
        };
        assert_eq!(
            config.check_flow("orders", &definition("Task", "ChargeCard")),
            Ok(())
        );
        assert_eq!(
            config
                .check_flow("orders", &definition("Pass", "ChargeCard"))
                .unwrap_err()
                .1,
            "'ChargeCard' of flow 'orders' is not a Task: only tasks can be mocked"
        );
        let other = definition("Pass", "Other");
        assert_eq!(
            config.check_flow("orders", &other).unwrap_err(),
            (
                "Flows.orders.TestCases.CardDeclined.ChargeCard".to_string(),
                "the flow 'orders' has no state 'ChargeCard'".to_string()
            )
        );
        assert_eq!(config.check_flow("unrelated", &other), Ok(()));
    }
}
