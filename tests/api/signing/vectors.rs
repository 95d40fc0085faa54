//! The spec's vectors A, B (docs/COMPATIBILITY.md#v1-signatures) and C (docs/COMPATIBILITY.md#v3-signatures) through the public signing functions
//! and, byte for byte, through a live server.

use super::*;

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
