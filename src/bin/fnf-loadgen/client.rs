//! The two wire protocols the scenarios speak: fnf's signed V1 RPC and the AWS JSON 1.0
//! protocol of Step Functions (for the emulator the figures are compared with).

use std::time::Duration;

use fnf_server::auth::{v1, v3};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// One connection pool and its credentials; cheap to clone (the pool is shared).
#[derive(Clone)]
pub enum Client {
    Fnf(Fnf),
    Aws(Aws),
}

#[derive(Clone)]
pub struct Fnf {
    http: reqwest::Client,
    base: String,
    key: String,
    secret: String,
}

#[derive(Clone)]
pub struct Aws {
    http: reqwest::Client,
    base: String,
    host: String,
    key: String,
    secret: String,
    region: String,
    /// The emulator's default account (ARNs are built from it when no flow was created).
    account: String,
}

/// What a started execution is called in the protocol's later calls.
pub type ExecutionRef = String;

pub fn http(clients: usize) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(clients)
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| e.to_string())
}

impl Client {
    pub fn fnf(http: reqwest::Client, host: &str, key: &str, secret: &str) -> Client {
        Client::Fnf(Fnf {
            http,
            base: format!("http://{host}/"),
            key: key.into(),
            secret: secret.into(),
        })
    }

    pub fn aws(http: reqwest::Client, host: &str, key: &str, secret: &str) -> Client {
        Client::Aws(Aws {
            http,
            base: format!("http://{host}/"),
            host: host.into(),
            key: key.into(),
            secret: secret.into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
        })
    }

    pub fn fnf_ref(&self) -> Option<&Fnf> {
        match self {
            Client::Fnf(fnf) => Some(fnf),
            Client::Aws(_) => None,
        }
    }

    /// The handle later calls use for a flow: its name (fnf) or its ARN (AWS).
    pub fn flow_ref(&self, flow: &str) -> String {
        match self {
            Client::Fnf(_) => flow.into(),
            Client::Aws(aws) => format!(
                "arn:aws:states:{}:{}:stateMachine:{flow}",
                aws.region, aws.account
            ),
        }
    }

    /// Creates (or replaces) a flow; returns its handle.
    pub async fn create_flow(
        &self,
        flow: &str,
        definition: &str,
        express: bool,
    ) -> Result<String, String> {
        match self {
            Client::Fnf(fnf) => {
                let _ = fnf.call("DeleteFlow", &[("Name", flow)]).await;
                let mode = if express { "Express" } else { "Standard" };
                fnf.call(
                    "CreateFlow",
                    &[
                        ("Name", flow),
                        ("Definition", definition),
                        ("Type", "FDL"),
                        ("Description", "benchmark"),
                        ("ExecutionMode", mode),
                    ],
                )
                .await?;
                Ok(flow.into())
            }
            Client::Aws(aws) => {
                let kind = if express { "EXPRESS" } else { "STANDARD" };
                let created = aws
                    .call(
                        "CreateStateMachine",
                        json!({
                            "name": flow,
                            "definition": definition,
                            "roleArn": format!("arn:aws:iam::{}:role/bench", aws.account),
                            "type": kind,
                        }),
                    )
                    .await?;
                created["stateMachineArn"]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("CreateStateMachine answered {created}"))
            }
        }
    }

    /// StartExecution with a fresh name; returns the execution's handle.
    pub async fn start(&self, flow: &str, input: &str) -> Result<ExecutionRef, String> {
        let name = format!("e{}", uuid::Uuid::new_v4().simple());
        match self {
            Client::Fnf(fnf) => {
                fnf.call(
                    "StartExecution",
                    &[
                        ("FlowName", flow),
                        ("ExecutionName", &name),
                        ("Input", input),
                    ],
                )
                .await?;
                Ok(name)
            }
            Client::Aws(aws) => {
                let started = aws
                    .call(
                        "StartExecution",
                        json!({"stateMachineArn": flow, "name": name, "input": input}),
                    )
                    .await?;
                started["executionArn"]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("StartExecution answered {started}"))
            }
        }
    }

    /// StartSyncExecution; Ok only when the execution succeeded.
    pub async fn start_sync(&self, flow: &str, input: &str) -> Result<(), String> {
        match self {
            Client::Fnf(fnf) => {
                let body = fnf
                    .call(
                        "StartSyncExecution",
                        &[("FlowName", flow), ("Input", input)],
                    )
                    .await?;
                if body["Status"] == "Succeeded" {
                    Ok(())
                } else {
                    Err(format!("not succeeded: {body}"))
                }
            }
            Client::Aws(aws) => {
                let body = aws
                    .call(
                        "StartSyncExecution",
                        json!({"stateMachineArn": flow, "input": input}),
                    )
                    .await?;
                if body["status"] == "SUCCEEDED" {
                    Ok(())
                } else {
                    Err(format!("not succeeded: {body}"))
                }
            }
        }
    }

    /// Whether any execution of the flow is still running.
    pub async fn any_running(&self, flow: &str) -> Result<bool, String> {
        let listed = match self {
            Client::Fnf(fnf) => fnf
                .call(
                    "ListExecutions",
                    &[
                        ("FlowName", flow),
                        ("Status", "Running"),
                        ("Limit", "1"),
                        ("MetadataOnly", "true"),
                    ],
                )
                .await?["Executions"]
                .clone(),
            Client::Aws(aws) => aws
                .call(
                    "ListExecutions",
                    json!({"stateMachineArn": flow, "statusFilter": "RUNNING", "maxResults": 1}),
                )
                .await?["executions"]
                .clone(),
        };
        Ok(listed.as_array().is_some_and(|e| !e.is_empty()))
    }

    /// The status of one execution, in the protocol's own spelling.
    pub async fn status(&self, flow: &str, execution: &str) -> Result<String, String> {
        let described = match self {
            Client::Fnf(fnf) => fnf
                .call(
                    "DescribeExecution",
                    &[("FlowName", flow), ("ExecutionName", execution)],
                )
                .await?["Status"]
                .clone(),
            Client::Aws(aws) => aws
                .call("DescribeExecution", json!({"executionArn": execution}))
                .await?["status"]
                .clone(),
        };
        Ok(described.as_str().unwrap_or_default().to_string())
    }

    /// States entered by one execution, counted from its history.
    pub async fn steps_in_history(&self, flow: &str, execution: &str) -> Result<u64, String> {
        match self {
            Client::Fnf(fnf) => {
                let history = fnf
                    .call(
                        "GetExecutionHistory",
                        &[
                            ("FlowName", flow),
                            ("ExecutionName", execution),
                            ("Limit", "999"),
                        ],
                    )
                    .await?;
                Ok(count_events(&history["Events"], "Type", |t| {
                    t == "StepEntered"
                }))
            }
            Client::Aws(aws) => {
                let history = aws
                    .call(
                        "GetExecutionHistory",
                        json!({"executionArn": execution, "maxResults": 1000}),
                    )
                    .await?;
                Ok(count_events(&history["events"], "type", |t| {
                    t.ends_with("StateEntered")
                }))
            }
        }
    }

    /// A counter from the server's Prometheus page (fnf only).
    pub async fn counter(&self, name: &str) -> Option<u64> {
        let Client::Fnf(fnf) = self else { return None };
        let text = fnf
            .http
            .get(format!("{}metrics", fnf.base))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.lines()
            .filter(|line| {
                line.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .map(|v| v as u64)
            .reduce(|a, b| a + b)
    }
}

fn count_events(events: &Value, field: &str, wanted: impl Fn(&str) -> bool) -> u64 {
    events.as_array().map_or(0, |events| {
        events
            .iter()
            .filter(|e| e[field].as_str().is_some_and(&wanted))
            .count() as u64
    })
}

impl Fnf {
    /// One signed V1 RPC call (form body, fresh nonce).
    pub async fn call(&self, action: &str, params: &[(&str, &str)]) -> Result<Value, String> {
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let timestamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let mut all: Vec<(&str, &str)> = vec![
            ("Action", action),
            ("Version", "2019-03-15"),
            ("AccessKeyId", &self.key),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", &nonce),
            ("Timestamp", &timestamp),
            ("Format", "JSON"),
        ];
        all.extend_from_slice(params);
        let signature = v1::sign(
            &self.secret,
            &v1::string_to_sign("POST", all.iter().copied()),
        );
        all.push(("Signature", &signature));
        let body = all
            .iter()
            .map(|(k, v)| format!("{}={}", v1::percent_encode(k), v1::percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let response = self
            .http
            .post(&self.base)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body: Value = response.json().await.map_err(|e| e.to_string())?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(format!("{status}: {body}"))
        }
    }
}

impl Aws {
    /// One AWS JSON 1.0 call with a SigV4 Authorization header.
    pub async fn call(&self, operation: &str, body: Value) -> Result<Value, String> {
        let body = body.to_string();
        let target = format!("AWSStepFunctions.{operation}");
        let now = chrono::Utc::now();
        let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
        let authorization = self.authorization(&amz_date, &target, body.as_bytes());
        let response = self
            .http
            .post(&self.base)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", &target)
            .header("x-amz-date", &amz_date)
            .header("authorization", authorization)
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        let body: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))?
        };
        if status.is_success() {
            Ok(body)
        } else {
            Err(format!("{status}: {body}"))
        }
    }

    /// SigV4 over the headers this client sends (service `states`).
    fn authorization(&self, amz_date: &str, target: &str, body: &[u8]) -> String {
        let date = &amz_date[..8];
        let signed_headers = "content-type;host;x-amz-date;x-amz-target";
        let canonical = format!(
            "POST\n/\n\ncontent-type:application/x-amz-json-1.0\nhost:{}\nx-amz-date:{amz_date}\nx-amz-target:{target}\n\n{signed_headers}\n{}",
            self.host,
            v3::hashed_payload(body)
        );
        let scope = format!("{date}/{}/states/aws4_request", self.region);
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            v3::hashed_payload(canonical.as_bytes())
        );
        let mut key = hmac(format!("AWS4{}", self.secret).as_bytes(), date.as_bytes());
        for part in [self.region.as_str(), "states", "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        let signature: String = hmac(&key, string_to_sign.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            self.key
        )
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}
