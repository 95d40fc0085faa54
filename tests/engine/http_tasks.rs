//! `HTTP:Request` tasks (docs/COMPATIBILITY.md#state-machine-data-flow) against a local HTTP endpoint: the result
//! object, statuses as data, JSON bodies, and the callback header of WaitForCustomCallback.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::any;
use common::{TestServer, json_field};
use serde_json::{Value, json};

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    headers: HeaderMap,
    body: String,
}

async fn endpoint() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let app = Router::new().fallback(any(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let record = record.clone();
            async move {
                record.lock().unwrap().push(Seen {
                    method: method.to_string(),
                    path: uri.path().to_string(),
                    headers,
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                match uri.path() {
                    "/missing" => (
                        StatusCode::NOT_FOUND,
                        [("content-type", "text/plain")],
                        "no such thing".to_string(),
                    )
                        .into_response(),
                    _ => (
                        StatusCode::OK,
                        [("content-type", "application/json")],
                        json!({"got": String::from_utf8_lossy(&body)}).to_string(),
                    )
                        .into_response(),
                }
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}"), seen)
}

fn http_flow(name: &str, mode: &str, url: &str, method: &str, body: &str) -> String {
    format!(
        "Type: StateMachine\nName: {name}\nSpecVersion: v1\nStartAt: Call\nStates:\n  - Type: Task\n    Name: Call\n    Action: HTTP:Request\n    TaskMode: {mode}\n    Parameters:\n      url: {url}\n      method: {method}\n      headers:\n        X-Custom: yes\n{body}    End: true\n"
    )
}

backend_tests! {
    async fn request_complete_returns_status_headers_and_body(backend) {
        let (base, seen) = endpoint().await;
        let server = TestServer::start(backend).await;
        let client = server.client();
        let body = "      body:\n        who.$: $Input.who\n";
        client.create_flow("post", &http_flow("post", "RequestComplete", &format!("{base}/echo"), "Post", body)).await;
        client.start("post", "run", r#"{"who": "ann"}"#).await;
        let ended = client.wait_end("post", "run", Duration::from_secs(10)).await;
        assert_eq!(ended["Status"], "Succeeded", "{ended}");
        let output = json_field(&ended, "Output");
        assert_eq!(output["Code"], 200);
        // A JSON answer is parsed (docs/COMPATIBILITY.md#q14).
        assert_eq!(output["Body"], json!({"got": "{\"who\":\"ann\"}"}));
        assert_eq!(output["Header"]["content-type"], "application/json");
        let request = seen.lock().unwrap()[0].clone();
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/echo");
        assert_eq!(request.headers["x-custom"], "yes");
        assert_eq!(request.headers["content-type"], "application/json");
        assert!(request.headers.get("x-fnf-http-callback-task-token").is_none());
        assert_eq!(serde_json::from_str::<Value>(&request.body).unwrap(), json!({"who": "ann"}));

        // A non-2xx status is a result, not an error (docs/COMPATIBILITY.md#q14).
        client.create_flow("missing", &http_flow("missing", "RequestComplete", &format!("{base}/missing"), "GET", "")).await;
        client.start("missing", "run", "{}").await;
        let ended = client.wait_end("missing", "run", Duration::from_secs(10)).await;
        assert_eq!(ended["Status"], "Succeeded", "{ended}");
        let output = json_field(&ended, "Output");
        assert_eq!(output["Code"], 404);
        assert_eq!(output["Body"], "no such thing");
        server.stop().await;
    }

    async fn wait_for_custom_callback_sends_the_token_header(backend) {
        let (base, seen) = endpoint().await;
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("hook", &http_flow("hook", "WaitForCustomCallback", &format!("{base}/hook"), "POST", "")).await;
        client.start("hook", "run", "{}").await;
        client.wait_event("hook", "run", "TaskSubmitted", Duration::from_secs(10)).await;
        let token = seen.lock().unwrap()[0].headers["x-fnf-http-callback-task-token"]
            .to_str()
            .unwrap()
            .to_string();
        client
            .call("ReportTaskSucceeded", &[("TaskToken", &token), ("Output", r#"{"hooked": true}"#)])
            .await
            .ok();
        let ended = client.wait_end("hook", "run", Duration::from_secs(10)).await;
        assert_eq!(ended["Status"], "Succeeded", "{ended}");
        assert_eq!(json_field(&ended, "Output"), json!({"hooked": true}));
        server.stop().await;
    }

    async fn an_unreachable_url_fails_the_task(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        // Nothing listens on port 9 of loopback.
        client.create_flow("down", &http_flow("down", "RequestComplete", "http://127.0.0.1:9/x", "GET", "")).await;
        client.start("down", "run", "{}").await;
        let ended = client.wait_end("down", "run", Duration::from_secs(10)).await;
        assert_eq!(ended["Status"], "Failed");
        let events = client.history("down", "run").await;
        let failed = events.iter().find(|e| e["Type"] == "ExecutionFailed").unwrap();
        assert_eq!(json_field(failed, "EventDetail")["error"], "HTTP.RequestFailed");
        server.stop().await;
    }
}
