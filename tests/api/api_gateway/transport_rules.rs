//! Transport: methods, paths, content types, size (docs/COMPATIBILITY.md#paths-and-methods).

use super::*;

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
