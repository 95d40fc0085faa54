//! Replay protection outlives the server: a signed request accepted before a
//! restart is refused after it, within the skew window, on both stores.

use crate::common;

use common::{Answer, Client, TestServer, test_config};

const FLOW: &str = "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: p\n";
const NONCE_USED: &str = "Specified signature nonce was used already.";

/// Stops the server and starts another on the same store and configuration.
async fn restart(mut server: TestServer) -> TestServer {
    let running = server.server.take().expect("a running server");
    running.stop().await;
    let storage = server.storage.take().expect("the server's storage");
    let config = test_config(&storage.database_url);
    TestServer::start_on(storage, config).await
}

async fn send_v1(client: &Client, params: &[(String, String)]) -> Answer {
    client.send_form("GET", params, &[]).await
}

backend_tests! {
    async fn a_request_accepted_before_a_restart_is_refused_after_it(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("my_flow", FLOW).await;
        let v1 = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |_| {});
        send_v1(&client, &v1).await.ok();
        let v3 = client.v3("GET", "DescribeFlow").query(&[("Name", "my_flow")]);
        let authorization = v3.authorization();
        v3.send_with_authorization(&authorization).await.ok();

        let server = restart(server).await;
        let client = Client::new(&server.endpoint, &client.key, &client.secret);
        let mut v3 = v3;
        v3.endpoint = server.endpoint.clone();
        v3.set_header("host", &server.endpoint);
        let replayed_v3 = v3.authorization();
        // The port changed with the restart, so the V3 request is signed again for its new
        // host: same nonce, valid signature.
        v3.send_with_authorization(&replayed_v3)
            .await
            .err_msg(400, "SignatureNonceUsed", NONCE_USED);
        send_v1(&client, &v1)
            .await
            .err_msg(400, "SignatureNonceUsed", NONCE_USED);
        // Fresh requests still pass.
        client.get("DescribeFlow", &[("Name", "my_flow")]).await.ok();
        server.stop().await;
    }
}
