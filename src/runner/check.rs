//! Comparing what a case expects with how its execution went: the first difference, said
//! plainly.

use serde_json::Value;

use super::spec::Expect;

/// How an execution ended, as the runner saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Actual {
    pub status: String,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// States entered, in order.
    pub path: Vec<String>,
    /// A call that would have left the process: `(state, what)`.
    pub unmocked_call: Option<(String, String)>,
}

/// The first difference, or `None` when the case passes.
pub fn first_difference(expect: &Expect, actual: &Actual) -> Option<String> {
    if let Some((state, what)) = &actual.unmocked_call {
        return Some(format!("state {state}: {what}"));
    }
    if let Some(path) = &expect.path
        && path != &actual.path
    {
        let at = path
            .iter()
            .zip(&actual.path)
            .position(|(expected, got)| expected != got)
            .unwrap_or(path.len().min(actual.path.len()));
        let after = match at {
            0 => "at the start".to_string(),
            n => format!("after {}", actual.path[n - 1]),
        };
        let show =
            |list: &[String], i: usize| list.get(i).map_or("(the end)".to_string(), Clone::clone);
        return Some(format!(
            "path: the paths diverge {after}: expected {}, got {}\n  expected path: {}\n  actual path:   {}",
            show(path, at),
            show(&actual.path, at),
            path.join(" → "),
            actual.path.join(" → ")
        ));
    }
    if let Some(status) = &expect.status
        && status != &actual.status
    {
        let why = match (&actual.error, &actual.cause) {
            (Some(error), Some(cause)) => format!(" ({error}: {cause})"),
            (Some(error), None) => format!(" ({error})"),
            _ => String::new(),
        };
        return Some(format!(
            "status: expected {status}, got {}{why}",
            actual.status
        ));
    }
    if let Some(error) = &expect.error
        && Some(error) != actual.error.as_ref()
    {
        return Some(format!(
            "error: expected {error}, got {}",
            actual.error.as_deref().unwrap_or("none")
        ));
    }
    let got = actual.output.clone().unwrap_or(Value::Null);
    if let Some(output) = &expect.output
        && output != &got
    {
        return Some(format!("output: expected {output}, got {got}"));
    }
    if let Some(subset) = &expect.output_contains
        && let Some(place) = missing(subset, &got, "$")
    {
        return Some(format!("output: {place}\n  output: {got}"));
    }
    None
}

/// Where `subset` is not contained in `value` (objects by key, anything else by equality).
fn missing(subset: &Value, value: &Value, at: &str) -> Option<String> {
    match (subset, value) {
        (Value::Object(expected), Value::Object(got)) => expected.iter().find_map(|(key, want)| {
            let place = format!("{at}.{key}");
            match got.get(key) {
                None => Some(format!("{place}: expected {want}, missing")),
                Some(have) => missing(want, have, &place),
            }
        }),
        _ if subset == value => None,
        _ => Some(format!("{at}: expected {subset}, got {value}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn actual(path: &[&str]) -> Actual {
        Actual {
            status: "Succeeded".into(),
            output: Some(json!({"a": 1, "b": {"c": 2}})),
            error: None,
            cause: None,
            path: path.iter().map(|s| s.to_string()).collect(),
            unmocked_call: None,
        }
    }

    #[test]
    fn reports_where_paths_diverge() {
        let expect = Expect {
            path: Some(vec!["A".into(), "B".into(), "C".into()]),
            ..Expect::default()
        };
        assert_eq!(first_difference(&expect, &actual(&["A", "B", "C"])), None);
        let diff = first_difference(&expect, &actual(&["A", "X"])).unwrap();
        assert!(
            diff.starts_with("path: the paths diverge after A: expected B, got X"),
            "{diff}"
        );
        let diff = first_difference(&expect, &actual(&["A", "B"])).unwrap();
        assert!(
            diff.contains("after B: expected C, got (the end)"),
            "{diff}"
        );
    }

    #[test]
    fn compares_status_error_and_output() {
        let expect = Expect {
            status: Some("Failed".into()),
            ..Expect::default()
        };
        assert_eq!(
            first_difference(&expect, &actual(&[])).unwrap(),
            "status: expected Failed, got Succeeded"
        );
        let expect = Expect {
            output_contains: Some(json!({"b": {"c": 3}})),
            ..Expect::default()
        };
        assert!(
            first_difference(&expect, &actual(&[]))
                .unwrap()
                .starts_with("output: $.b.c: expected 3, got 2")
        );
        let expect = Expect {
            output_contains: Some(json!({"a": 1})),
            output: Some(json!({"a": 1, "b": {"c": 2}})),
            ..Expect::default()
        };
        assert_eq!(first_difference(&expect, &actual(&[])), None);
    }
}
