//! An answer to a call, read off the HTTP response, and the assertions on its shape and on
//! the envelope (docs/COMPATIBILITY.md#responses).

use serde_json::Value;

/// An answer: status and parsed JSON body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["Code"].as_str().unwrap_or("")
    }

    pub fn message(&self) -> &str {
        self.body["Message"].as_str().unwrap_or("")
    }

    /// Asserts success and returns the body.
    #[track_caller]
    pub fn ok(&self) -> &Value {
        assert_eq!(
            self.status, 200,
            "expected success, got {}: {}",
            self.status, self.body
        );
        assert!(
            self.body["RequestId"].is_string(),
            "no RequestId in {}",
            self.body
        );
        assert!(
            self.body.get("Code").is_none(),
            "a Code in a success body: {}",
            self.body
        );
        &self.body
    }

    /// Asserts an error with this status and code.
    #[track_caller]
    pub fn err(&self, status: u16, code: &str) -> &Self {
        assert_eq!(
            (self.status, self.code()),
            (status, code),
            "unexpected answer: {}",
            self.body
        );
        for member in ["RequestId", "HostId", "Code", "Message"] {
            assert!(
                self.body[member].is_string(),
                "{member} is not a string in {}",
                self.body
            );
        }
        self
    }

    /// Asserts an error with this status, code and exact message.
    #[track_caller]
    pub fn err_msg(&self, status: u16, code: &str, message: &str) -> &Self {
        self.err(status, code);
        assert_eq!(
            self.message(),
            message,
            "unexpected message in {}",
            self.body
        );
        self
    }

    /// A response header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub(super) async fn answer(response: reqwest::Response) -> Answer {
    try_answer(response)
        .await
        .unwrap_or_else(|e| panic!("reading the answer: {e}"))
}

/// Fails when the body cannot be read (the server died while answering).
pub(super) async fn try_answer(response: reqwest::Response) -> Result<Answer, reqwest::Error> {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await?;
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("the answer is not JSON (status {status}): {text:?}"));
    Ok(Answer {
        status,
        body,
        headers,
    })
}

/// Parses a JSON text field of a response (Input, Output, EventDetail).
pub fn json_field(value: &Value, field: &str) -> Value {
    let text = value[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} missing in {value}"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{field} is not JSON ({e}): {text}"))
}

/// Asserts a response time: RFC 3339 in UTC with milliseconds and `Z` (docs/COMPATIBILITY.md#responses), e.g.
/// `2024-05-01T12:00:00.123Z`; returns it as epoch milliseconds.
#[track_caller]
pub fn assert_time_ms(value: &Value) -> i64 {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("a time must be a string, got {value}"));
    let shape = regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$").unwrap();
    assert!(
        shape.is_match(text),
        "not RFC 3339 UTC with milliseconds: {text}"
    );
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("unparseable time {text}: {e}"))
        .timestamp_millis()
}

/// Asserts the server's `RequestId` form: an upper-case UUID v4 (docs/COMPATIBILITY.md#responses), echoed in
/// the `x-acs-request-id` header.
#[track_caller]
pub fn assert_request_id(answer: &Answer) {
    let id = answer.body["RequestId"]
        .as_str()
        .unwrap_or_else(|| panic!("no RequestId in {}", answer.body));
    let parsed = uuid::Uuid::parse_str(id).unwrap_or_else(|e| panic!("RequestId {id}: {e}"));
    assert_eq!(parsed.get_version_num(), 4, "RequestId {id}");
    assert_eq!(id, id.to_uppercase(), "RequestId is not upper case");
    assert_eq!(
        answer
            .headers
            .get("x-acs-request-id")
            .and_then(|v| v.to_str().ok()),
        Some(id),
        "x-acs-request-id header"
    );
}

/// Asserts that a JSON object has exactly these members (order ignored).
#[track_caller]
pub fn assert_keys(value: &Value, expected: &[&str]) {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"));
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = expected.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected, "members of {value}");
}

/// Asserts the envelope every answer must have (docs/COMPATIBILITY.md#responses): JSON object, the JSON
/// content type, `x-acs-request-id` equal to the body's `RequestId`; success bodies without
/// `Code`; error bodies with string members and `HostId` equal to the `Host` used.
#[track_caller]
pub fn assert_envelope(answer: &Answer, host: &str) {
    assert!(
        answer.body.is_object(),
        "not a JSON object: {}",
        answer.body
    );
    assert_eq!(
        answer.header("content-type"),
        Some("application/json;charset=utf-8"),
        "content type of {}",
        answer.body
    );
    let request_id = answer.body["RequestId"]
        .as_str()
        .unwrap_or_else(|| panic!("no string RequestId in {}", answer.body));
    assert_eq!(
        answer.headers.get("x-acs-request-id").map(|v| v.as_bytes()),
        Some(request_id.as_bytes()),
        "x-acs-request-id differs from the body's RequestId"
    );
    if answer.status < 400 {
        assert_eq!(
            answer.status, 200,
            "a success is always 200: {}",
            answer.body
        );
        assert!(answer.body.get("Code").is_none(), "Code in {}", answer.body);
    } else {
        for member in ["RequestId", "HostId", "Code", "Message", "Recommend"] {
            assert!(
                answer.body[member].is_string(),
                "{member} is not a string in {}",
                answer.body
            );
        }
        assert_eq!(answer.body["HostId"], host, "HostId of {}", answer.body);
        assert!(!answer.code().is_empty() && !answer.message().is_empty());
    }
}
