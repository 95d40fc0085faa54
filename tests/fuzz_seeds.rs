//! Replays the fuzz seeds (`fuzz/seeds/<target>/`) and the committed crash inputs
//! (`fuzz/regressions/<target>/`) through the fuzz harness entry points, so inputs that
//! once broke the parsers stay fixed without a fuzzer.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use fnf_server::fuzzing;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let seeds = root.join("seeds").join(target);
    let has_seeds = fs::read_dir(&seeds).is_ok_and(|mut entries| entries.next().is_some());
    assert!(
        has_seeds,
        "no seeds in {}: the replay would check nothing (fuzz/build_seeds.py writes them)",
        seeds.display()
    );
    let mut files = Vec::new();
    for dir in ["seeds", "regressions"] {
        // Only the seeds must exist: there are regressions once a fuzzer has found something.
        let Ok(entries) = fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("readable directory").path();
            if path.is_file() {
                let bytes = fs::read(&path).expect("readable input");
                files.push((path, bytes));
            }
        }
    }
    files.sort();
    files
}

/// Runs `f` on every input of `target` as the fuzz target does (non-UTF-8 is skipped) and
/// fails naming every input that panicked.
fn replay<T>(target: &str, f: impl Fn(&str) -> T) -> Vec<(PathBuf, T)> {
    let mut results = Vec::new();
    let mut panicked = Vec::new();
    for (path, bytes) in inputs(target) {
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        match catch_unwind(AssertUnwindSafe(|| f(text))) {
            Ok(result) => results.push((path, result)),
            Err(_) => panicked.push(path),
        }
    }
    assert!(panicked.is_empty(), "panicked on {panicked:#?}");
    results
}

#[test]
fn definition_seeds_do_not_panic_and_the_examples_are_valid() {
    let results = replay("definition", fuzzing::definition);
    let examples: Vec<_> = results
        .iter()
        .filter(|(path, _)| {
            path.parent()
                .is_some_and(|p| p.ends_with("seeds/definition"))
        })
        .filter(|(path, _)| !path.to_string_lossy().ends_with("-fragment.yaml"))
        .collect();
    assert!(examples.len() >= 30, "too few seeds: {}", examples.len());
    for (path, result) in examples {
        if let Err(e) = result {
            panic!(
                "{} is a worked example but was rejected: {e}",
                path.display()
            );
        }
    }
}

#[test]
fn expression_seeds_do_not_panic_and_the_examples_parse() {
    let results = replay("expression", fuzzing::expression);
    let parsed = results.iter().filter(|(_, r)| r.is_ok()).count();
    // Seeds include the signatures of Part IV (`length(x)`), which are not expressions.
    assert!(
        parsed >= 80,
        "only {parsed} of {} seeds parse",
        results.len()
    );
    let path_seed = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .find(|e| e.source() == "$Input.items[0]")
        .expect("the CF examples' paths are seeds");
    assert!(path_seed.is_path());
}
