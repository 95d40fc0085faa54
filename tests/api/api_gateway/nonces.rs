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

/// Two replicas on one Postgres database share their nonces (docs/COMPATIBILITY.md#order-of-checks).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_sharing_postgres_share_nonces() {
    let storage = Storage::new(Backend::Postgres).await;
    let url = storage.database_url.clone();
    let first = TestServer::start_on(storage, test_config(&url)).await;
    let second = fnf_server::server::start(test_config(&url))
        .await
        .expect("a second replica starts");
    let client = first.client();
    let other = Client::new(&second.addr.to_string(), ACCESS_KEY_ID, ACCESS_KEY_SECRET);
    let params = client.signed("GET", "ListFlows", &[], |_| {});
    send(&client, "GET", &params).await.ok();
    send(&other, "GET", &params)
        .await
        .err_msg(400, "SignatureNonceUsed", NONCE_USED);
    second.stop().await;
    first.stop().await;
}
