//! A client that signs its calls (V1, HMAC-SHA1) and sends them the way the SDKs do.

use std::time::Duration;

use fnf_server::auth::v1;
use serde_json::Value;

use super::Answer;
use super::responses::{answer, try_answer};

/// Signs and sends RPC calls like the SDKs (V1, HMAC-SHA1).
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub endpoint: String,
    pub key: String,
    pub secret: String,
}

impl Client {
    pub fn new(endpoint: &str, key: &str, secret: &str) -> Client {
        Client {
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(90))
                .build()
                .unwrap(),
            endpoint: endpoint.to_string(),
            key: key.to_string(),
            secret: secret.to_string(),
        }
    }

    /// The common parameters of a signed request, with a fresh nonce.
    pub fn common(&self, action: &str) -> Vec<(String, String)> {
        vec![
            ("Action".into(), action.into()),
            ("Version".into(), "2019-03-15".into()),
            ("AccessKeyId".into(), self.key.clone()),
            ("SignatureMethod".into(), "HMAC-SHA1".into()),
            ("SignatureVersion".into(), "1.0".into()),
            (
                "SignatureNonce".into(),
                uuid::Uuid::new_v4().simple().to_string(),
            ),
            (
                "Timestamp".into(),
                chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            ),
            ("Format".into(), "JSON".into()),
        ]
    }

    /// Adds `Signature` over all parameters for `method`.
    pub fn sign(&self, method: &str, params: &mut Vec<(String, String)>) {
        let string_to_sign =
            v1::string_to_sign(method, params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        params.push(("Signature".into(), v1::sign(&self.secret, &string_to_sign)));
    }

    /// POST with every parameter in the form body (like the Node SDK).
    pub async fn call(&self, action: &str, params: &[(&str, &str)]) -> Answer {
        self.try_call(action, params)
            .await
            .expect("the server answers")
    }

    /// `call` that reports a failed connection (a killed server) instead of panicking.
    pub async fn try_call(
        &self,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<Answer, reqwest::Error> {
        let all = self.signed_params("POST", action, params);
        self.try_send_form("POST", &[], &all).await
    }

    /// The common parameters, `params` and the signature for `method`.
    fn signed_params(
        &self,
        method: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Vec<(String, String)> {
        let mut all = self.common(action);
        all.extend(params.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self.sign(method, &mut all);
        all
    }

    /// GET with every parameter in the query (like the SDKs' GET actions).
    pub async fn get(&self, action: &str, params: &[(&str, &str)]) -> Answer {
        self.try_get(action, params)
            .await
            .expect("the server answers")
    }

    pub async fn try_get(
        &self,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<Answer, reqwest::Error> {
        let all = self.signed_params("GET", action, params);
        self.try_send_form("GET", &all, &[]).await
    }

    /// Sends already signed parameters: `query` in the URL, `body` as a form.
    pub async fn send_form(
        &self,
        method: &str,
        query: &[(String, String)],
        body: &[(String, String)],
    ) -> Answer {
        self.try_send_form(method, query, body)
            .await
            .expect("the server answers")
    }

    pub async fn try_send_form(
        &self,
        method: &str,
        query: &[(String, String)],
        body: &[(String, String)],
    ) -> Result<Answer, reqwest::Error> {
        let url = format!("http://{}/?{}", self.endpoint, encode_form(query));
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, url);
        if !body.is_empty() {
            request = request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(encode_form(body));
        }
        try_answer(request.send().await?).await
    }

    /// Sends a raw request (for malformed-input tests).
    pub async fn raw(&self, request: reqwest::RequestBuilder) -> Answer {
        answer(request.send().await.expect("the server answers")).await
    }

    /// Creates a flow; panics unless it worked.
    pub async fn create_flow(&self, name: &str, definition: &str) -> Value {
        self.create_flow_with(name, definition, &[]).await
    }

    pub async fn create_flow_with(
        &self,
        name: &str,
        definition: &str,
        extra: &[(&str, &str)],
    ) -> Value {
        let mut params = vec![
            ("Name", name),
            ("Definition", definition),
            ("Description", "test flow"),
            ("Type", "FDL"),
        ];
        params.extend_from_slice(extra);
        self.call("CreateFlow", &params).await.ok().clone()
    }

    /// Starts an execution; panics unless it worked.
    pub async fn start(&self, flow: &str, name: &str, input: &str) -> Value {
        self.call(
            "StartExecution",
            &[
                ("FlowName", flow),
                ("ExecutionName", name),
                ("Input", input),
            ],
        )
        .await
        .ok()
        .clone()
    }

    pub async fn describe(&self, flow: &str, execution: &str) -> Value {
        self.get(
            "DescribeExecution",
            &[("FlowName", flow), ("ExecutionName", execution)],
        )
        .await
        .ok()
        .clone()
    }
}

/// Form-encodes pairs the way the SDKs do (`%20` for spaces, everything reserved escaped).
pub fn encode_form(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", v1::percent_encode(k), v1::percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}
