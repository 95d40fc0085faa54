//! Signing (docs/COMPATIBILITY.md#authentication): the spec's vectors A, B and C through the public signing functions
//! and, byte for byte, through a live server; V1 requests built by hand the way each SDK
//! lays them out; V3 requests signed with `fnf_server::auth::v3`; and every way a
//! signature can fail.
//!
//! Signature checks do not depend on the store, so these run on SQLite only.

use crate::common;

use common::{
    ACCESS_KEY_ID, ACCESS_KEY_SECRET, Answer, Backend, Client, EMPTY_SHA256, SIGNATURE_NOT_MATCH,
    TestServer, assert_envelope, encode_form, encode_form_plus, pairs, remove_param, set_param,
    v1_signature,
};
use fnf_server::api::params::Params;
use fnf_server::auth::{v1, v3};

const FLOW: &str = "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: p\n";

// docs/COMPATIBILITY.md#v1-signatures vector A: GET DescribeExecution as the new Python SDK sends it.
const VECTOR_A_QUERY: &str = "AccessKeyId=testid&Action=DescribeExecution&ExecutionName=exec1\
    &FlowName=my_flow&Format=json&SignatureMethod=HMAC-SHA1\
    &SignatureNonce=3f0c2a8e5b7d4c1e9a6b8d0f2e4c6a8b&SignatureVersion=1.0\
    &Timestamp=2024-05-01T12%3A00%3A00Z&Version=2019-03-15";
const VECTOR_A_CQS: &str = "AccessKeyId=testid&Action=DescribeExecution&ExecutionName=exec1&FlowName=my_flow&Format=json&SignatureMethod=HMAC-SHA1&SignatureNonce=3f0c2a8e5b7d4c1e9a6b8d0f2e4c6a8b&SignatureVersion=1.0&Timestamp=2024-05-01T12%3A00%3A00Z&Version=2019-03-15";
const VECTOR_A_STS: &str = "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeExecution%26ExecutionName%3Dexec1%26FlowName%3Dmy_flow%26Format%3Djson%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3f0c2a8e5b7d4c1e9a6b8d0f2e4c6a8b%26SignatureVersion%3D1.0%26Timestamp%3D2024-05-01T12%253A00%253A00Z%26Version%3D2019-03-15";
const VECTOR_A_SIGNATURE: &str = "uOXlWXG5LtpREThTqTTssgtZ1tc=";

// docs/COMPATIBILITY.md#v1-signatures vector B: POST StartExecution as the old Python SDK sends it.
const VECTOR_B_QUERY: &str = "AccessKeyId=testid&Action=StartExecution&Format=JSON\
    &RegionId=cn-hangzhou&SignatureMethod=HMAC-SHA1\
    &SignatureNonce=c0ffee00c0ffee00c0ffee00c0ffee00&SignatureType=&SignatureVersion=1.0\
    &Timestamp=2024-05-01T12%3A00%3A00Z&Version=2019-03-15";
const VECTOR_B_BODY: &str = "FlowName=my_flow&ExecutionName=run-1_a&Input=%7B%22msg%22%3A+%22h%C3%A9llo+w%C3%B6rld+%2A+~+%2F%2B%22%7D";
const VECTOR_B_INPUT: &str = "{\"msg\": \"héllo wörld * ~ /+\"}";
const VECTOR_B_CQS: &str = "AccessKeyId=testid&Action=StartExecution&ExecutionName=run-1_a&FlowName=my_flow&Format=JSON&Input=%7B%22msg%22%3A%20%22h%C3%A9llo%20w%C3%B6rld%20%2A%20~%20%2F%2B%22%7D&RegionId=cn-hangzhou&SignatureMethod=HMAC-SHA1&SignatureNonce=c0ffee00c0ffee00c0ffee00c0ffee00&SignatureType=&SignatureVersion=1.0&Timestamp=2024-05-01T12%3A00%3A00Z&Version=2019-03-15";
const VECTOR_B_STS: &str = "POST&%2F&AccessKeyId%3Dtestid%26Action%3DStartExecution%26ExecutionName%3Drun-1_a%26FlowName%3Dmy_flow%26Format%3DJSON%26Input%3D%257B%2522msg%2522%253A%2520%2522h%25C3%25A9llo%2520w%25C3%25B6rld%2520%252A%2520~%2520%252F%252B%2522%257D%26RegionId%3Dcn-hangzhou%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3Dc0ffee00c0ffee00c0ffee00c0ffee00%26SignatureType%3D%26SignatureVersion%3D1.0%26Timestamp%3D2024-05-01T12%253A00%253A00Z%26Version%3D2019-03-15";
const VECTOR_B_SIGNATURE: &str = "hfEumGf/QpTzKpYXsd5zT4K1QLE=";

// docs/COMPATIBILITY.md#v3-signatures vector C: V3 GET DescribeExecution.
const VECTOR_C_HOST: &str = "fnf.example.test";
const VECTOR_C_NONCE: &str = "3f0c2a8e5b7d4c1e9a6b8d0f2e4c6a8b";
const VECTOR_C_SIGNED_HEADERS: &str =
    "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version";
const VECTOR_C_CANONICAL_REQUEST: &str = "GET\n/\nExecutionName=exec1&FlowName=my_flow\n\
    host:fnf.example.test\n\
    x-acs-action:DescribeExecution\n\
    x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
    x-acs-date:2024-05-01T12:00:00Z\n\
    x-acs-signature-nonce:3f0c2a8e5b7d4c1e9a6b8d0f2e4c6a8b\n\
    x-acs-version:2019-03-15\n\
    \n\
    host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\n\
    e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const VECTOR_C_CANONICAL_HASH: &str =
    "e201462559ca14ed1e89cbfbfefa005c1053a97e7f98f81d74f9015fbc5fa07f";
const VECTOR_C_SIGNATURE: &str = "e484f67a9422c908eeb5293146d59abee88c92ef2dfcc40dfc01c1de6e426616";

fn vector_c_headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("host", VECTOR_C_HOST),
        ("x-acs-action", "DescribeExecution"),
        ("x-acs-version", "2019-03-15"),
        ("x-acs-date", "2024-05-01T12:00:00Z"),
        ("x-acs-signature-nonce", VECTOR_C_NONCE),
        ("x-acs-content-sha256", EMPTY_SHA256),
        ("accept", "application/json"),
    ]
}

fn vector_c_authorization() -> String {
    format!(
        "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders={VECTOR_C_SIGNED_HEADERS},Signature={VECTOR_C_SIGNATURE}"
    )
}

// ---------------------------------------------------------------------------------------
// The vectors through the public signing functions.

#[test]
fn vector_a_through_the_public_api() {
    let params = Params::from_sources(VECTOR_A_QUERY.as_bytes(), None).unwrap();
    assert_eq!(v1::canonical_query(params.iter()), VECTOR_A_CQS);
    let sts = v1::string_to_sign("GET", params.iter());
    assert_eq!(sts, VECTOR_A_STS);
    assert_eq!(v1::sign("testsecret", &sts), VECTOR_A_SIGNATURE);
    assert!(v1::verify("testsecret", &sts, VECTOR_A_SIGNATURE));
    assert!(!v1::verify("othersecret", &sts, VECTOR_A_SIGNATURE));
    // The signing key is the secret followed by "&": signing with "testsecret&" as the
    // secret would use "testsecret&&".
    assert_ne!(v1::sign("testsecret&", &sts), VECTOR_A_SIGNATURE);
}

#[test]
fn vector_b_through_the_public_api() {
    let params =
        Params::from_sources(VECTOR_B_QUERY.as_bytes(), Some(VECTOR_B_BODY.as_bytes())).unwrap();
    assert_eq!(params.get("Input"), Some(VECTOR_B_INPUT));
    assert_eq!(params.get("SignatureType"), Some(""));
    assert_eq!(v1::canonical_query(params.iter()), VECTOR_B_CQS);
    let sts = v1::string_to_sign("POST", params.iter());
    assert_eq!(sts, VECTOR_B_STS);
    assert_eq!(v1::sign("testsecret", &sts), VECTOR_B_SIGNATURE);
    assert!(v1::verify("testsecret", &sts, VECTOR_B_SIGNATURE));

    // `Signature` itself is left out; an empty-valued parameter is kept.
    let with_signature = format!("{VECTOR_B_QUERY}&Signature=abc");
    let params =
        Params::from_sources(with_signature.as_bytes(), Some(VECTOR_B_BODY.as_bytes())).unwrap();
    assert_eq!(v1::string_to_sign("POST", params.iter()), VECTOR_B_STS);
    let without_empty = VECTOR_B_QUERY.replace("&SignatureType=", "");
    let params =
        Params::from_sources(without_empty.as_bytes(), Some(VECTOR_B_BODY.as_bytes())).unwrap();
    assert_ne!(v1::string_to_sign("POST", params.iter()), VECTOR_B_STS);

    // The same parameters wherever they travel: all in the body (Node), all in the query.
    let everything = format!("{VECTOR_B_QUERY}&{VECTOR_B_BODY}");
    for (query, body) in [("", Some(everything.as_str())), (everything.as_str(), None)] {
        let params = Params::from_sources(query.as_bytes(), body.map(str::as_bytes)).unwrap();
        assert_eq!(v1::string_to_sign("POST", params.iter()), VECTOR_B_STS);
    }

    // The percent-encoding rule of step 3.
    assert_eq!(v1::percent_encode(" *~/:+é"), "%20%2A~%2F%3A%2B%C3%A9");
}

#[test]
fn vector_c_through_the_public_api() {
    let parsed = v3::parse_authorization(&vector_c_authorization()).unwrap();
    assert_eq!(parsed.access_key_id, "testid");
    assert_eq!(parsed.signed_headers.join(";"), VECTOR_C_SIGNED_HEADERS);
    assert_eq!(parsed.signature, VECTOR_C_SIGNATURE);
    let payload = v3::checked_payload_hash(Some(EMPTY_SHA256), b"").unwrap();
    assert_eq!(payload, EMPTY_SHA256);
    let canonical = v3::canonical_request(
        "GET",
        &[("FlowName", "my_flow"), ("ExecutionName", "exec1")],
        &vector_c_headers(),
        &parsed.signed_headers,
        &payload,
    )
    .unwrap();
    assert_eq!(canonical, VECTOR_C_CANONICAL_REQUEST);
    let sts = v3::string_to_sign(&canonical);
    assert_eq!(sts, format!("ACS3-HMAC-SHA256\n{VECTOR_C_CANONICAL_HASH}"));
    assert_eq!(v3::sign("testsecret", &sts), VECTOR_C_SIGNATURE);
    assert!(v3::verify("testsecret", &sts, VECTOR_C_SIGNATURE));
    assert!(!v3::verify("testsecret&", &sts, VECTOR_C_SIGNATURE));
    assert!(v3::checked_payload_hash(Some(EMPTY_SHA256), b"x").is_err());
}

// ---------------------------------------------------------------------------------------
// The vectors, byte for byte, through a live server that knows key `testid` and accepts
// their 2024 timestamps (a clock-skew window of a century).

async fn vector_server() -> (TestServer, Client) {
    let server = TestServer::start_with(Backend::Sqlite, |config| {
        config.access_key_id = Some("testid".into());
        config.access_key_secret = Some("testsecret".into());
        config.max_clock_skew_seconds = 100 * 365 * 24 * 3600;
    })
    .await;
    let client = server.client_with_key("testid", "testsecret");
    client.create_flow("my_flow", FLOW).await;
    (server, client)
}

#[tokio::test]
async fn vector_a_is_accepted_verbatim() {
    let (server, client) = vector_server().await;
    client.start("my_flow", "exec1", "").await;
    let query = format!(
        "{VECTOR_A_QUERY}&Signature={}",
        v1::percent_encode(VECTOR_A_SIGNATURE)
    );
    let answer = client.send_text("GET", Some(&query), None).await;
    assert_envelope(&answer, &server.endpoint);
    let body = answer.ok();
    assert_eq!(body["Name"], "exec1");
    assert_eq!(body["FlowName"], "my_flow");
    server.stop().await;
}

#[tokio::test]
async fn vector_b_is_accepted_verbatim() {
    let (server, client) = vector_server().await;
    let query = format!(
        "{VECTOR_B_QUERY}&Signature={}",
        v1::percent_encode(VECTOR_B_SIGNATURE)
    );
    // The body exactly as on the wire: `+` for spaces, `%2B` for the literal plus.
    assert_eq!(
        encode_form_plus(&pairs(&[
            ("FlowName", "my_flow"),
            ("ExecutionName", "run-1_a"),
            ("Input", VECTOR_B_INPUT),
        ])),
        VECTOR_B_BODY
    );
    let answer = client
        .send_text("POST", Some(&query), Some(VECTOR_B_BODY))
        .await;
    assert_envelope(&answer, &server.endpoint);
    let body = answer.ok();
    assert_eq!(body["Name"], "run-1_a");
    assert_eq!(body["Input"], VECTOR_B_INPUT);
    let described = client.describe("my_flow", "run-1_a").await;
    assert_eq!(described["Input"], VECTOR_B_INPUT);
    server.stop().await;
}

#[tokio::test]
async fn vector_c_is_accepted_verbatim() {
    let (server, client) = vector_server().await;
    client.start("my_flow", "exec1", "").await;
    let mut request = client
        .http
        .get(format!(
            "http://{}/?ExecutionName=exec1&FlowName=my_flow",
            server.endpoint
        ))
        .header("authorization", vector_c_authorization());
    for (name, value) in vector_c_headers() {
        request = request.header(name, value);
    }
    let answer = client.raw(request).await;
    assert_envelope(&answer, VECTOR_C_HOST);
    let body = answer.ok();
    assert_eq!(body["Name"], "exec1");

    // The same request again: its nonce is used now.
    let mut replay = client
        .http
        .get(format!(
            "http://{}/?ExecutionName=exec1&FlowName=my_flow",
            server.endpoint
        ))
        .header("authorization", vector_c_authorization());
    for (name, value) in vector_c_headers() {
        replay = replay.header(name, value);
    }
    let answer = client.raw(replay).await;
    answer.err_msg(
        400,
        "SignatureNonceUsed",
        "Specified signature nonce was used already.",
    );
    assert_envelope(&answer, VECTOR_C_HOST);
    server.stop().await;
}

// ---------------------------------------------------------------------------------------
// V1 requests laid out by hand like each SDK, with fresh timestamps and nonces.

async fn server_with_flow() -> (TestServer, Client) {
    let server = TestServer::start(Backend::Sqlite).await;
    let client = server.client();
    client.create_flow("my_flow", FLOW).await;
    (server, client)
}

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

/// A value with spaces, non-ASCII and every character the encodings treat specially.
const AWKWARD: &str = "héllo wörld * ~ /+ & = % : ? # 中文 \" ' !()";

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

#[tokio::test]
async fn wrong_secret_is_signature_not_match_with_the_string_to_sign_after_a_colon() {
    let (server, _) = server_with_flow().await;
    let client = server.client_with_key(ACCESS_KEY_ID, "not-the-secret");
    let params = client.signed(
        "POST",
        "StartExecution",
        &[("FlowName", "my_flow"), ("Input", r#"{"k": "a b"}"#)],
        |_| {},
    );
    let answer = client.send_form("POST", &params, &[]).await;
    assert_envelope(&answer, &server.endpoint);
    let without_signature: Vec<_> = params
        .iter()
        .filter(|(k, _)| k != "Signature")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let sts = v1::string_to_sign("POST", without_signature);
    answer.err_msg(
        403,
        "SignatureNotMatch",
        &format!("{SIGNATURE_NOT_MATCH} server string to sign is:{sts}"),
    );
    // The old Python SDK reads element 1 of `Message.split(':')` (docs/COMPATIBILITY.md#error-responses).
    assert_eq!(answer.message().split(':').nth(1), Some(sts.as_str()));
    server.stop().await;
}

#[tokio::test]
async fn other_signature_failures() {
    let (server, client) = server_with_flow().await;
    let describe = [("Name", "my_flow")];

    // Signed for GET, sent as POST: the method is part of what is signed.
    let params = client.signed("GET", "DescribeFlow", &describe, |_| {});
    client
        .send_form("POST", &params, &[])
        .await
        .err(403, "SignatureNotMatch");

    // A parameter changed after signing.
    let mut params = client.signed("GET", "DescribeFlow", &describe, |_| {});
    set_param(&mut params, "Name", "other");
    client
        .send_form("GET", &params, &[])
        .await
        .err(403, "SignatureNotMatch");

    // A signature that is not base64, one that is empty-ish, one of another request.
    for bad in ["!!not base64!!", "AAAA", "uOXlWXG5LtpREThTqTTssgtZ1tc="] {
        let mut params = client.signed("GET", "DescribeFlow", &describe, |_| {});
        set_param(&mut params, "Signature", bad);
        let answer = client.send_form("GET", &params, &[]).await;
        answer.err(403, "SignatureNotMatch");
        assert!(
            answer
                .message()
                .starts_with(&format!("{SIGNATURE_NOT_MATCH} server string to sign is:")),
            "{}",
            answer.message()
        );
    }

    // Signed with the secret followed by "&" twice (a client that adds the "&" itself).
    let doubled = server.client_with_key(ACCESS_KEY_ID, &format!("{ACCESS_KEY_SECRET}&"));
    doubled
        .get("DescribeFlow", &describe)
        .await
        .err(403, "SignatureNotMatch");
    server.stop().await;
}

#[tokio::test]
async fn signature_method_other_than_hmac_sha1_is_invalid_argument() {
    let (server, client) = server_with_flow().await;
    for method in ["HMAC-SHA256", "hmac-sha1"] {
        let params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |p| {
            set_param(p, "SignatureMethod", method)
        });
        let answer = client.send_form("GET", &params, &[]).await;
        answer.err_msg(
            400,
            "InvalidArgument",
            &format!("Parameter error: SignatureMethod must be HMAC-SHA1, got '{method}'"),
        );
        assert_envelope(&answer, &server.endpoint);
    }
    server.stop().await;
}

#[tokio::test]
async fn unknown_access_key_id_is_invalid_access_key_id() {
    let (server, _) = server_with_flow().await;
    for key in ["nobody", "TEST-ACCESS-KEY", " test-access-key"] {
        let client = server.client_with_key(key, ACCESS_KEY_SECRET);
        let answer = client.get("DescribeFlow", &[("Name", "my_flow")]).await;
        answer.err_msg(
            403,
            "InvalidAccessKeyID",
            &format!("The AccessKey ID {key} is invalid."),
        );
        assert_envelope(&answer, &server.endpoint);
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------------------
// V3 (ACS3-HMAC-SHA256), signed here with `fnf_server::auth::v3`.

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
