//! The gateway (docs/COMPATIBILITY.md#transport, docs/COMPATIBILITY.md#names, docs/COMPATIBILITY.md#error-catalogue): transport rules, parameter parsing, common
//! parameters, clock skew, nonces, the response envelope, throttling, per-key policies,
//! account isolation and the development key.
//!
//! Checks that never reach the store run on SQLite only; nonces and account isolation run
//! on both backends.

mod clock_skew;
mod common_parameters;
mod envelope;
mod keys_and_accounts;
mod nonces;
mod parameter_parsing;
mod throttling;
mod transport_rules;
mod typed_parameters;

use crate::common;

use std::path::PathBuf;

use chrono::{TimeDelta, Utc};
use common::{
    ACCESS_KEY_ID, ACCESS_KEY_SECRET, Answer, Backend, Client, Storage, TestServer,
    assert_envelope, encode_form, postgres_replicas, raw_http, remove_param, set_param,
    test_config,
};
use fnf_server::auth::credentials::{DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET};
use fnf_server::config::Config;
use serde_json::Value;

const FLOW: &str = "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: p\n";

const SKEWED: &str = "The difference between the request time and the server time is too large.";
const NONCE_USED: &str = "Specified signature nonce was used already.";
const ACCESS_DENIED: &str = "The resources doesn't belong to you.";

fn timestamp(offset: TimeDelta) -> String {
    (Utc::now() + offset)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Sends `params` (already signed) for `method`: GET in the query, POST in the body.
async fn send(client: &Client, method: &str, params: &[(String, String)]) -> Answer {
    if method == "GET" {
        client.send_form("GET", params, &[]).await
    } else {
        client.send_form("POST", &[], params).await
    }
}

/// Sends a signed request and checks the envelope of the answer.
async fn call(client: &Client, method: &str, action: &str, params: &[(&str, &str)]) -> Answer {
    let signed = client.signed(method, action, params, |_| {});
    let answer = send(client, method, &signed).await;
    assert_envelope(&answer, &client.endpoint);
    answer
}

async fn server_with_flow(backend: Backend) -> (TestServer, Client) {
    let server = TestServer::start(backend).await;
    let client = server.client();
    client.create_flow("my_flow", FLOW).await;
    (server, client)
}

/// A credentials file with two accounts: A (`2222…`) with an unrestricted key, a
/// read-only key, a key limited to `orders-*` flows and a key allowed nothing; B (`3333…`)
/// with an unrestricted key. The default key of the test configuration stays.
const ACCOUNTS_TOML: &str = r#"
[[accounts]]
id = "2222222222222222"

[[accounts.keys]]
id = "a-admin"
secret = "a-admin-secret"

[[accounts.keys]]
id = "a-reader"
secret = "a-reader-secret"
actions = ["fnf:Describe*"]

[[accounts.keys]]
id = "a-orders"
secret = "a-orders-secret"
flows = ["orders-*"]

[[accounts.keys]]
id = "a-nothing"
secret = "a-nothing-secret"
actions = []

[[accounts]]
id = 3333333333333333

[[accounts.keys]]
id = "b-admin"
secret = "b-admin-secret"
"#;

/// Writes `ACCOUNTS_TOML` to a temporary directory; keep the directory while starting.
fn accounts_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("credentials.toml");
    std::fs::write(&path, ACCOUNTS_TOML).unwrap();
    (dir, path)
}

async fn start_with_accounts(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestServer {
    let (_dir, path) = accounts_file();
    TestServer::start_with(backend, |config| {
        config.credentials_file = Some(path);
        adjust(config);
    })
    .await
}

fn key(server: &TestServer, id: &str) -> Client {
    server.client_with_key(id, &format!("{id}-secret"))
}
