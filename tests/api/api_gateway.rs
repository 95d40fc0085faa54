//! The gateway (api.md §1–2, §3.1–3.2, §5): transport rules, parameter parsing, common
//! parameters, clock skew, nonces, the response envelope, throttling, per-key policies,
//! account isolation and the development key.
//!
//! Checks that never reach the store run on SQLite only; nonces and account isolation run
//! on both backends.

use crate::common;

use std::path::PathBuf;

use chrono::{TimeDelta, Utc};
use common::{
    ACCESS_KEY_ID, ACCESS_KEY_SECRET, Answer, Backend, Client, Storage, TestServer,
    assert_envelope, encode_form, raw_http, remove_param, set_param, test_config,
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

// ---------------------------------------------------------------------------------------
// Clock skew (api.md §2.4).

#[tokio::test]
async fn timestamps_more_than_15_minutes_off_are_too_skewed() {
    let (server, client) = server_with_flow(Backend::Sqlite).await;
    for minutes in [-16, 16, -60 * 24 * 365, 60 * 24 * 365] {
        let params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |p| {
            set_param(p, "Timestamp", &timestamp(TimeDelta::minutes(minutes)))
        });
        let answer = send(&client, "GET", &params).await;
        answer.err_msg(403, "RequestTimeTooSkewed", SKEWED);
        assert_envelope(&answer, &server.endpoint);
    }
    for minutes in [-14, 14] {
        let params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |p| {
            set_param(p, "Timestamp", &timestamp(TimeDelta::minutes(minutes)))
        });
        send(&client, "GET", &params).await.ok();
    }
    // The variants api.md §2.4 accepts: a fractional part, `+00:00` for `Z`.
    let now = Utc::now();
    for text in [
        now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        now.format("%Y-%m-%dT%H:%M:%S+00:00").to_string(),
    ] {
        let params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |p| {
            set_param(p, "Timestamp", &text)
        });
        let answer = send(&client, "GET", &params).await;
        assert_eq!(answer.status, 200, "{text}: {}", answer.body);
    }
    server.stop().await;
}

#[tokio::test]
async fn unparseable_timestamps_are_invalid_argument() {
    let (server, client) = server_with_flow(Backend::Sqlite).await;
    let now = Utc::now();
    for text in [
        "yesterday".to_string(),
        "1714564800".to_string(),
        now.format("%Y-%m-%d %H:%M:%SZ").to_string(),
        now.format("%Y-%m-%dT%H:%M:%S").to_string(),
        now.format("%Y-%m-%dT%H:%M:%S+08:00").to_string(),
        "2024-02-30T12:00:00Z".to_string(),
    ] {
        let params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |p| {
            set_param(p, "Timestamp", &text)
        });
        let answer = send(&client, "GET", &params).await;
        answer.err_msg(
            400,
            "InvalidArgument",
            &format!(
                "Parameter error: Timestamp must be a UTC time like 2024-05-01T12:00:00Z, got '{text}'"
            ),
        );
        assert_envelope(&answer, &server.endpoint);
    }
    server.stop().await;
}

#[tokio::test]
async fn v3_dates_follow_the_same_rules() {
    let (server, client) = server_with_flow(Backend::Sqlite).await;
    for minutes in [-16, 16] {
        let mut request = client
            .v3("GET", "DescribeFlow")
            .query(&[("Name", "my_flow")]);
        request.set_header("x-acs-date", &timestamp(TimeDelta::minutes(minutes)));
        request
            .send()
            .await
            .err_msg(403, "RequestTimeTooSkewed", SKEWED);
    }
    let mut request = client
        .v3("GET", "DescribeFlow")
        .query(&[("Name", "my_flow")]);
    request.set_header("x-acs-date", &timestamp(TimeDelta::minutes(-14)));
    request.send().await.ok();
    let mut request = client
        .v3("GET", "DescribeFlow")
        .query(&[("Name", "my_flow")]);
    request.set_header("x-acs-date", "Wed, 01 May 2024 12:00:00 GMT");
    request.send().await.err_msg(
        400,
        "InvalidArgument",
        "Parameter error: x-acs-date must be a UTC time like 2024-05-01T12:00:00Z, got 'Wed, 01 May 2024 12:00:00 GMT'",
    );
    server.stop().await;
}

#[tokio::test]
async fn checks_run_in_the_documented_order() {
    // api.md §2.4: required common parameters → action/version → AccessKeyId → skew →
    // signature → nonce.
    let (server, client) = server_with_flow(Backend::Sqlite).await;
    let skewed = timestamp(TimeDelta::minutes(-30));

    // Unknown action and unknown key: the action is checked first.
    let stranger = server.client_with_key("nobody", "x");
    let params = stranger.signed("GET", "Foo", &[], |_| {});
    send(&stranger, "GET", &params)
        .await
        .err(400, "ActionNotSupported");
    // Unknown key with a skewed timestamp: the key is checked first.
    let params = stranger.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |p| {
        set_param(p, "Timestamp", &skewed)
    });
    send(&stranger, "GET", &params)
        .await
        .err(403, "InvalidAccessKeyID");
    // Skewed timestamp and a bad signature: the time is checked first.
    let mut params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |p| {
        set_param(p, "Timestamp", &skewed)
    });
    set_param(&mut params, "Signature", "AAAA");
    send(&client, "GET", &params)
        .await
        .err(403, "RequestTimeTooSkewed");
    // A bad signature with a used nonce: the signature is checked first.
    let params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |_| {});
    send(&client, "GET", &params).await.ok();
    let mut replay = params.clone();
    set_param(&mut replay, "Signature", "AAAA");
    send(&client, "GET", &replay)
        .await
        .err(403, "SignatureNotMatch");
    // Signature and nonce before action parameters: a bad Limit is reported only for a
    // request that authenticates.
    let mut params = client.signed("GET", "ListFlows", &[("Limit", "0")], |_| {});
    set_param(&mut params, "Signature", "AAAA");
    send(&client, "GET", &params)
        .await
        .err(403, "SignatureNotMatch");
    server.stop().await;
}

// ---------------------------------------------------------------------------------------
// Nonces (api.md §2.4).

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

/// Two replicas on one Postgres database share their nonces (api.md §2.4).
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

// ---------------------------------------------------------------------------------------
// Common parameters, action and version (api.md §1.4–1.5).

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

// ---------------------------------------------------------------------------------------
// Transport: methods, paths, content types, size (api.md §1.2–1.3).

#[tokio::test]
async fn methods_other_than_get_and_post_are_not_allowed() {
    let server = TestServer::start(Backend::Sqlite).await;
    let client = server.client();
    for method in ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"] {
        // Signed or not, the method is refused first.
        let params = client.signed(method, "ListFlows", &[], |_| {});
        for query in [encode_form(&params), String::new()] {
            let answer = client.send_text(method, Some(&query), None).await;
            answer.err_msg(
                405,
                "MethodNotAllowed",
                &format!("Method {method} is not allowed."),
            );
            assert_envelope(&answer, &server.endpoint);
        }
    }
    // HEAD: the status and headers, no body.
    let request = client.http.head(format!("http://{}/", server.endpoint));
    let response = request.send().await.unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(
        response.headers()["content-type"],
        "application/json;charset=utf-8"
    );
    assert!(response.headers().contains_key("x-acs-request-id"));
    server.stop().await;
}

#[tokio::test]
async fn paths_other_than_the_root_are_not_supported() {
    let server = TestServer::start(Backend::Sqlite).await;
    let client = server.client();
    let params = client.signed("GET", "ListFlows", &[], |_| {});
    for (method, path) in [
        ("GET", "/foo"),
        ("POST", "/foo/bar"),
        ("GET", "/index.html"),
        ("GET", "//"),
        ("POST", "/%2F"),
        ("GET", "/api/2019-03-15"),
    ] {
        let url = format!("http://{}{path}?{}", server.endpoint, encode_form(&params));
        let request = client.http.request(method.parse().unwrap(), url);
        let answer = client.raw(request).await;
        answer.err_msg(
            400,
            "PathNotSupported",
            &format!("'{method}' against '{path}' is not supported"),
        );
        assert_envelope(&answer, &server.endpoint);
    }
    server.stop().await;
}

#[tokio::test]
async fn content_types() {
    let (server, client) = server_with_flow(Backend::Sqlite).await;
    let url = |params: &[(String, String)]| {
        format!("http://{}/?{}", server.endpoint, encode_form(params))
    };

    // A body that is not a form → 415, whatever else the request carries.
    for (content_type, body) in [
        (Some("application/json"), r#"{"Name":"my_flow"}"#),
        (Some("text/plain"), "Name=my_flow"),
        (Some("multipart/form-data; boundary=x"), "--x--"),
        (Some("application/x-www-form-urlencodedx"), "Name=my_flow"),
        (None, "Name=my_flow"),
    ] {
        let params = client.signed("POST", "DescribeFlow", &[("Name", "my_flow")], |_| {});
        let mut request = client.http.post(url(&params)).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let answer = client.raw(request).await;
        answer.err_msg(
            415,
            "UnsupportedMediaType",
            &format!(
                "Content type {} is not supported; use application/x-www-form-urlencoded.",
                content_type.unwrap_or("(none)")
            ),
        );
        assert_envelope(&answer, &server.endpoint);
    }

    // An empty body is fine without a content type, and with any content type.
    for content_type in [None, Some("application/json"), Some("text/plain")] {
        let params = client.signed("POST", "DescribeFlow", &[("Name", "my_flow")], |_| {});
        let mut request = client.http.post(url(&params));
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let answer = client.raw(request).await;
        assert_envelope(&answer, &server.endpoint);
        assert_eq!(answer.ok()["Name"], "my_flow", "{content_type:?}");
    }

    // Form content types with parameters and in any case.
    for content_type in [
        "application/x-www-form-urlencoded; charset=UTF-8",
        "application/x-www-form-urlencoded;charset=utf-8",
        "Application/X-WWW-Form-URLEncoded",
    ] {
        let params = client.signed("POST", "DescribeFlow", &[("Name", "my_flow")], |_| {});
        let request = client
            .http
            .post(format!("http://{}/", server.endpoint))
            .header("content-type", content_type)
            .body(encode_form(&params));
        let answer = client.raw(request).await;
        assert_eq!(answer.ok()["Name"], "my_flow", "{content_type}");
    }
    server.stop().await;
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_too_large() {
    const LIMIT: usize = 1024 * 1024;
    const TOO_LARGE: &str = "The payload size exceeds maximum allowed size (1048576 bytes).";
    let server = TestServer::start(Backend::Sqlite).await;
    let client = server.client();

    // Exactly 1 MiB: accepted (an unknown parameter pads it; it is signed and ignored).
    let padding = "x".repeat(LIMIT - "Pad=".len());
    let params = client.signed("POST", "ListFlows", &[("Pad", &padding)], |_| {});
    let (query, body): (Vec<_>, Vec<_>) = params.into_iter().partition(|(k, _)| k != "Pad");
    let body = encode_form(&body);
    assert_eq!(body.len(), LIMIT);
    let answer = client
        .send_text("POST", Some(&encode_form(&query)), Some(&body))
        .await;
    answer.ok();

    // One byte more.
    let padding = "x".repeat(LIMIT + 1 - "Pad=".len());
    let params = client.signed("POST", "ListFlows", &[("Pad", &padding)], |_| {});
    let (query, body): (Vec<_>, Vec<_>) = params.into_iter().partition(|(k, _)| k != "Pad");
    let body = encode_form(&body);
    assert_eq!(body.len(), LIMIT + 1);
    let answer = client
        .send_text("POST", Some(&encode_form(&query)), Some(&body))
        .await;
    answer.err_msg(400, "EntityTooLarge", TOO_LARGE);
    assert_envelope(&answer, &server.endpoint);

    // Much more, any content type.
    let big = vec![b'x'; 3 * LIMIT];
    let request = client
        .http
        .post(format!("http://{}/", server.endpoint))
        .header("content-type", "application/json")
        .body(big);
    client
        .raw(request)
        .await
        .err_msg(400, "EntityTooLarge", TOO_LARGE);

    // Chunked, without a Content-Length.
    let mut request = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        server.endpoint
    )
    .into_bytes();
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..(LIMIT / chunk.len() + 1) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(&chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let answer = raw_http(&server.endpoint, &request).await;
    assert_eq!(answer.status, 400);
    let body = answer.json();
    assert_eq!(body["Code"], "EntityTooLarge");
    assert_eq!(body["Message"], TOO_LARGE);
    server.stop().await;
}

// ---------------------------------------------------------------------------------------
// Parameter parsing (api.md §1.3).

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

// ---------------------------------------------------------------------------------------
// Typed parameters of the served actions (api.md §1.3, §3.7, §4).

#[tokio::test]
async fn typed_parameters_are_validated() {
    let (server, client) = server_with_flow(Backend::Sqlite).await;
    client.start("my_flow", "e1", "{}").await;
    let flow = [("FlowName", "my_flow")];
    let execution = [("FlowName", "my_flow"), ("ExecutionName", "e1")];
    let exact = |name: &str, reason: &str| format!("Parameter error: {name} {reason}");
    let integer = |name: &str, min: i64, max: i64, got: &str| {
        exact(
            name,
            &format!("must be an integer between {min} and {max}, got {got}"),
        )
    };

    struct Case<'a> {
        action: &'a str,
        base: &'a [(&'a str, &'a str)],
        name: &'a str,
        value: String,
        message: String,
        /// The message need only start with `message` (it quotes a parser's error).
        prefix: bool,
    }
    let case = |action, base, name, value: &str, message: String| Case {
        action,
        base,
        name,
        value: value.to_string(),
        message,
        prefix: false,
    };
    let no_params: &[(&str, &str)] = &[];
    let long_number = "9".repeat(30);
    let mut cases = vec![
        // Limit of every paginated action, WaitTimeSeconds.
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
        // Booleans.
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
        // Times and statuses.
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
        // Flow attributes.
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
        // Execution parameters.
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
    // Parser errors are quoted after the reason.
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
        let answer = send(&client, method, &params).await;
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

    // Input over 32 KiB.
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

    // Empty values count as absent for the optional typed parameters.
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
    // The bounds themselves are accepted.
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

// ---------------------------------------------------------------------------------------
// The response envelope and request ids (api.md §1.5–1.7).

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

// ---------------------------------------------------------------------------------------
// Throttling (api.md §3.2).

#[tokio::test]
async fn throttling_is_per_key_and_has_no_retry_after() {
    let server = start_with_accounts(Backend::Sqlite, |config| {
        config.throttle_rps = Some(0.01);
        config.throttle_burst = Some(3);
    })
    .await;
    let client = server.client();
    // Requests that fail authentication take no token.
    let wrong = server.client_with_key(ACCESS_KEY_ID, "wrong");
    for _ in 0..5 {
        wrong
            .get("ListFlows", &[])
            .await
            .err(403, "SignatureNotMatch");
    }
    for _ in 0..3 {
        call(&client, "GET", "ListFlows", &[]).await.ok();
    }
    for _ in 0..2 {
        let answer = call(&client, "GET", "ListFlows", &[]).await;
        answer.err(429, "ResourceThrottled");
        assert_eq!(
            answer.message(),
            "The request was throttled: more than 0.01 requests per second for AccessKey test-access-key."
        );
        assert!(
            answer.header("x-acs-retry-after").is_none(),
            "{:?}",
            answer.headers
        );
        assert!(
            answer.header("retry-after").is_none(),
            "{:?}",
            answer.headers
        );
    }
    // Another key of another account, and another key of the same account, are not throttled.
    for id in ["b-admin", "a-admin"] {
        let other = key(&server, id);
        for _ in 0..3 {
            call(&other, "GET", "ListFlows", &[]).await.ok();
        }
        call(&other, "GET", "ListFlows", &[])
            .await
            .err(429, "ResourceThrottled");
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------------------
// Per-key policies, account isolation, the development key.

#[tokio::test]
async fn key_policies_deny_with_access_denied() {
    let server = start_with_accounts(Backend::Sqlite, |_| {}).await;
    let admin = key(&server, "a-admin");
    admin.create_flow("billing", FLOW).await;
    admin.create_flow("orders-1", FLOW).await;
    admin.start("billing", "e1", "").await;

    // A key limited to fnf:Describe*.
    let reader = key(&server, "a-reader");
    let denied = [
        (
            "POST",
            "CreateFlow",
            vec![("Name", "new_flow"), ("Definition", FLOW), ("Type", "FDL")],
        ),
        ("POST", "DeleteFlow", vec![("Name", "billing")]),
        ("GET", "ListFlows", vec![]),
        ("POST", "StartExecution", vec![("FlowName", "billing")]),
        (
            "GET",
            "GetExecutionHistory",
            vec![("FlowName", "billing"), ("ExecutionName", "e1")],
        ),
        (
            "POST",
            "ReportTaskSucceeded",
            vec![("TaskToken", "t"), ("Output", "{}")],
        ),
    ];
    for (method, action, params) in &denied {
        let answer = call(&reader, method, action, params).await;
        answer.err_msg(403, "AccessDenied", ACCESS_DENIED);
    }
    assert_eq!(
        call(&reader, "GET", "DescribeFlow", &[("Name", "billing")])
            .await
            .ok()["Name"],
        "billing"
    );
    assert_eq!(
        call(
            &reader,
            "GET",
            "DescribeExecution",
            &[("FlowName", "billing"), ("ExecutionName", "e1")]
        )
        .await
        .ok()["Name"],
        "e1"
    );
    call(&reader, "POST", "DescribeRegions", &[]).await.ok();
    // Denial comes before validation and lookup.
    call(&reader, "POST", "CreateFlow", &[("Name", "1 bad")])
        .await
        .err_msg(403, "AccessDenied", ACCESS_DENIED);
    call(&reader, "GET", "DescribeFlow", &[("Name", "missing")])
        .await
        .err(404, "FlowNotExists");

    // A key limited to flows `orders-*`.
    let orders = key(&server, "a-orders");
    call(
        &orders,
        "POST",
        "CreateFlow",
        &[("Name", "orders-2"), ("Definition", FLOW), ("Type", "FDL")],
    )
    .await
    .ok();
    call(
        &orders,
        "POST",
        "StartExecution",
        &[("FlowName", "orders-1"), ("ExecutionName", "o1")],
    )
    .await
    .ok();
    call(&orders, "GET", "DescribeFlow", &[("Name", "orders-1")])
        .await
        .ok();
    call(
        &orders,
        "GET",
        "DescribeFlow",
        &[("Name", "orders-missing")],
    )
    .await
    .err(404, "FlowNotExists");
    for (method, action, params) in [
        (
            "POST",
            "CreateFlow",
            vec![("Name", "billing-2"), ("Definition", FLOW), ("Type", "FDL")],
        ),
        ("GET", "DescribeFlow", vec![("Name", "billing")]),
        ("GET", "DescribeFlow", vec![("Name", "Orders-1")]),
        ("GET", "DescribeFlow", vec![("Name", "missing")]),
        (
            "POST",
            "UpdateFlow",
            vec![("Name", "billing"), ("Description", "x")],
        ),
        ("POST", "DeleteFlow", vec![("Name", "billing")]),
        ("POST", "StartExecution", vec![("FlowName", "billing")]),
        (
            "POST",
            "StopExecution",
            vec![("FlowName", "billing"), ("ExecutionName", "e1")],
        ),
        (
            "GET",
            "DescribeExecution",
            vec![("FlowName", "billing"), ("ExecutionName", "e1")],
        ),
        ("GET", "ListExecutions", vec![("FlowName", "billing")]),
        (
            "GET",
            "GetExecutionHistory",
            vec![("FlowName", "billing"), ("ExecutionName", "e1")],
        ),
        ("POST", "StartSyncExecution", vec![("FlowName", "billing")]),
    ] {
        let answer = call(&orders, method, action, &params).await;
        answer.err_msg(403, "AccessDenied", ACCESS_DENIED);
    }
    // The flows the denied calls aimed at are untouched.
    assert_eq!(
        call(&admin, "GET", "DescribeFlow", &[("Name", "billing")])
            .await
            .ok()["Description"],
        "test flow"
    );

    // A key with an empty action list may do nothing.
    let nothing = key(&server, "a-nothing");
    for (method, action) in [
        ("POST", "DescribeRegions"),
        ("GET", "ListFlows"),
        ("GET", "DescribeFlow"),
    ] {
        call(&nothing, method, action, &[("Name", "billing")])
            .await
            .err_msg(403, "AccessDenied", ACCESS_DENIED);
    }
    // AccessDenied needs a valid signature first.
    let forged = server.client_with_key("a-nothing", "wrong");
    forged
        .get("ListFlows", &[])
        .await
        .err(403, "SignatureNotMatch");
    server.stop().await;
}

fn flow_names(answer: &Answer) -> Vec<String> {
    answer.ok()["Flows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|flow| flow["Name"].as_str().unwrap().to_string())
        .collect()
}

backend_tests! {
    async fn accounts_are_isolated(backend) {
        let server = start_with_accounts(backend, |_| {}).await;
        let a = key(&server, "a-admin");
        let b = key(&server, "b-admin");
        let flow_a = a.create_flow("shared_name", FLOW).await;
        a.create_flow("only_a", FLOW).await;
        a.start("shared_name", "e1", r#"{"from":"a"}"#).await;
        a.wait_end("shared_name", "e1", std::time::Duration::from_secs(10)).await;

        // B sees none of A's flows.
        assert!(flow_names(&call(&b, "GET", "ListFlows", &[]).await).is_empty());
        for name in ["shared_name", "only_a"] {
            let not_exists = format!("Flow {name} does not exist.");
            for (method, action, params) in [
                ("GET", "DescribeFlow", vec![("Name", name)]),
                ("POST", "UpdateFlow", vec![("Name", name), ("Description", "by b")]),
                ("POST", "DeleteFlow", vec![("Name", name)]),
                ("POST", "StartExecution", vec![("FlowName", name), ("ExecutionName", "e2")]),
                ("POST", "StopExecution", vec![("FlowName", name), ("ExecutionName", "e1")]),
                ("GET", "DescribeExecution", vec![("FlowName", name), ("ExecutionName", "e1")]),
                ("GET", "ListExecutions", vec![("FlowName", name)]),
                ("GET", "GetExecutionHistory", vec![("FlowName", name), ("ExecutionName", "e1")]),
            ] {
                let answer = call(&b, method, action, &params).await;
                answer.err_msg(404, "FlowNotExists", &not_exists);
            }
        }

        // B creates its own flow of the same name; each account sees its own.
        let flow_b = call(
            &b,
            "POST",
            "CreateFlow",
            &[("Name", "shared_name"), ("Definition", FLOW), ("Description", "b's flow"), ("Type", "FDL")],
        )
        .await
        .ok()
        .clone();
        assert_ne!(flow_a["Id"], flow_b["Id"]);
        assert_eq!(flow_names(&call(&b, "GET", "ListFlows", &[]).await), ["shared_name"]);
        assert_eq!(flow_names(&call(&a, "GET", "ListFlows", &[]).await), ["only_a", "shared_name"]);
        let seen_by_a = call(&a, "GET", "DescribeFlow", &[("Name", "shared_name")]).await;
        assert_eq!(seen_by_a.ok()["Id"], flow_a["Id"]);
        assert_eq!(seen_by_a.ok()["Description"], "test flow");
        let executions = call(&b, "GET", "ListExecutions", &[("FlowName", "shared_name")]).await;
        assert_eq!(executions.ok()["Executions"], Value::Array(vec![]));
        call(&b, "GET", "DescribeExecution", &[("FlowName", "shared_name"), ("ExecutionName", "e1")])
            .await
            .err_msg(404, "ExecutionNotExists", "Execution e1 for flow shared_name does not exist.");
        // B's execution named e1 is B's own.
        b.start("shared_name", "e1", r#"{"from":"b"}"#).await;
        assert_eq!(b.describe("shared_name", "e1").await["Input"], r#"{"from":"b"}"#);
        assert_eq!(a.describe("shared_name", "e1").await["Input"], r#"{"from":"a"}"#);

        // B deleting its flow leaves A's alone.
        call(&b, "POST", "DeleteFlow", &[("Name", "shared_name")]).await.ok();
        call(&a, "GET", "DescribeFlow", &[("Name", "shared_name")]).await.ok();
        assert_eq!(a.describe("shared_name", "e1").await["Status"], "Succeeded");

        // Keys of one account share its flows; the default key is a third account.
        let reader = key(&server, "a-reader");
        call(&reader, "GET", "DescribeFlow", &[("Name", "only_a")]).await.ok();
        assert!(flow_names(&call(&server.client(), "GET", "ListFlows", &[]).await).is_empty());
        server.stop().await;
    }
}

#[tokio::test]
async fn without_credentials_the_development_key_works_on_loopback_only() {
    let server = TestServer::start_with(Backend::Sqlite, |config| {
        config.access_key_id = None;
        config.access_key_secret = None;
        config.credentials_file = None;
    })
    .await;
    let dev = server.client_with_key(DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET);
    assert_eq!(DEV_ACCESS_KEY_ID, "fnf-dev-access-key-id");
    assert_eq!(DEV_ACCESS_KEY_SECRET, "fnf-dev-access-key-secret");
    dev.create_flow("dev_flow", FLOW).await;
    assert_eq!(
        flow_names(&call(&dev, "GET", "ListFlows", &[]).await),
        ["dev_flow"]
    );
    server.client().get("ListFlows", &[]).await.err_msg(
        403,
        "InvalidAccessKeyID",
        "The AccessKey ID test-access-key is invalid.",
    );
    server.stop().await;

    // Off loopback, the server refuses to start and says why.
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let storage = Storage::new(Backend::Sqlite).await;
        let mut config = test_config(&storage.database_url);
        config.access_key_id = None;
        config.access_key_secret = None;
        config.listen = listen.parse().unwrap();
        match fnf_server::server::start(config).await {
            Ok(running) => {
                running.stop().await;
                panic!("started on {listen} with only the development key");
            }
            Err(error) => {
                let text = error.to_string();
                assert_eq!(
                    text,
                    format!(
                        "refusing to listen on {listen} with the public development key: configure \
                         credentials (FNF_ACCESS_KEY_ID and FNF_ACCESS_KEY_SECRET, or \
                         --credentials-file), or listen on a loopback address"
                    )
                );
            }
        }
        storage.cleanup().await;
    }
    // The development key is not accepted once a key is configured.
    let server = TestServer::start(Backend::Sqlite).await;
    server
        .client_with_key(DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET)
        .get("ListFlows", &[])
        .await
        .err(403, "InvalidAccessKeyID");
    server.stop().await;
    // With credentials configured, a non-loopback address is allowed.
    let server = TestServer::start_with(Backend::Sqlite, |config| {
        config.listen = "0.0.0.0:0".parse().unwrap();
    })
    .await;
    let port = server.server.as_ref().unwrap().addr.port();
    let client = Client::new(
        &format!("127.0.0.1:{port}"),
        ACCESS_KEY_ID,
        ACCESS_KEY_SECRET,
    );
    client.get("ListFlows", &[]).await.ok();
    server.stop().await;
}
