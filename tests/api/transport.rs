//! The HTTP layer below the gateway: answers hyper writes itself carry the error envelope
//! like every other answer, bodies must arrive in time, and long polls outlast the
//! header-read timeout. None of it touches the store, so SQLite only.

use crate::common;

use std::time::Duration;

use common::{Backend, TestServer, encode_form, raw_http};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Checks an answer read off the socket: status, JSON envelope, matching request ids.
fn assert_raw_envelope(answer: &common::RawAnswer, host: &str, status: u16, code: &str) -> Value {
    assert_eq!(
        answer.status,
        status,
        "{:?}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(
        answer.header("content-type"),
        Some("application/json;charset=utf-8")
    );
    let body = answer.json();
    assert_eq!(body["Code"], code, "{body}");
    for member in ["RequestId", "HostId", "Code", "Message", "Recommend"] {
        assert!(body[member].is_string(), "{member} in {body}");
    }
    assert_eq!(body["HostId"], host);
    assert_eq!(
        answer.header("x-acs-request-id"),
        body["RequestId"].as_str(),
        "the header and the body name the same request"
    );
    body
}

#[tokio::test]
async fn requests_hyper_cannot_parse_are_answered_with_the_envelope() {
    let server = TestServer::start(Backend::Sqlite).await;
    let host = server.endpoint.clone();
    let head_end = format!("Host: {host}\r\nConnection: close\r\n\r\n");

    // A request target longer than an HTTP URI can be (64 KiB).
    let long = format!("GET /?Pad={} HTTP/1.1\r\n{head_end}", "p".repeat(70_000));
    let body = assert_raw_envelope(
        &raw_http(&host, long.as_bytes()).await,
        &host,
        400,
        "EntityTooLarge",
    );
    assert_eq!(
        body["Message"],
        "The request URI exceeds the maximum allowed size (65534 bytes)."
    );

    // Too many headers, and one header too large.
    let many: String = (0..150).map(|i| format!("X-Header-{i}: 1\r\n")).collect();
    let huge = format!("X-Huge: {}\r\n", "h".repeat(500 * 1024));
    for extra in [many, huge] {
        let request = format!("GET / HTTP/1.1\r\n{extra}{head_end}");
        let body = assert_raw_envelope(
            &raw_http(&host, request.as_bytes()).await,
            &host,
            400,
            "EntityTooLarge",
        );
        assert_eq!(
            body["Message"],
            "The request head exceeds the maximum allowed size (100 headers, 409600 bytes)."
        );
    }

    // Raw bytes that are not HTTP in the request line or a header.
    let mut not_ascii = b"GET /?FlowName=\xff\xfe HTTP/1.1\r\n".to_vec();
    not_ascii.extend_from_slice(head_end.as_bytes());
    let mut control = b"GET / HTTP/1.1\r\nX-Control: a\x01b\r\n".to_vec();
    control.extend_from_slice(head_end.as_bytes());
    for request in [not_ascii, control, b"NOT HTTP AT ALL\r\n\r\n".to_vec()] {
        let body = assert_raw_envelope(
            &raw_http(&host, &request).await,
            &host,
            400,
            "InvalidArgument",
        );
        assert!(
            body["Message"].as_str().is_some_and(
                |m| m.starts_with("Parameter error: the request is not valid HTTP/1.1")
            ),
            "{body}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn other_methods_on_the_operational_paths_get_the_envelope() {
    let server = TestServer::start(Backend::Sqlite).await;
    let host = server.endpoint.clone();
    for (method, path, status, code) in [
        ("POST", "/healthz", 400, "PathNotSupported"),
        ("PUT", "/readyz", 405, "MethodNotAllowed"),
        ("DELETE", "/metrics", 405, "MethodNotAllowed"),
    ] {
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        assert_raw_envelope(
            &raw_http(&host, request.as_bytes()).await,
            &host,
            status,
            code,
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_refused_and_the_connection_closed() {
    let server = TestServer::start_with(Backend::Sqlite, |config| {
        config.body_read_timeout_seconds = 1;
    })
    .await;
    let client = server.client();
    let body = encode_form(&client.signed("POST", "ListFlows", &[], |_| {}));
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n",
        server.endpoint,
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(&server.endpoint)
        .await
        .unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    // Half the body, then nothing.
    stream
        .write_all(&body.as_bytes()[..body.len() / 2])
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .expect("the server answers and closes the connection")
        .expect("reading");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 400 "), "{text}");
    let json = &text[text.find("\r\n\r\n").expect("a head") + 4..];
    let json: Value = serde_json::from_str(json).expect("a JSON body");
    assert_eq!(json["Code"], "InvalidArgument");
    assert_eq!(
        json["Message"],
        "Parameter error: the request body did not arrive within 1 second."
    );
    server.stop().await;
}

#[tokio::test]
async fn long_polls_outlast_the_header_read_timeout() {
    let server = TestServer::start_with(Backend::Sqlite, |config| {
        config.header_read_timeout_seconds = 1;
    })
    .await;
    let client = server.client();
    let flow = "version: v1\ntype: flow\nsteps:\n  - type: wait\n    name: w\n    duration: 3\n";
    client.create_flow("waits", flow).await;
    client.start("waits", "e1", "{}").await;
    // Held for about three seconds on one connection, three times the header timeout.
    let answer = client
        .get(
            "DescribeExecution",
            &[
                ("FlowName", "waits"),
                ("ExecutionName", "e1"),
                ("WaitTimeSeconds", "20"),
            ],
        )
        .await;
    assert_eq!(answer.ok()["Status"], "Succeeded");
    server.stop().await;
}

#[tokio::test]
async fn an_answer_the_client_does_not_read_ends_its_connection() {
    let server = TestServer::start_with(Backend::Sqlite, |config| {
        config.write_timeout_seconds = 1;
    })
    .await;
    let client = server.client();
    client
        .create_flow("echo", &common::pass_state_machine("echo"))
        .await;
    // 100 executions whose input and output are 30 KB each: a 6 MB ListExecutions answer,
    // more than the socket buffers hold.
    let input = serde_json::json!({ "pad": "p".repeat(30_000) }).to_string();
    for index in 0..100 {
        client.start("echo", &format!("e{index}"), &input).await;
    }
    for index in 0..100 {
        client
            .wait_end("echo", &format!("e{index}"), Duration::from_secs(60))
            .await;
    }
    let query = encode_form(&client.signed(
        "GET",
        "ListExecutions",
        &[("FlowName", "echo"), ("Limit", "100")],
        |_| {},
    ));
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket
        .connect(server.endpoint.parse().unwrap())
        .await
        .unwrap();
    let request = format!(
        "GET /?{query} HTTP/1.1\r\nHost: {}\r\n\r\n",
        server.endpoint
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    // Nothing is read until the server has given up on the answer.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while write_timeouts(&client).await < 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the stalled answer was not given up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut received = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut received)).await;
    let text = String::from_utf8_lossy(&received);
    assert!(
        text.starts_with("HTTP/1.1 200 "),
        "{}",
        &text[..text.len().min(200)]
    );
    let head_end = text.find("\r\n\r\n").expect("a head") + 4;
    let length: usize = text[..head_end]
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_string())
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    assert!(
        received.len() - head_end < length,
        "the whole answer arrived: the connection was not cut"
    );
    // Other clients were never affected.
    client.get("DescribeFlow", &[("Name", "echo")]).await.ok();
    server.stop().await;
}

/// `fnf_http_timeouts_total{phase="write"}` from /metrics.
async fn write_timeouts(client: &common::Client) -> u64 {
    let text = client
        .http
        .get(format!("http://{}/metrics", client.endpoint))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("fnf_http_timeouts_total{phase=\"write\"} "))
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}
