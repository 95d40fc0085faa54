//! Parameter parsing (docs/COMPATIBILITY.md#parameters).

use super::*;

#[tokio::test]
async fn malformed_encodings_are_invalid_argument() {
    let server = TestServer::start(Backend::Sqlite).await;
    let client = server.client();
    let not_form_encoded = "is not form-encoded: '%' must be followed by two hex digits";
    let not_utf8 = "is not valid UTF-8 after form decoding";
    let cases = [
        (
            "Input=%zz",
            format!("Parameter error: Input {not_form_encoded}"),
        ),
        (
            "Input=abc%",
            format!("Parameter error: Input {not_form_encoded}"),
        ),
        (
            "FlowName=%4",
            format!("Parameter error: FlowName {not_form_encoded}"),
        ),
        (
            "%zz=1",
            format!("Parameter error: a parameter name {not_form_encoded}"),
        ),
        (
            "Flow%=1",
            format!("Parameter error: a parameter name {not_form_encoded}"),
        ),
        (
            "FlowName=%FF%FE",
            format!("Parameter error: FlowName {not_utf8}"),
        ),
        // An overlong encoding of '/', a lone surrogate, a truncated sequence.
        ("Input=%C0%AF", format!("Parameter error: Input {not_utf8}")),
        (
            "Input=%ED%A0%80",
            format!("Parameter error: Input {not_utf8}"),
        ),
        ("Input=%E4%B8", format!("Parameter error: Input {not_utf8}")),
        (
            "%FF=1",
            format!("Parameter error: a parameter name {not_utf8}"),
        ),
        (
            "a%C3=1",
            format!("Parameter error: a parameter name {not_utf8}"),
        ),
    ];
    for (raw, message) in &cases {
        // In the query and in the body, next to a validly signed request.
        let params = client.signed("POST", "ListFlows", &[], |_| {});
        let signed = encode_form(&params);
        for answer in [
            client
                .send_text("POST", Some(&format!("{signed}&{raw}")), None)
                .await,
            client.send_text("POST", Some(&signed), Some(raw)).await,
        ] {
            answer.err_msg(400, "InvalidArgument", message);
            assert_envelope(&answer, &server.endpoint);
        }
    }
    // Raw (unescaped) bytes that are not UTF-8, in the body.
    for (raw, message) in [
        (
            &b"FlowName=\xff\xfe"[..],
            "Parameter error: FlowName is not valid UTF-8 after form decoding",
        ),
        (
            &b"\xc3=1"[..],
            "Parameter error: a parameter name is not valid UTF-8 after form decoding",
        ),
    ] {
        let request = client
            .http
            .post(format!("http://{}/", server.endpoint))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(raw.to_vec());
        client
            .raw(request)
            .await
            .err_msg(400, "InvalidArgument", message);
    }
    // Raw bytes that are not UTF-8 in the request target are not HTTP: the HTTP layer
    // refuses the request line before the gateway sees it, in the envelope all the same.
    let mut bytes = b"GET /?FlowName=\xffx HTTP/1.1\r\n".to_vec();
    bytes.extend_from_slice(
        format!("Host: {}\r\nConnection: close\r\n\r\n", server.endpoint).as_bytes(),
    );
    let answer = raw_http(&server.endpoint, &bytes).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["Code"], "InvalidArgument");
    server.stop().await;
}

#[tokio::test]
async fn an_over_long_query_gets_a_json_error() {
    let server = TestServer::start(Backend::Sqlite).await;
    let client = server.client();
    // A signed GET whose query (an execution-name prefix) is longer than the HTTP layer's
    // URI limit; the SDKs put GET parameters in the query.
    let prefix = "p".repeat(70_000);
    let params = client.signed(
        "GET",
        "ListExecutions",
        &[("FlowName", "f"), ("ExecutionNamePrefix", &prefix)],
        |_| {},
    );
    let request = format!(
        "GET /?{} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        encode_form(&params),
        server.endpoint
    );
    let answer = raw_http(&server.endpoint, request.as_bytes()).await;
    assert_eq!(answer.status, 400);
    let body = answer.json();
    assert_eq!(body["Code"], "EntityTooLarge", "{body}");
    assert_eq!(
        answer.header("x-acs-request-id"),
        body["RequestId"].as_str(),
        "{body}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_same_parameter_twice_in_one_source_is_invalid_argument() {
    let (server, client) = server_with_flow(Backend::Sqlite).await;
    let params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |_| {});
    let signed = encode_form(&params);
    for (query, body, name) in [
        (format!("{signed}&Name=my_flow"), None, "Name"),
        (signed.clone(), Some("Limit=1&Limit=2"), "Limit"),
        (signed.clone(), Some("Limit=1&Limit=1"), "Limit"),
        // Spelled differently, the same once decoded.
        (format!("{signed}&N%61me=my_flow"), None, "Name"),
        (signed.clone(), Some("a+b=1&a%20b=2"), "a b"),
        (signed.clone(), Some("Pad=&Pad"), "Pad"),
    ] {
        let answer = client.send_text("POST", Some(&query), body).await;
        answer.err_msg(
            400,
            "InvalidArgument",
            &format!("Parameter error: {name} must not be given more than once"),
        );
        assert_envelope(&answer, &server.endpoint);
    }
    server.stop().await;
}

#[tokio::test]
async fn huge_values_get_short_errors() {
    let (server, client) = server_with_flow(Backend::Sqlite).await;
    let huge = "A".repeat(200_000);
    // Each parameter of the request in turn replaced by a huge value.
    let cases: [(&str, u16, &str); 10] = [
        ("AccessKeyId", 403, "InvalidAccessKeyID"),
        ("Action", 400, "ActionNotSupported"),
        ("Version", 400, "APIVersionNotSupported"),
        ("SignatureMethod", 400, "InvalidArgument"),
        ("Timestamp", 400, "InvalidArgument"),
        ("Signature", 403, "SignatureNotMatch"),
        ("Name", 400, "InvalidArgument"),
        ("Limit", 400, "InvalidArgument"),
        ("FlowName", 400, "InvalidArgument"),
        ("Input", 400, "EntityTooLarge"),
    ];
    for (name, status, code) in cases {
        let (action, base): (&str, &[(&str, &str)]) = match name {
            "Name" => ("DescribeFlow", &[("Name", "my_flow")]),
            "Limit" => ("ListFlows", &[]),
            _ => ("StartExecution", &[("FlowName", "my_flow")]),
        };
        let mut params = client.signed("POST", action, base, |p| {
            if name != "Signature" {
                set_param(p, name, &huge)
            }
        });
        if name == "Signature" {
            set_param(&mut params, "Signature", &huge);
        }
        let answer = client.send_form("POST", &[], &params).await;
        answer.err(status, code);
        assert_envelope(&answer, &server.endpoint);
        assert!(
            answer.message().len() < 1000,
            "{name}: a {}-byte message",
            answer.message().len()
        );
    }
    // Quoted values are cut to 64 characters.
    let cut = format!("{}…", &huge[..64]);
    call(&client, "POST", &huge, &[]).await.err_msg(
        400,
        "ActionNotSupported",
        &format!("The requested API operation '{cut}' is incorrect. Please check."),
    );
    let params = client.signed("POST", "ListFlows", &[], |p| set_param(p, "Version", &huge));
    send(&client, "POST", &params).await.err_msg(
        400,
        "APIVersionNotSupported",
        &format!("The requested API version '{cut}' is not supported yet. Please check."),
    );
    let stranger = server.client_with_key(&huge, "x");
    stranger.call("ListFlows", &[]).await.err_msg(
        403,
        "InvalidAccessKeyID",
        &format!("The AccessKey ID {cut} is invalid."),
    );
    // A huge unknown parameter is signed and ignored.
    let params = client.signed(
        "POST",
        "DescribeFlow",
        &[("Name", "my_flow"), ("Extra", &huge)],
        |_| {},
    );
    client.send_form("POST", &[], &params).await.ok();
    server.stop().await;
}
