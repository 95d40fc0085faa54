//! Common parameters, action and version (docs/COMPATIBILITY.md#action-and-version).

use super::*;

#[tokio::test]
async fn missing_common_parameters_are_named() {
    let (server, client) = server_with_flow(Backend::Sqlite).await;
    for name in [
        "AccessKeyId",
        "Signature",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "Timestamp",
    ] {
        let expected = format!("The HTTP query '{name}' must be specified.");
        for empty in [false, true] {
            let mut params = client.common("DescribeFlow");
            params.push(("Name".into(), "my_flow".into()));
            remove_param(&mut params, name);
            if empty {
                params.push((name.into(), String::new()));
            }
            if name != "Signature" {
                client.sign("GET", &mut params);
            }
            let answer = send(&client, "GET", &params).await;
            answer.err_msg(400, "MissingRequiredParams", &expected);
            assert_envelope(&answer, &server.endpoint);
        }
    }
    // Nothing at all: the first missing one is named.
    let answer = client.send_text("GET", None, None).await;
    answer.err_msg(
        400,
        "MissingRequiredParams",
        "The HTTP query 'AccessKeyId' must be specified.",
    );
    assert_envelope(&answer, &server.endpoint);
    let answer = client
        .send_text("POST", None, Some("AccessKeyId=test-access-key"))
        .await;
    answer.err_msg(
        400,
        "MissingRequiredParams",
        "The HTTP query 'Signature' must be specified.",
    );
    // An Authorization header of another scheme is not V3: V1 parameters are required.
    let request = client
        .http
        .get(format!("http://{}/?Action=ListFlows", server.endpoint))
        .header("authorization", "Bearer abc");
    client.raw(request).await.err_msg(
        400,
        "MissingRequiredParams",
        "The HTTP query 'AccessKeyId' must be specified.",
    );
    server.stop().await;
}

#[tokio::test]
async fn action_and_version_rules() {
    let (server, client) = server_with_flow(Backend::Sqlite).await;
    // Missing (absent or empty) action and version, without headers to fall back on.
    for (name, empty) in [
        ("Action", false),
        ("Action", true),
        ("Version", false),
        ("Version", true),
    ] {
        let params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |p| {
            remove_param(p, name);
            if empty {
                set_param(p, name, "");
            }
        });
        let answer = send(&client, "GET", &params).await;
        answer.err_msg(
            400,
            "MissingRequiredParams",
            &format!("The HTTP query '{name}' must be specified."),
        );
        assert_envelope(&answer, &server.endpoint);
    }

    // Unknown and wrongly cased actions.
    for action in [
        "Foo",
        "describeflow",
        "DESCRIBEFLOW",
        "DescribeFlow ",
        "Describe_Flow",
        "中文",
    ] {
        let answer = call(&client, "GET", action, &[("Name", "my_flow")]).await;
        answer.err_msg(
            400,
            "ActionNotSupported",
            &format!("The requested API operation '{action}' is incorrect. Please check."),
        );
    }

    // Other versions.
    for version in ["2020-01-01", "2019-03-15 ", "2019-3-15", "v1"] {
        let params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |p| {
            set_param(p, "Version", version)
        });
        let answer = send(&client, "GET", &params).await;
        answer.err_msg(
            400,
            "APIVersionNotSupported",
            &format!("The requested API version '{version}' is not supported yet. Please check."),
        );
        assert_envelope(&answer, &server.endpoint);
    }

    // V1 signs its parameters, never its headers: Action and Version come from the
    // parameters alone (every SDK sends them there), and x-acs-* headers are not read.
    let with_headers = |params: &[(String, String)], action: &str, version: &str| {
        let url = format!("http://{}/?{}", server.endpoint, encode_form(params));
        client
            .http
            .get(url)
            .header("x-acs-action", action)
            .header("x-acs-version", version)
    };
    for missing in ["Action", "Version"] {
        let params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |p| {
            remove_param(p, missing);
        });
        let request = with_headers(&params, "DescribeFlow", "2019-03-15");
        client.raw(request).await.err_msg(
            400,
            "MissingRequiredParams",
            &format!("The HTTP query '{missing}' must be specified."),
        );
    }
    // The signed parameter decides whatever the headers say.
    let params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |_| {});
    let request = with_headers(&params, "DeleteFlow", "2020-01-01");
    assert_eq!(client.raw(request).await.ok()["Name"], "my_flow");
    client
        .get("DescribeFlow", &[("Name", "my_flow")])
        .await
        .ok();
    // Format is optional, case-insensitive, and the answer is JSON whatever it says.
    for format in ["json", "JSON", "XML"] {
        let params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |p| {
            set_param(p, "Format", format)
        });
        let answer = send(&client, "GET", &params).await;
        assert_envelope(&answer, &server.endpoint);
        answer.ok();
    }
    let params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |p| {
        remove_param(p, "Format")
    });
    send(&client, "GET", &params).await.ok();
    server.stop().await;
}
