//! The response envelope and request ids (docs/COMPATIBILITY.md#parameters).

use super::*;

fn is_generated_request_id(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok_and(|uuid| uuid.get_version_num() == 4)
        && id.len() == 36
        && id == id.to_uppercase()
}

#[tokio::test]
async fn every_answer_has_the_envelope() {
    let (server, client) = server_with_flow(Backend::Sqlite).await;
    let mut answers: Vec<Answer> = vec![
        call(&client, "GET", "DescribeFlow", &[("Name", "my_flow")]).await,
        call(&client, "GET", "ListFlows", &[]).await,
        call(&client, "POST", "DescribeRegions", &[]).await,
        call(&client, "GET", "DescribeFlow", &[("Name", "nope")]).await,
        call(
            &client,
            "POST",
            "CreateFlow",
            &[("Name", "my_flow"), ("Definition", FLOW), ("Type", "FDL")],
        )
        .await,
        call(&client, "GET", "Nope", &[]).await,
        call(&client, "GET", "ListFlows", &[("Limit", "0")]).await,
        client.send_text("GET", None, None).await,
        client.send_text("PUT", None, None).await,
        client
            .raw(client.http.get(format!("http://{}/x", server.endpoint)))
            .await,
        client
            .raw(
                client
                    .http
                    .post(format!("http://{}/", server.endpoint))
                    .header("content-type", "application/json")
                    .body("{}"),
            )
            .await,
        server
            .client_with_key("nobody", "x")
            .get("ListFlows", &[])
            .await,
        server
            .client_with_key(ACCESS_KEY_ID, "x")
            .get("ListFlows", &[])
            .await,
    ];
    answers.push(client.v3("GET", "ListFlows").send().await);
    let mut seen = std::collections::HashSet::new();
    for answer in &answers {
        assert_envelope(answer, &server.endpoint);
        let id = answer.body["RequestId"].as_str().unwrap();
        assert!(is_generated_request_id(id), "{id}");
        assert!(seen.insert(id.to_string()), "request id {id} repeated");
    }
    let (successes, errors): (Vec<_>, Vec<_>) = answers.iter().partition(|a| a.status == 200);
    assert_eq!((successes.len(), errors.len()), (4, 10));
    for error in errors {
        assert_eq!(error.body["Recommend"], "");
    }

    // HostId is the Host the client used, whatever it is.
    for host in [
        "fnf.example.test:8080",
        "cn-hangzhou.fnf.aliyuncs.com",
        "[::1]:1",
    ] {
        let request = client
            .http
            .get(format!("http://{}/?Action=Nope", server.endpoint))
            .header("host", host);
        let answer = client.raw(request).await;
        assert_envelope(&answer, host);
    }
    // DescribeRegions reports the Host as the endpoint.
    let params = client.signed("POST", "DescribeRegions", &[], |_| {});
    let request = client
        .http
        .post(format!("http://{}/", server.endpoint))
        .header("host", "fnf.example.test:8080")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode_form(&params));
    let answer = client.raw(request).await;
    assert_eq!(
        answer.ok()["Regions"]["Region"][0]["RegionEndpoint"],
        "fnf.example.test:8080"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_request_id_parameter_is_echoed() {
    let (server, client) = server_with_flow(Backend::Sqlite).await;
    for (action, params) in [
        ("DescribeFlow", vec![("Name", "my_flow")]),
        ("DescribeFlow", vec![("Name", "nope")]),
        ("ListFlows", vec![("Limit", "0")]),
    ] {
        let mut params = params.clone();
        params.push(("RequestId", "my-correlation-id-1"));
        let answer = call(&client, "GET", action, &params).await;
        assert_eq!(
            answer.body["RequestId"], "my-correlation-id-1",
            "{}",
            answer.body
        );
        assert_eq!(
            answer.header("x-acs-request-id"),
            Some("my-correlation-id-1")
        );
    }
    // Also on answers that fail authentication, and in the body of a POST.
    let wrong = server.client_with_key(ACCESS_KEY_ID, "wrong");
    let answer = wrong
        .call(
            "DescribeFlow",
            &[("Name", "my_flow"), ("RequestId", "ABC-123")],
        )
        .await;
    answer.err(403, "SignatureNotMatch");
    assert_eq!(answer.body["RequestId"], "ABC-123");
    assert_envelope(&answer, &server.endpoint);
    // An empty RequestId is no RequestId.
    let answer = call(&client, "GET", "ListFlows", &[("RequestId", "")]).await;
    assert!(is_generated_request_id(
        answer.body["RequestId"].as_str().unwrap()
    ));
    server.stop().await;
}

#[tokio::test]
async fn request_ids_that_cannot_travel_as_a_header_are_replaced() {
    let (server, client) = server_with_flow(Backend::Sqlite).await;
    // Visible ASCII up to 128 characters is echoed as given.
    let longest = "r".repeat(128);
    for given in ["req:1/2?x=y&z", "ABC-123", &longest] {
        let answer = call(&client, "GET", "ListFlows", &[("RequestId", given)]).await;
        assert_eq!(answer.ok()["RequestId"], given);
    }
    // Anything else gets a generated id; header and body still agree (checked by `call`).
    let too_long = "r".repeat(129);
    for given in [
        "héllo",
        "line\nbreak",
        "tab\there",
        " padded ",
        "a b",
        "\u{7f}",
        &too_long,
    ] {
        let answer = call(&client, "GET", "ListFlows", &[("RequestId", given)]).await;
        let id = answer.ok()["RequestId"].as_str().unwrap();
        assert!(is_generated_request_id(id), "{given:?} → {id}");
        // Errors too.
        let answer = call(
            &client,
            "GET",
            "ListFlows",
            &[("RequestId", given), ("Limit", "0")],
        )
        .await;
        answer.err(400, "InvalidArgument");
        assert!(is_generated_request_id(
            answer.body["RequestId"].as_str().unwrap()
        ));
    }
    server.stop().await;
}
