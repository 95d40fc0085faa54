//! V3 (ACS3-HMAC-SHA256, docs/COMPATIBILITY.md#v3-signatures), signed here with `fnf_server::auth::v3`: accepted
//! requests, the headers that must be present and signed, every failure, and a signature
//! that cannot be reused.

use super::*;

#[tokio::test]
async fn v3_get_and_post_are_accepted() {
    let (server, client) = server_with_flow().await;
    let answer = client
        .v3("GET", "DescribeFlow")
        .query(&[("Name", "my_flow")])
        .with_content_hash()
        .send()
        .await;
    assert_envelope(&answer, &server.endpoint);
    assert_eq!(answer.ok()["Name"], "my_flow");

    // POST with a form body: the body is covered by its hash, not by the canonical query.
    let answer = client
        .v3("POST", "StartExecution")
        .form(&[
            ("FlowName", "my_flow"),
            ("ExecutionName", "v3-run"),
            ("Input", &serde_json::json!({ "msg": AWKWARD }).to_string()),
        ])
        .with_content_hash()
        .send()
        .await;
    assert_envelope(&answer, &server.endpoint);
    assert_eq!(answer.ok()["Name"], "v3-run");

    // Parameters split between query and body; no x-acs-content-sha256 (it is optional).
    let answer = client
        .v3("POST", "StartExecution")
        .query(&[("FlowName", "my_flow")])
        .form(&[("ExecutionName", "v3_split")])
        .send()
        .await;
    assert_eq!(answer.ok()["Name"], "v3_split");

    // The action and version may also be given as parameters; the headers are still
    // required and signed.
    let answer = client
        .v3("GET", "ListFlows")
        .query(&[("Limit", "5"), ("Note", AWKWARD)])
        .with_content_hash()
        .send()
        .await;
    assert_eq!(answer.ok()["Flows"][0]["Name"], "my_flow");
    server.stop().await;
}

#[tokio::test]
async fn v3_missing_headers_are_missing_required_header() {
    let (server, client) = server_with_flow().await;
    // A signed header that is not sent.
    for (signed, missing) in [
        ("content-type;host;", "content-type"),
        ("host;x-acs-extra;", "x-acs-extra"),
    ] {
        let request = client
            .v3("GET", "DescribeFlow")
            .query(&[("Name", "my_flow")])
            .with_content_hash();
        let authorization = request
            .authorization()
            .replace("SignedHeaders=host;", &format!("SignedHeaders={signed}"));
        let answer = request.send_with_authorization(&authorization).await;
        answer.err_msg(
            400,
            "MissingRequiredHeader",
            &format!("The HTTP header '{missing}' must be specified."),
        );
        assert_envelope(&answer, &server.endpoint);
    }

    // Each header every V3 request needs, left out (and out of SignedHeaders).
    for name in [
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-action",
        "x-acs-version",
    ] {
        let mut request = client
            .v3("GET", "DescribeFlow")
            .query(&[("Name", "my_flow")])
            .with_content_hash();
        request.remove_header(name);
        let answer = request.send().await;
        answer.err_msg(
            400,
            "MissingRequiredHeader",
            &format!("The HTTP header '{name}' must be specified."),
        );
        assert_envelope(&answer, &server.endpoint);
    }
    server.stop().await;
}

/// The message of `400 IncompleteSignature` for a header left out of `SignedHeaders`.
fn incomplete(header: &str) -> String {
    format!(
        "The request signature does not conform to Aliyun standards. Header '{header}' must be signed."
    )
}

#[tokio::test]
async fn a_v3_signature_over_host_alone_cannot_be_re_aimed() {
    // The replay this rule stops: a genuine request signed with SignedHeaders=host only,
    // sent again with a fresh nonce and date and x-acs-action changed to DeleteFlow. Its
    // signature holds for what it covers; the rest must not be trusted.
    let (server, client) = server_with_flow().await;
    let mut genuine = client
        .v3("GET", "DescribeFlow")
        .query(&[("Name", "my_flow")]);
    genuine.signed_headers = Some(vec!["host".into()]);
    let authorization = genuine.authorization();
    let answer = genuine.send_with_authorization(&authorization).await;
    answer.err_msg(400, "IncompleteSignature", &incomplete("x-acs-action"));
    assert_envelope(&answer, &server.endpoint);

    let mut replay = genuine.clone();
    replay.set_header("x-acs-action", "DeleteFlow");
    replay.set_header(
        "x-acs-signature-nonce",
        &uuid::Uuid::new_v4().simple().to_string(),
    );
    replay.set_header(
        "x-acs-date",
        &chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    );
    replay
        .send_with_authorization(&authorization)
        .await
        .err_msg(400, "IncompleteSignature", &incomplete("x-acs-action"));
    // The flow survives.
    assert_eq!(
        client
            .get("DescribeFlow", &[("Name", "my_flow")])
            .await
            .ok()["Name"],
        "my_flow"
    );
    server.stop().await;
}

#[tokio::test]
async fn every_v3_header_that_selects_or_guards_the_call_must_be_signed() {
    let (server, client) = server_with_flow().await;
    let post = || {
        client
            .v3("POST", "StartExecution")
            .form(&[("FlowName", "my_flow")])
            .with_content_hash()
    };
    // host, every x-acs-* header sent and content-type, each left out in turn.
    let sent = post();
    let names: Vec<String> = sent
        .headers
        .iter()
        .map(|(name, _)| name.clone())
        .filter(|name| name != "accept")
        .collect();
    assert!(names.len() >= 7, "{names:?}");
    for left_out in &names {
        let mut request = post();
        let mut signed: Vec<String> = names.iter().filter(|n| *n != left_out).cloned().collect();
        signed.sort();
        request.signed_headers = Some(signed);
        let answer = request.send().await;
        answer.err_msg(400, "IncompleteSignature", &incomplete(left_out));
        assert_envelope(&answer, &server.endpoint);
    }
    // An x-acs-* header of the client's own (a security token, a retry count) too.
    let mut request = post();
    request.set_header("x-acs-retry-attempts", "1");
    let mut unsigned = names.clone();
    unsigned.sort();
    request.signed_headers = Some(unsigned);
    request.send().await.err_msg(
        400,
        "IncompleteSignature",
        &incomplete("x-acs-retry-attempts"),
    );
    // Signed, it is fine; so are unsigned headers outside those rules.
    let mut request = post();
    request.set_header("x-acs-retry-attempts", "1");
    request.set_header("user-agent", "anything");
    request.signed_headers = None;
    let mut signed: Vec<String> = request
        .headers
        .iter()
        .map(|(name, _)| name.clone())
        .filter(|name| name != "accept" && name != "user-agent")
        .collect();
    signed.sort();
    request.signed_headers = Some(signed);
    request.send().await.ok();
    // Nothing ran for the refused requests: only the last one started an execution.
    let listed = client
        .get("ListExecutions", &[("FlowName", "my_flow")])
        .await;
    assert_eq!(listed.ok()["Executions"].as_array().unwrap().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn v3_signature_failures() {
    let (server, client) = server_with_flow().await;
    let describe = || {
        client
            .v3("GET", "DescribeFlow")
            .query(&[("Name", "my_flow")])
            .with_content_hash()
    };

    // x-acs-content-sha256 that is not the body's hash.
    let mut request = client
        .v3("POST", "StartExecution")
        .form(&[("FlowName", "my_flow")]);
    request.set_header("x-acs-content-sha256", EMPTY_SHA256);
    let answer = request.send().await;
    answer.err_msg(403, "SignatureNotMatch", SIGNATURE_NOT_MATCH);
    assert_envelope(&answer, &server.endpoint);

    // The body changed after signing (with its declared hash).
    let request = client
        .v3("POST", "StartExecution")
        .form(&[("FlowName", "my_flow")])
        .with_content_hash();
    let authorization = request.authorization();
    let mut changed = request.clone();
    changed.body = b"FlowName=other".to_vec();
    changed
        .send_with_authorization(&authorization)
        .await
        .err_msg(403, "SignatureNotMatch", SIGNATURE_NOT_MATCH);

    // A bad signature: one hex digit changed.
    let request = describe();
    let authorization = request.authorization();
    let last = authorization.chars().last().unwrap();
    let flipped = format!(
        "{}{}",
        &authorization[..authorization.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let answer = request.send_with_authorization(&flipped).await;
    answer.err(403, "SignatureNotMatch");
    assert!(answer.message().starts_with(SIGNATURE_NOT_MATCH));
    assert_envelope(&answer, &server.endpoint);

    // A query parameter changed after signing.
    let request = describe();
    let authorization = request.authorization();
    let mut changed = request.clone();
    changed.query = pairs(&[("Name", "other")]);
    changed
        .send_with_authorization(&authorization)
        .await
        .err(403, "SignatureNotMatch");

    // A signed header changed after signing.
    let request = describe();
    let authorization = request.authorization();
    let mut changed = request.clone();
    changed.set_header("x-acs-action", "DeleteFlow");
    changed
        .send_with_authorization(&authorization)
        .await
        .err(403, "SignatureNotMatch");

    // Wrong secret; V1 key format ("secret&") does not apply to V3.
    let mut request = describe();
    request.secret = "not-the-secret".into();
    request.send().await.err(403, "SignatureNotMatch");
    let mut request = describe();
    request.secret = format!("{ACCESS_KEY_SECRET}&");
    request.send().await.err(403, "SignatureNotMatch");

    // Unknown credential.
    let mut request = describe();
    request.key = "nobody".into();
    request.send().await.err_msg(
        403,
        "InvalidAccessKeyID",
        "The AccessKey ID nobody is invalid.",
    );

    // Malformed Authorization headers.
    let request = describe();
    request
        .send_with_authorization("ACS3-HMAC-SHA256 Credential=test-access-key,SignedHeaders=host")
        .await
        .err_msg(
            400,
            "InvalidArgument",
            "Parameter error: Authorization is malformed: Signature is missing",
        );
    request
        .send_with_authorization(
            "ACS3-HMAC-SM3 Credential=test-access-key,SignedHeaders=host,Signature=00",
        )
        .await
        .err_msg(
            400,
            "InvalidArgument",
            "Parameter error: Authorization algorithm 'ACS3-HMAC-SM3' is not supported; use ACS3-HMAC-SHA256",
        );
    server.stop().await;
}

#[tokio::test]
async fn a_signature_cannot_be_reused_for_another_key_or_request() {
    let (server, client) = server_with_flow().await;
    // The Authorization header of one request, replayed on another with a fresh nonce.
    let first = client
        .v3("GET", "DescribeFlow")
        .query(&[("Name", "my_flow")])
        .with_content_hash();
    let authorization = first.authorization();
    first.send_with_authorization(&authorization).await.ok();
    let second = client
        .v3("GET", "DescribeFlow")
        .query(&[("Name", "my_flow")])
        .with_content_hash();
    second
        .send_with_authorization(&authorization)
        .await
        .err(403, "SignatureNotMatch");
    // And once the same request again: its nonce is spent.
    let answer: Answer = first.send_with_authorization(&authorization).await;
    answer.err_msg(
        400,
        "SignatureNonceUsed",
        "Specified signature nonce was used already.",
    );
    let mut params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |_| {});
    remove_param(&mut params, "Format");
    client
        .send_form("GET", &params, &[])
        .await
        .err(403, "SignatureNotMatch");
    server.stop().await;
}
