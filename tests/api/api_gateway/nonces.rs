//! Nonces (docs/COMPATIBILITY.md#order-of-checks).

use super::*;

backend_tests! {
    async fn a_nonce_is_accepted_once(backend) {
        let server = start_with_accounts(backend, |_| {}).await;
        let client = server.client();
        client.create_flow("my_flow", FLOW).await;
        let describe = [("Name", "my_flow")];

        let params = client.signed("GET", "DescribeFlow", &describe, |_| {});
        send(&client, "GET", &params).await.ok();
        let answer = send(&client, "GET", &params).await;
        answer.err_msg(400, "SignatureNonceUsed", NONCE_USED);
        assert_envelope(&answer, &server.endpoint);
        // Also when re-signed for another request or method.
        let nonce = params.iter().find(|(k, _)| k == "SignatureNonce").unwrap().1.clone();
        let other = client.signed("POST", "ListFlows", &[], |p| set_param(p, "SignatureNonce", &nonce));
        send(&client, "POST", &other).await.err_msg(400, "SignatureNonceUsed", NONCE_USED);

        // A request that authenticated but then failed still used its nonce.
        let params = client.signed("GET", "DescribeFlow", &[("Name", "missing")], |_| {});
        send(&client, "GET", &params).await.err(404, "FlowNotExists");
        send(&client, "GET", &params).await.err_msg(400, "SignatureNonceUsed", NONCE_USED);

        // Nonces are per key: another key may use the same one.
        let other_key = key(&server, "a-admin");
        let params = other_key.signed("GET", "ListFlows", &[], |p| set_param(p, "SignatureNonce", &nonce));
        send(&other_key, "GET", &params).await.ok();

        // V1 and V3 share the nonces of a key.
        let mut request = client.v3("GET", "DescribeFlow").query(&describe);
        request.set_header("x-acs-signature-nonce", &nonce);
        request.send().await.err_msg(400, "SignatureNonceUsed", NONCE_USED);
        let request = client.v3("GET", "DescribeFlow").query(&describe);
        request.send().await.ok();
        request.send().await.err_msg(400, "SignatureNonceUsed", NONCE_USED);
        server.stop().await;
    }

    async fn a_failed_attempt_does_not_burn_its_nonce(backend) {
        let (server, client) = server_with_flow(backend).await;
        let describe = [("Name", "my_flow")];
        let good = client.signed("GET", "DescribeFlow", &describe, |_| {});

        // A forged signature with the nonce, then the genuine request.
        let mut forged = good.clone();
        set_param(&mut forged, "Signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        send(&client, "GET", &forged).await.err(403, "SignatureNotMatch");
        // The same nonce with a skewed timestamp (refused before the signature).
        let nonce = good.iter().find(|(k, _)| k == "SignatureNonce").unwrap().1.clone();
        let skewed = client.signed("GET", "DescribeFlow", &describe, |p| {
            set_param(p, "SignatureNonce", &nonce);
            set_param(p, "Timestamp", &timestamp(TimeDelta::minutes(-20)));
        });
        send(&client, "GET", &skewed).await.err(403, "RequestTimeTooSkewed");
        // Signed with a wrong secret.
        let wrong = server.client_with_key(ACCESS_KEY_ID, "wrong");
        let params = wrong.signed("GET", "DescribeFlow", &describe, |p| set_param(p, "SignatureNonce", &nonce));
        send(&wrong, "GET", &params).await.err(403, "SignatureNotMatch");

        send(&client, "GET", &good).await.ok();
        send(&client, "GET", &good).await.err_msg(400, "SignatureNonceUsed", NONCE_USED);

        // V3: a bad signature first, then the genuine request with the same nonce.
        let request = client.v3("GET", "DescribeFlow").query(&describe);
        let authorization = request.authorization();
        request
            .send_with_authorization(&authorization.replace("Signature=", "Signature=00"))
            .await
            .err(403, "SignatureNotMatch");
        request.send_with_authorization(&authorization).await.ok();
        server.stop().await;
    }
}

backend_tests! {
    // On Postgres a start records its nonce in its own transaction; whatever the answer, the
    // nonce is used once, as for any other action.
    async fn a_start_uses_its_nonce_once(backend) {
        let server = start_with_accounts(backend, |_| {}).await;
        let client = server.client();
        client.create_flow("my_flow", FLOW).await;
        let start = [("FlowName", "my_flow"), ("ExecutionName", "once")];
        let params = client.signed("POST", "StartExecution", &start, |_| {});
        send(&client, "POST", &params).await.ok();
        send(&client, "POST", &params).await.err_msg(400, "SignatureNonceUsed", NONCE_USED);
        let answer = call(&client, "GET", "ListExecutions", &[("FlowName", "my_flow")]).await;
        let listed = answer.ok();
        assert_eq!(listed["Executions"].as_array().map(Vec::len), Some(1), "{listed}");

        // A start refused by the handler used its nonce: replayed once the flow exists, it
        // still starts nothing.
        let later = [("FlowName", "later"), ("ExecutionName", "replayed")];
        let params = client.signed("POST", "StartExecution", &later, |_| {});
        send(&client, "POST", &params).await.err(404, "FlowNotExists");
        client.create_flow("later", FLOW).await;
        send(&client, "POST", &params).await.err_msg(400, "SignatureNonceUsed", NONCE_USED);
        call(&client, "GET", "DescribeExecution", &[("FlowName", "later"), ("ExecutionName", "replayed")])
            .await
            .err(404, "ExecutionNotExists");

        // Refused by the key's policy: the same.
        let orders = key(&server, "a-orders");
        let params = orders.signed("POST", "StartExecution", &[("FlowName", "my_flow")], |_| {});
        send(&orders, "POST", &params).await.err_msg(403, "AccessDenied", ACCESS_DENIED);
        send(&orders, "POST", &params).await.err_msg(400, "SignatureNonceUsed", NONCE_USED);

        // A nonce used by another action cannot start, nor the other way round.
        let nonce_of = |params: &[(String, String)]| {
            params.iter().find(|(k, _)| k == "SignatureNonce").unwrap().1.clone()
        };
        let describe = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |_| {});
        send(&client, "GET", &describe).await.ok();
        let params = client.signed("POST", "StartExecution", &[("FlowName", "my_flow")], |p| {
            set_param(p, "SignatureNonce", &nonce_of(&describe))
        });
        send(&client, "POST", &params).await.err_msg(400, "SignatureNonceUsed", NONCE_USED);
        let params = client.signed("POST", "StartExecution", &[("FlowName", "my_flow")], |_| {});
        send(&client, "POST", &params).await.ok();
        let describe = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |p| {
            set_param(p, "SignatureNonce", &nonce_of(&params))
        });
        send(&client, "GET", &describe).await.err_msg(400, "SignatureNonceUsed", NONCE_USED);

        // V3 likewise.
        let request = client
            .v3("POST", "StartExecution")
            .query(&[("FlowName", "my_flow"), ("ExecutionName", "v3")]);
        request.send().await.ok();
        request.send().await.err_msg(400, "SignatureNonceUsed", NONCE_USED);
        let answer = call(&client, "GET", "ListExecutions", &[("FlowName", "my_flow")]).await;
        let listed = answer.ok();
        assert_eq!(listed["Executions"].as_array().map(Vec::len), Some(3), "{listed}");
        server.stop().await;
    }
}

backend_tests! {
    // On Postgres a sync execution records its nonce with its read of the flow's revision,
    // before it runs: a replay runs nothing, whether the flow was cached or not.
    async fn a_sync_execution_uses_its_nonce_once(backend) {
        let server = start_with_accounts(backend, |_| {}).await;
        let client = server.client();
        client.create_flow_with("quick", FLOW, &[("ExecutionMode", "Express")]).await;
        let run = [("FlowName", "quick")];
        for _ in 0..2 {
            // First from a flow read from the store, then from the cached copy.
            let params = client.signed("POST", "StartSyncExecution", &run, |_| {});
            let answer = send(&client, "POST", &params).await;
            assert_eq!(answer.ok()["Status"], "Succeeded");
            send(&client, "POST", &params).await.err_msg(400, "SignatureNonceUsed", NONCE_USED);
        }

        // Refused by the handler, or by the key's policy: the nonce is used all the same.
        let later = [("FlowName", "later")];
        let params = client.signed("POST", "StartSyncExecution", &later, |_| {});
        send(&client, "POST", &params).await.err(404, "FlowNotExists");
        client.create_flow_with("later", FLOW, &[("ExecutionMode", "Express")]).await;
        send(&client, "POST", &params).await.err_msg(400, "SignatureNonceUsed", NONCE_USED);
        let orders = key(&server, "a-orders");
        let params = orders.signed("POST", "StartSyncExecution", &run, |_| {});
        send(&orders, "POST", &params).await.err_msg(403, "AccessDenied", ACCESS_DENIED);
        send(&orders, "POST", &params).await.err_msg(400, "SignatureNonceUsed", NONCE_USED);

        // A nonce another action used cannot run a flow.
        let describe = client.signed("GET", "DescribeFlow", &[("Name", "quick")], |_| {});
        send(&client, "GET", &describe).await.ok();
        let nonce = describe.iter().find(|(k, _)| k == "SignatureNonce").unwrap().1.clone();
        let params = client.signed("POST", "StartSyncExecution", &run, |p| set_param(p, "SignatureNonce", &nonce));
        send(&client, "POST", &params).await.err_msg(400, "SignatureNonceUsed", NONCE_USED);

        // V3 likewise.
        let request = client.v3("POST", "StartSyncExecution").query(&run);
        request.send().await.ok();
        request.send().await.err_msg(400, "SignatureNonceUsed", NONCE_USED);
        server.stop().await;
    }
}

/// Two replicas on one Postgres database share their nonces (docs/COMPATIBILITY.md#order-of-checks).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_sharing_postgres_share_nonces() {
    let (first, second, other) = postgres_replicas().await;
    let client = first.client();
    let params = client.signed("GET", "ListFlows", &[], |_| {});
    send(&client, "GET", &params).await.ok();
    send(&other, "GET", &params)
        .await
        .err_msg(400, "SignatureNonceUsed", NONCE_USED);
    // The same start sent to both at once starts once.
    client.create_flow("my_flow", FLOW).await;
    for round in 0..20 {
        let name = format!("run-{round}");
        let start = [("FlowName", "my_flow"), ("ExecutionName", name.as_str())];
        let params = client.signed("POST", "StartExecution", &start, |_| {});
        one_of_both_is_a_replay(&client, &other, &params).await;
    }
    // The same sync execution sent to both at once runs once.
    client
        .create_flow_with("quick", FLOW, &[("ExecutionMode", "Express")])
        .await;
    for _ in 0..20 {
        let run = [("FlowName", "quick")];
        let params = client.signed("POST", "StartSyncExecution", &run, |_| {});
        one_of_both_is_a_replay(&client, &other, &params).await;
    }
    let answer = call(&client, "GET", "ListExecutions", &[("FlowName", "my_flow")]).await;
    let listed = answer.ok();
    assert_eq!(
        listed["Executions"].as_array().map(Vec::len),
        Some(20),
        "{listed}"
    );
    second.stop().await;
    first.stop().await;
}

/// Sends the same signed request to both replicas at once: exactly one is refused as a replay.
async fn one_of_both_is_a_replay(client: &Client, other: &Client, params: &[(String, String)]) {
    let (a, b) = tokio::join!(send(client, "POST", params), send(other, "POST", params));
    let codes = [a.code(), b.code()];
    let refused = codes
        .iter()
        .filter(|code| **code == "SignatureNonceUsed")
        .count();
    assert_eq!(refused, 1, "one of the two is a replay: {codes:?}");
}
