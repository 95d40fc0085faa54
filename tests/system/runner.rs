//! `fnf-server test`: the worked examples pass; deliberately failing cases are reported with
//! their first difference and a non-zero exit; the JUnit XML reads back with `junitparser`.

use std::path::Path;
use std::process::{Command, Output};

fn run_tests(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fnf-server"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("test")
        .args(args)
        .output()
        .expect("the binary runs")
}

/// `[suite tests, failures, [(case, failure message or "")]]` read by junitparser.
fn read_junit(path: &Path) -> serde_json::Value {
    let python = std::env::var("FNF_SDK_PYTHON").unwrap_or_else(|_| {
        panic!("FNF_SDK_PYTHON is not set: run the tests with ./scripts/test, which installs junitparser")
    });
    let script = r#"
import json, sys
from junitparser import JUnitXml
xml = JUnitXml.fromfile(sys.argv[1])
cases = []
for suite in xml:
    for case in suite:
        cases.append([case.name, case.result[0].message if case.result else ""])
print(json.dumps([xml.tests, xml.failures, cases]))
"#;
    let output = Command::new(python)
        .args(["-c", script])
        .arg(path)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON from the reader")
}

#[test]
fn the_examples_pass() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let output = run_tests(&["examples/tests", "--junit", junit.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert_eq!(
        stdout,
        "ok   examples/tests/greet.yaml › the mappings shape the task's result\n\
         ok   examples/tests/orders.yaml › charges the card and notifies\n\
         ok   examples/tests/orders.yaml › a declined card ends in the catch handler\n\
         3 passed, 0 failed\n"
    );
    let read = read_junit(&junit);
    assert_eq!(
        (&read[0], &read[1]),
        (&serde_json::json!(3), &serde_json::json!(0))
    );
}

#[test]
fn failing_cases_show_their_first_difference() {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml");
    let output = run_tests(&[
        "tests/runner_files/failing.yaml",
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let file = "tests/runner_files/failing.yaml";
    assert_eq!(
        stdout,
        format!(
            "ok   {file} › passes\n\
             FAIL {file} › wrong path\n     \
             path: the paths diverge after ChargeCard: expected WaitForStock, got Declined\n     \
             \x20 expected path: Validate → ChargeCard → WaitForStock → Notify\n     \
             \x20 actual path:   Validate → ChargeCard → Declined\n\
             FAIL {file} › wrong output\n     \
             output: expected {{\"orderId\":3,\"charged\":false}}, got {{\"orderId\":3,\"charged\":true}}\n\
             FAIL {file} › not mocked\n     \
             state ChargeCard: the function 'charge' would be called: the task is not mocked in this test case\n\
             1 passed, 3 failed\n"
        )
    );
    let read = read_junit(&junit);
    assert_eq!(
        read,
        serde_json::json!([
            4,
            3,
            [
                ["passes", ""],
                [
                    "wrong path",
                    "path: the paths diverge after ChargeCard: expected WaitForStock, got Declined"
                ],
                [
                    "wrong output",
                    "output: expected {\"orderId\":3,\"charged\":false}, got {\"orderId\":3,\"charged\":true}"
                ],
                [
                    "not mocked",
                    "state ChargeCard: the function 'charge' would be called: the task is not mocked in this test case"
                ]
            ]
        ])
    );
}

#[test]
fn a_broken_test_file_fails_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.yaml");
    std::fs::write(&file, "flow: missing.yaml\ncases: []\n").unwrap();
    let output = run_tests(&[file.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("FAIL {} › (the file)", file.display())),
        "{stdout}"
    );
    assert!(stdout.contains("flow: cannot read"), "{stdout}");
    assert!(stdout.ends_with("0 passed, 1 failed\n"), "{stdout}");
    let nothing = run_tests(&[]);
    assert_eq!(nothing.status.code(), Some(2));
}
