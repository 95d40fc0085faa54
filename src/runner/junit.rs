//! JUnit XML for CI systems (`--junit FILE`): one test suite per test file.

use std::path::Path;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::CaseResult;

pub fn write(path: &Path, results: &[CaseResult]) -> std::io::Result<()> {
    let mut report = Report::new("fnf-server test");
    let mut suites: Vec<TestSuite> = Vec::new();
    for result in results {
        let suite_name = result.file.display().to_string();
        if suites
            .last()
            .is_none_or(|suite| suite.name.as_str() != suite_name)
        {
            suites.push(TestSuite::new(suite_name));
        }
        let status = match &result.failure {
            None => TestCaseStatus::success(),
            Some(failure) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(failure.lines().next().unwrap_or_default());
                status.set_description(failure.clone());
                status
            }
        };
        let mut case = TestCase::new(result.name.clone(), status);
        case.set_time(result.duration);
        if let Some(suite) = suites.last_mut() {
            suite.add_test_case(case);
        }
    }
    report.add_test_suites(suites);
    let xml = report
        .to_string()
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    std::fs::write(path, xml)
}
