//! Typed parameters of the served actions (docs/COMPATIBILITY.md#parameters, docs/COMPATIBILITY.md#pagination, docs/COMPATIBILITY.md#resources).

use super::*;

/// One typed parameter set to a value its action refuses with `InvalidArgument`.
struct Case<'a> {
    action: &'a str,
    base: &'a [(&'a str, &'a str)],
    name: &'a str,
    value: String,
    message: String,
    /// The message need only start with `message` (it quotes a parser's error).
    prefix: bool,
}

fn case<'a>(
    action: &'a str,
    base: &'a [(&'a str, &'a str)],
    name: &'a str,
    value: &str,
    message: String,
) -> Case<'a> {
    Case {
        action,
        base,
        name,
        value: value.to_string(),
        message,
        prefix: false,
    }
}

fn exact(name: &str, reason: &str) -> String {
    format!("Parameter error: {name} {reason}")
}

fn integer(name: &str, min: i64, max: i64, got: &str) -> String {
    exact(
        name,
        &format!("must be an integer between {min} and {max}, got {got}"),
    )
}

/// A server with `my_flow` and its execution `e1` started.
async fn server_with_execution() -> (TestServer, Client) {
    let (server, client) = server_with_flow(Backend::Sqlite).await;
    client.start("my_flow", "e1", "{}").await;
    (server, client)
}

/// Sends every case and checks it is refused with its message, in the envelope.
async fn assert_refused(server: &TestServer, client: &Client, cases: Vec<Case<'_>>) {
    for case in cases {
        let method = if case.action.starts_with("Describe")
            || case.action.starts_with("List")
            || case.action.starts_with("Get")
        {
            "GET"
        } else {
            "POST"
        };
        let params = client.signed(method, case.action, case.base, |p| {
            set_param(p, case.name, &case.value)
        });
        let answer = send(client, method, &params).await;
        let what = format!("{} {}={:.40}", case.action, case.name, case.value);
        assert_eq!(
            (answer.status, answer.code()),
            (400, "InvalidArgument"),
            "{what}: {}",
            answer.body
        );
        if case.prefix {
            assert!(
                answer.message().starts_with(&case.message),
                "{what}: {}",
                answer.message()
            );
        } else {
            assert_eq!(answer.message(), case.message, "{what}");
        }
        assert_envelope(&answer, &server.endpoint);
    }
}

#[tokio::test]
async fn limits_and_wait_times_must_be_bounded_integers() {
    let (server, client) = server_with_execution().await;
    let flow = [("FlowName", "my_flow")];
    let execution = [("FlowName", "my_flow"), ("ExecutionName", "e1")];
    let no_params: &[(&str, &str)] = &[];
    let long_number = "9".repeat(30);
    // Limit of every paginated action, WaitTimeSeconds.
    let cases = vec![
        case(
            "ListFlows",
            no_params,
            "Limit",
            "abc",
            integer("Limit", 1, 999, "'abc'"),
        ),
        case(
            "ListFlows",
            no_params,
            "Limit",
            "0",
            integer("Limit", 1, 999, "0"),
        ),
        case(
            "ListFlows",
            no_params,
            "Limit",
            "1000",
            integer("Limit", 1, 999, "1000"),
        ),
        case(
            "ListFlows",
            no_params,
            "Limit",
            "-1",
            integer("Limit", 1, 999, "-1"),
        ),
        case(
            "ListFlows",
            no_params,
            "Limit",
            "1.5",
            integer("Limit", 1, 999, "'1.5'"),
        ),
        case(
            "ListFlows",
            no_params,
            "Limit",
            "1e2",
            integer("Limit", 1, 999, "'1e2'"),
        ),
        case(
            "ListFlows",
            no_params,
            "Limit",
            " 5",
            integer("Limit", 1, 999, "' 5'"),
        ),
        case(
            "ListFlows",
            no_params,
            "Limit",
            "0x10",
            integer("Limit", 1, 999, "'0x10'"),
        ),
        case(
            "ListFlows",
            no_params,
            "Limit",
            &long_number,
            integer("Limit", 1, 999, &format!("'{long_number}'")),
        ),
        case(
            "ListExecutions",
            &flow,
            "Limit",
            "101",
            integer("Limit", 1, 100, "101"),
        ),
        case(
            "ListExecutions",
            &flow,
            "Limit",
            "ten",
            integer("Limit", 1, 100, "'ten'"),
        ),
        case(
            "GetExecutionHistory",
            &execution,
            "Limit",
            "1000",
            integer("Limit", 1, 999, "1000"),
        ),
        case(
            "GetExecutionHistory",
            &execution,
            "Limit",
            "x",
            integer("Limit", 1, 999, "'x'"),
        ),
        case(
            "DescribeExecution",
            &execution,
            "WaitTimeSeconds",
            "61",
            integer("WaitTimeSeconds", 0, 60, "61"),
        ),
        case(
            "DescribeExecution",
            &execution,
            "WaitTimeSeconds",
            "-1",
            integer("WaitTimeSeconds", 0, 60, "-1"),
        ),
        case(
            "DescribeExecution",
            &execution,
            "WaitTimeSeconds",
            "1.5",
            integer("WaitTimeSeconds", 0, 60, "'1.5'"),
        ),
        case(
            "DescribeExecution",
            &execution,
            "WaitTimeSeconds",
            "soon",
            integer("WaitTimeSeconds", 0, 60, "'soon'"),
        ),
    ];
    assert_refused(&server, &client, cases).await;
    server.stop().await;
}

#[tokio::test]
async fn booleans_must_be_true_or_false() {
    let (server, client) = server_with_execution().await;
    let flow = [("FlowName", "my_flow")];
    // Booleans.
    let cases = vec![
        case(
            "ListExecutions",
            &flow,
            "MetadataOnly",
            "yes",
            exact("MetadataOnly", "must be true or false, got 'yes'"),
        ),
        case(
            "ListExecutions",
            &flow,
            "MetadataOnly",
            "1",
            exact("MetadataOnly", "must be true or false, got '1'"),
        ),
        case(
            "ListExecutions",
            &flow,
            "MetadataOnly",
            "0",
            exact("MetadataOnly", "must be true or false, got '0'"),
        ),
        case(
            "ListExecutions",
            &flow,
            "MetadataOnly",
            "true ",
            exact("MetadataOnly", "must be true or false, got 'true '"),
        ),
    ];
    assert_refused(&server, &client, cases).await;
    server.stop().await;
}

#[tokio::test]
async fn times_and_statuses_are_validated() {
    let (server, client) = server_with_execution().await;
    let flow = [("FlowName", "my_flow")];
    // Times and statuses.
    let cases = vec![
        case(
            "ListExecutions",
            &flow,
            "StartedTimeBegin",
            "yesterday",
            exact(
                "StartedTimeBegin",
                "must be an RFC 3339 time such as 2024-05-01T12:00:00Z, got 'yesterday'",
            ),
        ),
        case(
            "ListExecutions",
            &flow,
            "StartedTimeBegin",
            "1714564800",
            exact(
                "StartedTimeBegin",
                "must be an RFC 3339 time such as 2024-05-01T12:00:00Z, got '1714564800'",
            ),
        ),
        case(
            "ListExecutions",
            &flow,
            "StartedTimeEnd",
            "2024-13-01T00:00:00Z",
            exact(
                "StartedTimeEnd",
                "must be an RFC 3339 time such as 2024-05-01T12:00:00Z, got '2024-13-01T00:00:00Z'",
            ),
        ),
        case(
            "ListExecutions",
            &flow,
            "Status",
            "Done",
            exact(
                "Status",
                "must be one of Starting, Running, Stopped, Succeeded, Failed, TimedOut, got 'Done'",
            ),
        ),
    ];
    assert_refused(&server, &client, cases).await;
    server.stop().await;
}

#[tokio::test]
async fn flow_attributes_are_validated() {
    let (server, client) = server_with_execution().await;
    // Flow attributes.
    let cases = vec![
        case(
            "CreateFlow",
            &[("Name", "f2"), ("Definition", FLOW), ("Type", "FDL")],
            "Type",
            "JSON",
            exact("Type", "must be FDL or DEFAULT, got 'JSON'"),
        ),
        case(
            "CreateFlow",
            &[("Name", "f2"), ("Definition", FLOW), ("Type", "FDL")],
            "ExecutionMode",
            "Fast",
            exact("ExecutionMode", "must be Standard or Express, got 'Fast'"),
        ),
        case(
            "CreateFlow",
            &[("Name", "f2"), ("Definition", FLOW), ("Type", "FDL")],
            "Name",
            "1bad",
            exact("Name", "'1bad' must match ^[A-Za-z_][A-Za-z0-9_-]{0,127}$"),
        ),
        case(
            "CreateFlow",
            &[("Name", "f2"), ("Definition", FLOW), ("Type", "FDL")],
            "Environment",
            "[]",
            exact("Environment", "must be a JSON object"),
        ),
        case(
            "CreateFlow",
            &[("Name", "f2"), ("Definition", FLOW), ("Type", "FDL")],
            "Environment",
            r#"{"Variables":{}}"#,
            exact("Environment", "Variables must be an array"),
        ),
        case(
            "CreateFlow",
            &[("Name", "f2"), ("Definition", FLOW), ("Type", "FDL")],
            "Environment",
            r#"{"Variables":[{"Name":1}]}"#,
            exact("Environment", "Variables[0].Name must be a string"),
        ),
        case(
            "CreateFlow",
            &[("Name", "f2"), ("Definition", FLOW), ("Type", "FDL")],
            "Environment",
            r#"{"Variables":[{"Value":"v"}]}"#,
            exact("Environment", "Variables[0].Name is required"),
        ),
        case(
            "CreateFlow",
            &[("Name", "f2"), ("Definition", FLOW), ("Type", "FDL")],
            "Environment",
            r#"{"Variables":[{"Name":"K"},{"Name":"K"}]}"#,
            exact("Environment", "Variables[1].Name 'K' is used twice"),
        ),
        case(
            "UpdateFlow",
            &[("Name", "my_flow")],
            "Environment",
            "[1]",
            exact("Environment", "must be a JSON object"),
        ),
        case(
            "UpdateFlow",
            &[("Name", "my_flow")],
            "Type",
            "fdl",
            exact("Type", "must be FDL or DEFAULT, got 'fdl'"),
        ),
    ];
    assert_refused(&server, &client, cases).await;
    server.stop().await;
}

#[tokio::test]
async fn execution_parameters_are_validated() {
    let (server, client) = server_with_execution().await;
    let flow = [("FlowName", "my_flow")];
    let execution = [("FlowName", "my_flow"), ("ExecutionName", "e1")];
    // Execution parameters.
    let cases = vec![
        case(
            "StartExecution",
            &flow,
            "Input",
            "[1]",
            exact("Input", "must be a JSON object"),
        ),
        case(
            "StartExecution",
            &flow,
            "Input",
            "\"text\"",
            exact("Input", "must be a JSON object"),
        ),
        case(
            "StartExecution",
            &flow,
            "ExecutionName",
            "bad name",
            exact(
                "ExecutionName",
                "'bad name' must match ^[A-Za-z_][A-Za-z0-9_-]{0,127}$",
            ),
        ),
        case(
            "StopExecution",
            &execution,
            "Error",
            &"e".repeat(129),
            exact(
                "Error",
                "must be between 1 and 128 characters long, got 129",
            ),
        ),
        case(
            "StopExecution",
            &execution,
            "Cause",
            &"c".repeat(4097),
            exact(
                "Cause",
                "must be between 1 and 4096 characters long, got 4097",
            ),
        ),
        case(
            "StopExecution",
            &execution,
            "Error",
            "",
            exact("Error", "must be between 1 and 128 characters long, got 0"),
        ),
        case(
            "ReportTaskFailed",
            &[("TaskToken", "t")],
            "Error",
            &"e".repeat(129),
            exact(
                "Error",
                "must be between 1 and 128 characters long, got 129",
            ),
        ),
        case(
            "DescribeExecution",
            &[("FlowName", "my_flow")],
            "ExecutionName",
            &"e".repeat(257),
            exact("ExecutionName", "must be between 1 and 256 characters long"),
        ),
    ];
    assert_refused(&server, &client, cases).await;
    server.stop().await;
}

#[tokio::test]
async fn parser_errors_are_quoted_after_the_reason() {
    let (server, client) = server_with_execution().await;
    let flow = [("FlowName", "my_flow")];
    let mut cases = Vec::new();
    for (action, base, name, value, reason) in [
        (
            "CreateFlow",
            &[("Name", "f2"), ("Definition", FLOW), ("Type", "FDL")][..],
            "Environment",
            "not json",
            "must be a JSON object: ",
        ),
        (
            "UpdateFlow",
            &[("Name", "my_flow")][..],
            "Environment",
            "{",
            "must be a JSON object: ",
        ),
        (
            "StartExecution",
            &flow[..],
            "Input",
            "{'a': 1}",
            "must be a JSON object: ",
        ),
        (
            "ReportTaskSucceeded",
            &[("TaskToken", "t")][..],
            "Output",
            "not json",
            "must be JSON text: ",
        ),
    ] {
        cases.push(Case {
            action,
            base,
            name,
            value: value.to_string(),
            message: exact(name, reason),
            prefix: true,
        });
    }
    assert_refused(&server, &client, cases).await;
    server.stop().await;
}

#[tokio::test]
async fn inputs_over_32_kib_are_too_large() {
    let (server, client) = server_with_execution().await;
    let big_input = format!(r#"{{"a":"{}"}}"#, "x".repeat(32 * 1024));
    call(
        &client,
        "POST",
        "StartExecution",
        &[("FlowName", "my_flow"), ("Input", &big_input)],
    )
    .await
    .err_msg(
        400,
        "EntityTooLarge",
        "The payload size exceeds maximum allowed size (32768 bytes).",
    );
    server.stop().await;
}

#[tokio::test]
async fn empty_values_count_as_absent_for_optional_typed_parameters() {
    let (server, client) = server_with_execution().await;
    for (action, params) in [
        ("ListFlows", vec![("Limit", "")]),
        (
            "ListExecutions",
            vec![
                ("FlowName", "my_flow"),
                ("Limit", ""),
                ("MetadataOnly", ""),
                ("Status", ""),
                ("StartedTimeBegin", ""),
            ],
        ),
        (
            "DescribeExecution",
            vec![
                ("FlowName", "my_flow"),
                ("ExecutionName", "e1"),
                ("WaitTimeSeconds", ""),
            ],
        ),
    ] {
        call(&client, "GET", action, &params).await.ok();
    }
    server.stop().await;
}

#[tokio::test]
async fn the_bounds_themselves_are_accepted() {
    let (server, client) = server_with_execution().await;
    for (action, params) in [
        ("ListFlows", vec![("Limit", "1")]),
        ("ListFlows", vec![("Limit", "999")]),
        (
            "ListExecutions",
            vec![("FlowName", "my_flow"), ("Limit", "100")],
        ),
        (
            "GetExecutionHistory",
            vec![
                ("FlowName", "my_flow"),
                ("ExecutionName", "e1"),
                ("Limit", "999"),
            ],
        ),
        (
            "DescribeExecution",
            vec![
                ("FlowName", "my_flow"),
                ("ExecutionName", "e1"),
                ("WaitTimeSeconds", "0"),
            ],
        ),
        (
            "ListExecutions",
            vec![
                ("FlowName", "my_flow"),
                ("Status", "Succeeded"),
                ("StartedTimeBegin", "2024-05-01T12:00:00Z"),
                ("StartedTimeEnd", "2999-01-01T00:00:00.000+00:00"),
            ],
        ),
    ] {
        call(&client, "GET", action, &params).await.ok();
    }
    server.stop().await;
}

#[tokio::test]
async fn booleans_in_every_spelling_the_sdks_send() {
    let (server, client) = server_with_flow(Backend::Sqlite).await;
    client.start("my_flow", "e1", r#"{"a":1}"#).await;
    for (value, metadata_only) in [
        ("True", true),
        ("False", false),
        ("true", true),
        ("false", false),
        ("TRUE", true),
        ("fAlSe", false),
    ] {
        let answer = call(
            &client,
            "GET",
            "ListExecutions",
            &[("FlowName", "my_flow"), ("MetadataOnly", value)],
        )
        .await;
        let executions = answer.ok()["Executions"].as_array().unwrap().clone();
        assert_eq!(executions.len(), 1);
        let item = &executions[0];
        for field in ["FlowDefinition", "Input", "Output"] {
            assert_eq!(
                item.get(field).is_none(),
                metadata_only,
                "MetadataOnly={value}: {item}"
            );
        }
        assert_eq!(item["Name"], "e1");
    }
    server.stop().await;
}

#[tokio::test]
async fn environment_arrives_as_a_json_string_and_leaves_as_an_object() {
    let server = TestServer::start(Backend::Sqlite).await;
    let client = server.client();
    let environment = r#"{"Variables":[{"Description":"d","Name":"K","Value":"V"}]}"#;
    let flow = client
        .create_flow_with("env_flow", FLOW, &[("Environment", environment)])
        .await;
    assert_eq!(
        flow["Environment"],
        serde_json::json!({"Variables":[{"Name":"K","Value":"V","Description":"d"}]})
    );
    server.stop().await;
}
