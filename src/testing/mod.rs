//! Testing flows without their integrations: mocked task answers chosen per execution by a
//! test case (`FlowName=<flow>#<TestCase>`), and the mock file they come from.

pub mod mocks;
pub mod registry;
pub mod watch;

pub use mocks::{MockAnswer, MockConfig, MockError, MockedResponse, TestCase};
pub use registry::MockRegistry;

/// Splits `orders#HappyPath` into the flow name and the test case (`None` without `#`).
pub fn split_test_case(flow_name: &str) -> (&str, Option<&str>) {
    match flow_name.split_once('#') {
        Some((flow, case)) => (flow, Some(case)),
        None => (flow_name, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_first_hash() {
        assert_eq!(split_test_case("orders"), ("orders", None));
        assert_eq!(
            split_test_case("orders#HappyPath"),
            ("orders", Some("HappyPath"))
        );
        assert_eq!(split_test_case("orders#"), ("orders", Some("")));
    }
}
