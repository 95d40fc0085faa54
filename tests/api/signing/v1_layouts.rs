//! V1 requests laid out by hand like each SDK, with fresh timestamps and nonces.

use super::*;

/// The common parameters of a V1 request (docs/COMPATIBILITY.md#parameters) as the test client sends them.
const COMMON_PARAMS: [&str; 9] = [
    "Action",
    "Version",
    "AccessKeyId",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
    "Format",
    "Signature",
];

#[tokio::test]
async fn get_with_everything_in_the_query_like_the_new_python_sdk() {
    let (server, client) = server_with_flow().await;
    // New Python SDK: `json` in lower case, `+` for spaces in the query. An unknown
    // parameter is ignored but still signed.
    let params = client.signed(
        "GET",
        "DescribeFlow",
        &[("Name", "my_flow"), ("Note", AWKWARD)],
        |p| set_param(p, "Format", "json"),
    );
    let query = encode_form_plus(&params);
    assert!(query.contains("Note=h%C3%A9llo+w%C3%B6rld+%2A+~+%2F%2B+%26+%3D+%25"));
    let request = client
        .http
        .get(format!("http://{}/?{query}", server.endpoint))
        .header("x-acs-action", "DescribeFlow")
        .header("x-acs-version", "2019-03-15");
    let answer = client.raw(request).await;
    assert_envelope(&answer, &server.endpoint);
    assert_eq!(answer.ok()["Name"], "my_flow");

    // The same with `%20` for spaces (old Python and Node write the query that way).
    let params = client.signed(
        "GET",
        "DescribeFlow",
        &[("Name", "my_flow"), ("Note", AWKWARD)],
        |_| {},
    );
    let answer = client
        .send_text("GET", Some(&encode_form(&params)), None)
        .await;
    assert_eq!(answer.ok()["Name"], "my_flow");
    server.stop().await;
}

#[tokio::test]
async fn post_with_common_params_in_the_query_like_the_old_python_sdk() {
    let (server, client) = server_with_flow().await;
    let input = serde_json::json!({ "msg": AWKWARD }).to_string();
    let mut query = client.common("StartExecution");
    set_param(&mut query, "RegionId", "cn-hangzhou");
    set_param(&mut query, "SignatureType", "");
    let body = pairs(&[
        ("FlowName", "my_flow"),
        ("ExecutionName", "run-1_a"),
        ("Input", &input),
    ]);
    let all: Vec<_> = query.iter().chain(&body).cloned().collect();
    query.push((
        "Signature".into(),
        v1_signature(ACCESS_KEY_SECRET, "POST", &all),
    ));
    let body_text = encode_form_plus(&body);
    assert!(body_text.contains('+') && body_text.contains("%2B"));
    let answer = client
        .send_text("POST", Some(&encode_form(&query)), Some(&body_text))
        .await;
    assert_envelope(&answer, &server.endpoint);
    let started = answer.ok();
    assert_eq!(started["Name"], "run-1_a");
    assert_eq!(started["Input"], input.as_str());
    server.stop().await;
}

#[tokio::test]
async fn an_empty_parameter_takes_part_in_the_signature() {
    let (server, client) = server_with_flow().await;
    // Signed without `SignatureType`, sent with `SignatureType=`.
    let mut params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |_| {});
    params.push(("SignatureType".into(), String::new()));
    let answer = client.send_form("GET", &params, &[]).await;
    answer.err(403, "SignatureNotMatch");
    assert_envelope(&answer, &server.endpoint);
    // Signed with it, sent with it.
    let params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |p| {
        set_param(p, "SignatureType", "")
    });
    client.send_form("GET", &params, &[]).await.ok();
    server.stop().await;
}

#[tokio::test]
async fn a_parameter_verifies_wherever_it_is_sent() {
    let (server, client) = server_with_flow().await;
    // Which parameters travel in the query; the rest go in the form body.
    type Layout = fn(&str) -> bool;
    let layouts: [(&str, Layout); 6] = [
        ("everything in the query, no body", |_| true),
        ("everything in the body", |_| false),
        ("common in the query, action in the body", |name| {
            COMMON_PARAMS.contains(&name)
        }),
        ("action in the query, common in the body", |name| {
            !COMMON_PARAMS.contains(&name)
        }),
        ("only FlowName in the query", |name| name == "FlowName"),
        ("only Signature in the body", |name| name != "Signature"),
    ];
    for (index, (layout, in_query)) in layouts.into_iter().enumerate() {
        let execution = format!("moved-{index}");
        let params = client.signed(
            "POST",
            "StartExecution",
            &[
                ("FlowName", "my_flow"),
                ("ExecutionName", &execution),
                ("Input", r#"{"a": "b c"}"#),
            ],
            |_| {},
        );
        let (query, body): (Vec<_>, Vec<_>) =
            params.into_iter().partition(|(name, _)| in_query(name));
        let query_text = (!query.is_empty()).then(|| encode_form(&query));
        let body_text = (!body.is_empty()).then(|| encode_form_plus(&body));
        let answer = client
            .send_text("POST", query_text.as_deref(), body_text.as_deref())
            .await;
        assert_eq!(answer.status, 200, "{layout}: {}", answer.body);
        assert_eq!(answer.ok()["Name"], execution.as_str(), "{layout}");
    }
    server.stop().await;
}

#[tokio::test]
async fn body_wins_over_query_in_the_signature() {
    let (server, client) = server_with_flow().await;
    // Signed with the body's value: accepted, and the body's value is used.
    let params = client.signed(
        "POST",
        "StartExecution",
        &[("FlowName", "my_flow"), ("ExecutionName", "from_body")],
        |_| {},
    );
    let mut query: Vec<_> = params
        .iter()
        .filter(|(k, _)| k != "ExecutionName")
        .cloned()
        .collect();
    query.push(("ExecutionName".into(), "from_query".into()));
    let body = pairs(&[("ExecutionName", "from_body")]);
    let answer = client.send_form("POST", &query, &body).await;
    assert_eq!(answer.ok()["Name"], "from_body");

    // Signed with the query's value: the server signs the body's value and refuses.
    let params = client.signed(
        "POST",
        "StartExecution",
        &[("FlowName", "my_flow"), ("ExecutionName", "from_query")],
        |_| {},
    );
    let answer = client.send_form("POST", &params, &body).await;
    answer.err(403, "SignatureNotMatch");
    let (_, server_sts) = answer.message().split_once(':').unwrap();
    assert!(
        server_sts.contains("ExecutionName%3Dfrom_body"),
        "{server_sts}"
    );
    assert!(!server_sts.contains("from_query"), "{server_sts}");
    // Nothing was started under either name.
    client
        .get(
            "DescribeExecution",
            &[("FlowName", "my_flow"), ("ExecutionName", "from_query")],
        )
        .await
        .err(404, "ExecutionNotExists");
    server.stop().await;
}

#[tokio::test]
async fn node_style_post_with_everything_in_the_body_and_no_query() {
    let server = TestServer::start(Backend::Sqlite).await;
    let client = server.client();
    let definition = "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: first step\n";
    let params = client.signed(
        "POST",
        "CreateFlow",
        &[
            ("Name", "node_flow"),
            ("Definition", definition),
            ("Description", "made by pop-core: 100% ~ * /"),
            ("Type", "FDL"),
        ],
        |_| {},
    );
    // `POST /` exactly, with `%20` everywhere.
    let answer = client
        .send_text("POST", None, Some(&encode_form(&params)))
        .await;
    assert_envelope(&answer, &server.endpoint);
    let flow = answer.ok();
    assert_eq!(flow["Definition"], definition);
    assert_eq!(flow["Description"], "made by pop-core: 100% ~ * /");

    // Node sends DeleteFlow as GET with everything in the query.
    let params = client.signed("GET", "DeleteFlow", &[("Name", "node_flow")], |_| {});
    client
        .send_text("GET", Some(&encode_form(&params)), None)
        .await
        .ok();
    server.stop().await;
}
