//! The gate alone, with the V1 and V3 signing test vectors (A and C) and hand-made
//! requests, on a clock set to the vectors' time.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use chrono::{DateTime, TimeDelta, Utc};

use super::*;
use crate::auth::clock::ManualClock;
use crate::auth::credentials::DefaultKey;
use crate::auth::replay::{DEFAULT_MAX_SKEW, MemoryNonces};
use crate::error::ErrorCode;

const SECRET: &str = "testsecret";
const VECTOR_TIME: &str = "2024-05-01T12:00:00Z";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("a valid test time")
        .with_timezone(&Utc)
}

struct Gate {
    auth: Authenticator,
    clock: Arc<ManualClock>,
}

fn gate() -> Gate {
    let credentials = Credentials::build(
        DefaultKey {
            account_id: "1",
            access_key_id: Some("testid"),
            access_key_secret: Some(SECRET),
        },
        None,
    )
    .expect("a valid key");
    let clock = Arc::new(ManualClock::new(at(VECTOR_TIME)));
    let nonces = Arc::new(MemoryNonces::for_skew(DEFAULT_MAX_SKEW, 100));
    Gate {
        auth: Authenticator::new(credentials, nonces, clock.clone(), DEFAULT_MAX_SKEW),
        clock,
    }
}

/// The caller's side of action selection: a few known actions, one version.
fn select(action: &str, version: &str) -> Result<String, ApiError> {
    if !["DescribeExecution", "DescribeFlow", "DeleteFlow"].contains(&action) {
        return Err(ApiError::action_not_supported(action));
    }
    if version != "2019-03-15" {
        return Err(ApiError::api_version_not_supported(version));
    }
    Ok(action.to_string())
}

fn sorted(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    pairs.sort();
    pairs
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).expect("a valid header name"),
            HeaderValue::from_str(value).expect("a valid header value"),
        );
    }
    map
}

async fn authenticate(
    gate: &Gate,
    method: &str,
    headers: &HeaderMap,
    params: &[(String, String)],
    query: &[(String, String)],
) -> Result<String, ApiError> {
    let request = SignedRequest {
        method,
        headers,
        params,
        query,
        body: b"",
    };
    let caller = gate.auth.authenticate(&request, select, |_| false).await?;
    assert_eq!(caller.key.access_key_id(), "testid");
    Ok(caller.action)
}

#[track_caller]
fn assert_error(result: Result<String, ApiError>, code: ErrorCode, message: &str) {
    let error = result.expect_err("the request is refused");
    assert_eq!((error.code, error.message.as_str()), (code, message));
}

/// Signing test vector A with its signature.
fn vector_a() -> Vec<(String, String)> {
    let mut params = sorted(&v1::vector_a::PARAMS);
    params.push(("Signature".into(), v1::vector_a::SIGNATURE.into()));
    params.sort();
    params
}

#[tokio::test]
async fn vector_a_is_accepted_once() {
    let gate = gate();
    let params = vector_a();
    let none = HeaderMap::new();
    let action = authenticate(&gate, "GET", &none, &params, &params).await;
    assert_eq!(action.unwrap(), "DescribeExecution");
    assert_error(
        authenticate(&gate, "GET", &none, &params, &params).await,
        ErrorCode::SignatureNonceUsed,
        "Specified signature nonce was used already.",
    );
}

#[tokio::test]
async fn v1_time_is_the_gate_clock() {
    let gate = gate();
    gate.clock.advance(DEFAULT_MAX_SKEW + TimeDelta::seconds(1));
    let params = vector_a();
    assert_error(
        authenticate(&gate, "GET", &HeaderMap::new(), &params, &params).await,
        ErrorCode::RequestTimeTooSkewed,
        "The difference between the request time and the server time is too large.",
    );
}

#[tokio::test]
async fn v1_never_reads_the_action_from_its_unsigned_headers() {
    let gate = gate();
    let aimed = headers(&[
        ("x-acs-action", "DeleteFlow"),
        ("x-acs-version", "2019-03-15"),
    ]);
    // The signed parameter decides; the header is ignored.
    let params = vector_a();
    let action = authenticate(&gate, "GET", &aimed, &params, &params).await;
    assert_eq!(action.unwrap(), "DescribeExecution");
    // Without the parameters, the headers do not stand in for them.
    for missing in ["Action", "Version"] {
        let params: Vec<_> = vector_a()
            .into_iter()
            .filter(|(name, _)| name != missing)
            .collect();
        assert_error(
            authenticate(&gate, "GET", &aimed, &params, &params).await,
            ErrorCode::MissingRequiredParams,
            &format!("The HTTP query '{missing}' must be specified."),
        );
    }
}

#[tokio::test]
async fn the_action_is_checked_before_the_key() {
    let gate = gate();
    let params: Vec<_> = vector_a()
        .into_iter()
        .map(|(name, value)| match name.as_str() {
            "AccessKeyId" => (name, "nobody".to_string()),
            "Action" => (name, "Foo".to_string()),
            _ => (name, value),
        })
        .collect();
    assert_error(
        authenticate(&gate, "GET", &HeaderMap::new(), &params, &params).await,
        ErrorCode::ActionNotSupported,
        "The requested API operation 'Foo' is incorrect. Please check.",
    );
}

const VECTOR_C_SIGNED: &str =
    "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version";

/// Signing test vector C's headers, with `Authorization` for `signed_headers` and a signature
/// computed over them (the vector's own when `signed_headers` is the vector's).
fn v3_request(action: &str, nonce: &str, signed_headers: &str) -> HeaderMap {
    let mut headers = headers(&[
        ("accept", "application/json"),
        ("host", "fnf.example.test"),
        ("x-acs-action", action),
        ("x-acs-version", "2019-03-15"),
        ("x-acs-date", VECTOR_TIME),
        ("x-acs-signature-nonce", nonce),
        ("x-acs-content-sha256", EMPTY_SHA256),
    ]);
    let all: Vec<(&str, &str)> = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.to_str().unwrap()))
        .collect();
    let signed: Vec<&str> = signed_headers.split(';').collect();
    let canonical =
        v3::canonical_request("GET", &vector_c_query(), &all, &signed, EMPTY_SHA256).unwrap();
    let signature = v3::sign(SECRET, &v3::string_to_sign(&canonical));
    let authorization = format!(
        "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders={signed_headers},Signature={signature}"
    );
    headers.insert(
        "authorization",
        HeaderValue::from_str(&authorization).unwrap(),
    );
    headers
}

fn vector_c_query() -> Vec<(String, String)> {
    sorted(&[("ExecutionName", "exec1"), ("FlowName", "my_flow")])
}

#[tokio::test]
async fn vector_c_is_accepted_once() {
    let gate = gate();
    let headers = v3_request(
        "DescribeExecution",
        "3f0c2a8e5b7d4c1e9a6b8d0f2e4c6a8b",
        VECTOR_C_SIGNED,
    );
    assert_eq!(
        headers["authorization"],
        "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;\
         x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,\
         Signature=e484f67a9422c908eeb5293146d59abee88c92ef2dfcc40dfc01c1de6e426616"
    );
    let query = vector_c_query();
    let action = authenticate(&gate, "GET", &headers, &query, &query).await;
    assert_eq!(action.unwrap(), "DescribeExecution");
    assert_error(
        authenticate(&gate, "GET", &headers, &query, &query).await,
        ErrorCode::SignatureNonceUsed,
        "Specified signature nonce was used already.",
    );
}

#[tokio::test]
async fn a_signature_over_host_alone_selects_nothing() {
    // A request signed with SignedHeaders=host only, sent again with a fresh nonce and date
    // and re-aimed at DeleteFlow. Its signature is valid for what it covers; what it does not
    // cover must not be trusted.
    let gate = gate();
    let query = vector_c_query();
    let aimed = v3_request("DeleteFlow", "a-fresh-nonce", "host");
    assert_error(
        authenticate(&gate, "GET", &aimed, &query, &query).await,
        ErrorCode::IncompleteSignature,
        "The request signature does not conform to Aliyun standards. Header 'x-acs-action' must be signed.",
    );
}

#[tokio::test]
async fn every_header_that_matters_must_be_signed() {
    let gate = gate();
    let query = vector_c_query();
    let incomplete = |header: &str| {
        format!(
            "The request signature does not conform to Aliyun standards. Header '{header}' must be signed."
        )
    };
    // Each of the vector's signed headers left out in turn.
    for left_out in VECTOR_C_SIGNED.split(';') {
        let signed: Vec<&str> = VECTOR_C_SIGNED
            .split(';')
            .filter(|name| *name != left_out)
            .collect();
        let headers = v3_request("DescribeExecution", left_out, &signed.join(";"));
        assert_error(
            authenticate(&gate, "GET", &headers, &query, &query).await,
            ErrorCode::IncompleteSignature,
            &incomplete(left_out),
        );
    }
    // A content type, or any other x-acs-* header, sent but not signed.
    for (name, value) in [
        ("content-type", "application/x-www-form-urlencoded"),
        ("x-acs-security-token", "t"),
    ] {
        let mut headers = v3_request("DescribeExecution", name, VECTOR_C_SIGNED);
        headers.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_static(value),
        );
        assert_error(
            authenticate(&gate, "GET", &headers, &query, &query).await,
            ErrorCode::IncompleteSignature,
            &incomplete(name),
        );
    }
    // Headers outside those rules need not be signed (`accept` never is here).
    let mut headers = v3_request("DescribeExecution", "plain", VECTOR_C_SIGNED);
    headers.insert("user-agent", HeaderValue::from_static("unsigned"));
    let action = authenticate(&gate, "GET", &headers, &query, &query).await;
    assert_eq!(action.unwrap(), "DescribeExecution");
}

#[tokio::test]
async fn a_header_that_selects_the_call_comes_once() {
    let gate = gate();
    let query = vector_c_query();
    let mut headers = v3_request("DescribeExecution", "twice", VECTOR_C_SIGNED);
    headers.append("x-acs-action", HeaderValue::from_static("DeleteFlow"));
    assert_error(
        authenticate(&gate, "GET", &headers, &query, &query).await,
        ErrorCode::InvalidArgument,
        "Parameter error: x-acs-action must be given only once",
    );
}

#[test]
fn policies_limit_actions_and_flows() {
    let file = crate::auth::credentials::CredentialsFile::parse(
        std::path::Path::new("keys.toml"),
        "[[accounts]]\nid = \"1\"\n[[accounts.keys]]\nid = \"k\"\nsecret = \"s\"\n\
         actions = [\"fnf:Describe*\"]\nflows = [\"orders-*\"]\n",
    )
    .unwrap();
    let none = DefaultKey {
        account_id: "1",
        access_key_id: None,
        access_key_secret: None,
    };
    let credentials = Credentials::build(none, Some(file)).unwrap();
    let key = credentials.lookup("k").unwrap();
    assert!(authorize(key, "DescribeFlow", Some("orders-1")).is_ok());
    assert!(authorize(key, "DescribeFlow", None).is_ok());
    for (action, flow) in [
        ("DeleteFlow", Some("orders-1")),
        ("DescribeFlow", Some("billing")),
    ] {
        let error = authorize(key, action, flow).unwrap_err();
        assert_eq!(error.code, ErrorCode::AccessDenied);
    }
}
