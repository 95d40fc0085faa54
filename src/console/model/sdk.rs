//! The SDK call a page's action corresponds to, for users to copy into their code.

use serde_json::Value;

/// Python (`alibabacloud-fnf20190315`) StartExecution with this flow, name and input.
pub fn start_execution_python(flow: &str, execution: &str, input: &str) -> String {
    format!(
        "client.start_execution(models.StartExecutionRequest(\n    flow_name={},\n    execution_name={},\n    input={},\n))",
        python_string(flow),
        python_string(execution),
        python_string(input),
    )
}

/// Python DescribeExecution of this execution.
pub fn describe_execution_python(flow: &str, execution: &str) -> String {
    format!(
        "client.describe_execution(models.DescribeExecutionRequest(\n    flow_name={},\n    execution_name={},\n))",
        python_string(flow),
        python_string(execution),
    )
}

/// A Python string literal (JSON string syntax is valid Python).
fn python_string(text: &str) -> String {
    Value::from(text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_it_embeds() {
        let call = start_execution_python("f", "e\"1", r#"{"a": 1}"#);
        assert!(call.contains(r#"execution_name="e\"1""#), "{call}");
        assert!(call.contains(r#"input="{\"a\": 1}""#), "{call}");
        assert!(describe_execution_python("f", "e").contains("DescribeExecutionRequest"));
    }
}
