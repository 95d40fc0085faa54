//! A property-based run of schemathesis against a live server with the OpenAPI document
//! (`openapi/fnf-2019-03-15.yaml`): no 5xx, and every answer conforms to the document
//! (status code, content type, required headers, body schema).
//!
//! schemathesis is installed from `tests/openapi/requirements.txt` into its own virtualenv,
//! `target/openapi-venv`, the first time (and again when the requirements change); without
//! Python 3, `venv` or PyPI the test fails saying so. The hooks in
//! `tests/openapi/fnf_hooks.py` sign every generated request (V1, HMAC-SHA1, docs/COMPATIBILITY.md#v1-signatures)
//! so the handlers answer rather than the authentication layer, and record each answer;
//! the test then checks that no answer came from a signature failure and that every action
//! was reached.
//!
//! `FNF_SCHEMATHESIS_MAX_EXAMPLES` (default 250) and `FNF_SCHEMATHESIS_SEED` tune the run;
//! `FNF_SCHEMATHESIS_BACKEND=postgres` runs it against a Postgres store instead of SQLite;
//! `FNF_SCHEMATHESIS_CHECKS` replaces the list of checks. (`negative_data_rejection` is not
//! in the default list: a GET parameter the chosen action does not take is ignored whatever
//! its value, and the hook replaces any signing parameter the generator broke.)

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::openapi::{DOCUMENT_PATH, seed_example_resources};
use common::{ACCESS_KEY_ID, ACCESS_KEY_SECRET, Backend, TestServer};
use fnf_server::api::Action;
use serde_json::Value;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");
/// A fixed seed keeps CI runs reproducible; set FNF_SCHEMATHESIS_SEED to explore others.
const DEFAULT_SEED: &str = "20190315";
const DEFAULT_MAX_EXAMPLES: &str = "250";
/// No 5xx, and status, content type, required headers and body as documented.
const DEFAULT_CHECKS: &str = "not_a_server_error,status_code_conformance,\
     content_type_conformance,response_headers_conformance,response_schema_conformance";
/// The whole run is killed after this long.
const RUN_LIMIT: Duration = Duration::from_secs(600);
/// Codes that mean the signing hook, not the handler, was answered.
const AUTH_FAILURES: [&str; 5] = [
    "SignatureNotMatch",
    "InvalidAccessKeyID",
    "RequestTimeTooSkewed",
    "SignatureNonceUsed",
    "AccessDenied",
];

fn venv_dir() -> PathBuf {
    Path::new(MANIFEST_DIR).join("target/openapi-venv")
}

fn requirements() -> PathBuf {
    Path::new(MANIFEST_DIR).join("tests/openapi/requirements.txt")
}

/// Runs a setup command; panics with its output when it fails.
fn run_setup(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}); the schemathesis test needs python3 with the venv module and \
         access to PyPI.\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}

/// The virtualenv with schemathesis, created or refreshed from the pinned requirements.
fn ensure_venv() -> PathBuf {
    let venv = venv_dir();
    let st = venv.join("bin/st");
    let stamp = venv.join(".fnf-requirements");
    let wanted = std::fs::read_to_string(requirements()).expect("tests/openapi/requirements.txt");
    if st.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return st;
    }
    let python = std::env::var("FNF_PYTHON").unwrap_or_else(|_| "python3".into());
    run_setup(
        Command::new(&python)
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
        &format!("creating the virtualenv {} with {python}", venv.display()),
    );
    run_setup(
        Command::new(venv.join("bin/pip"))
            .args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
                "-r",
            ])
            .arg(requirements()),
        "installing tests/openapi/requirements.txt (schemathesis) from PyPI",
    );
    assert!(st.exists(), "{} missing after the install", st.display());
    std::fs::write(&stamp, wanted).expect("writing the requirements stamp");
    st
}

/// The last `limit` bytes of a long text, cut at a character boundary.
fn tail(text: &str, limit: usize) -> &str {
    let mut start = text.len().saturating_sub(limit);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_contract_violation() {
    let st = tokio::task::spawn_blocking(ensure_venv)
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    let backend = match std::env::var("FNF_SCHEMATHESIS_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("FNF_SCHEMATHESIS_BACKEND must be sqlite or postgres, got {other}"),
    };
    let server = TestServer::start(backend).await;
    seed_example_resources(&server.client()).await;

    let work = tempfile::tempdir().expect("a temporary directory");
    let tally_path = work.path().join("tally.jsonl");
    let log_path = work.path().join("schemathesis.log");
    let max_examples = std::env::var("FNF_SCHEMATHESIS_MAX_EXAMPLES")
        .unwrap_or_else(|_| DEFAULT_MAX_EXAMPLES.into());
    let seed = std::env::var("FNF_SCHEMATHESIS_SEED").unwrap_or_else(|_| DEFAULT_SEED.into());
    let checks = std::env::var("FNF_SCHEMATHESIS_CHECKS").unwrap_or_else(|_| DEFAULT_CHECKS.into());
    let log = std::fs::File::create(&log_path).expect("the log file");
    let mut command = tokio::process::Command::new(&st);
    command
        .arg("run")
        .arg(DOCUMENT_PATH)
        .args(["--url", &format!("http://{}/", server.endpoint)])
        .args(["--checks", &checks])
        .args(["--max-examples", &max_examples, "--seed", &seed])
        .args(["--workers", "2", "--request-timeout", "75"])
        .args(["--generation-with-security-parameters", "false"])
        .args(["--generation-database", "none"])
        .args(["--output-truncate", "true", "--no-color"])
        // schemathesis writes reports and caches under its working directory.
        .current_dir(work.path())
        .env("SCHEMATHESIS_HOOKS", "fnf_hooks")
        .env("PYTHONPATH", Path::new(MANIFEST_DIR).join("tests/openapi"))
        .env("FNF_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("FNF_ACCESS_KEY_SECRET", ACCESS_KEY_SECRET)
        .env("FNF_TALLY_PATH", &tally_path)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().expect("the log file"))
        .stderr(log)
        .kill_on_drop(true);
    let mut child = command.spawn().expect("starting schemathesis");
    let status = match tokio::time::timeout(RUN_LIMIT, child.wait()).await {
        Ok(status) => status.expect("waiting for schemathesis"),
        Err(_) => {
            let _ = child.kill().await;
            panic!(
                "schemathesis did not finish within {RUN_LIMIT:?}:\n{}",
                tail(
                    &std::fs::read_to_string(&log_path).unwrap_or_default(),
                    20_000
                )
            );
        }
    };
    server.stop().await;
    let output = std::fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        status.success(),
        "schemathesis found contract violations ({status}; seed {seed}, rerun with \
         FNF_SCHEMATHESIS_SEED to reproduce):\n{}",
        tail(&output, 30_000)
    );

    // The run passed; prove it exercised the handlers rather than the signature check.
    let tally = std::fs::read_to_string(&tally_path).unwrap_or_default();
    let answers: Vec<Value> = tally
        .lines()
        .map(|line| serde_json::from_str(line).expect("a tally line"))
        .collect();
    let mut by_code: BTreeMap<String, usize> = BTreeMap::new();
    let mut reached = BTreeSet::new();
    let mut successes = 0;
    for answer in &answers {
        let code = answer["code"].as_str().unwrap_or_default();
        *by_code
            .entry(format!("{} {code}", answer["status"]))
            .or_default() += 1;
        assert!(
            !AUTH_FAILURES.contains(&code),
            "a signed request was refused by authentication ({code}): the signing hook and \
             the server disagree. Answers: {by_code:?}"
        );
        if answer["status"] == 200 {
            successes += 1;
        }
        reached.insert(answer["action"].as_str().unwrap_or_default().to_string());
    }
    let unreached: Vec<&str> = Action::ALL
        .iter()
        .map(|a| a.name())
        .filter(|name| !reached.contains(*name))
        .collect();
    assert!(
        unreached.is_empty(),
        "no generated request reached {unreached:?}; answers: {by_code:?}"
    );
    assert!(
        successes >= 50,
        "only {successes} of {} answers were successes: {by_code:?}",
        answers.len()
    );
    eprintln!(
        "schemathesis: {} requests, {successes} successes; by status and code: {by_code:?}\n{}",
        answers.len(),
        tail(&output, 2_000)
    );
}
