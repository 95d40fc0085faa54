//! Helpers for the gateway and signing tests: hand-built V1 requests and V3 signing.

use fnf_server::auth::v1;

use super::responses::answer;
use super::{Answer, Client, encode_form};

/// The `Message` of `SignatureNotMatch` before any debugging suffix (docs/COMPATIBILITY.md#authentication).
pub const SIGNATURE_NOT_MATCH: &str = "The request signature we calculated does not match the signature you provided. Check your access key and signing method.";

/// The `x-acs-content-sha256` of an empty body (docs/COMPATIBILITY.md#v3-signatures).
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Form-encodes pairs like Python's `urlencode` (both Python SDKs' bodies, the new SDK's
/// query): `+` for spaces, `A–Z a–z 0–9 _ . - ~` kept, every other byte as `%XX`.
pub fn encode_form_plus(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", quote_plus(k), quote_plus(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn quote_plus(text: &str) -> String {
    v1::percent_encode(text).replace("%20", "+")
}

/// Owned pairs from borrowed ones.
pub fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Replaces (or adds) a parameter.
pub fn set_param(params: &mut Vec<(String, String)>, name: &str, value: &str) {
    params.retain(|(k, _)| k != name);
    params.push((name.to_string(), value.to_string()));
}

/// Removes a parameter.
pub fn remove_param(params: &mut Vec<(String, String)>, name: &str) {
    params.retain(|(k, _)| k != name);
}

/// The V1 signature of these parameters (all of them, wherever they will be sent).
pub fn v1_signature(secret: &str, method: &str, params: &[(String, String)]) -> String {
    let string_to_sign =
        v1::string_to_sign(method, params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    v1::sign(secret, &string_to_sign)
}

impl Client {
    /// The common parameters plus `params`, changed by `adjust`, then signed for `method`.
    pub fn signed(
        &self,
        method: &str,
        action: &str,
        params: &[(&str, &str)],
        adjust: impl FnOnce(&mut Vec<(String, String)>),
    ) -> Vec<(String, String)> {
        let mut all = self.common(action);
        all.extend(pairs(params));
        adjust(&mut all);
        self.sign(method, &mut all);
        all
    }

    /// Sends raw text: `query` after `/?` (no `?` when `None`) and `body` as a form when
    /// given.
    pub async fn send_text(&self, method: &str, query: Option<&str>, body: Option<&str>) -> Answer {
        let url = match query {
            Some(query) => format!("http://{}/?{query}", self.endpoint),
            None => format!("http://{}/", self.endpoint),
        };
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.to_string());
        }
        self.raw(request).await
    }

    /// A V3 request (docs/COMPATIBILITY.md#v3-signatures) signed with this client's key, like the generic Tea client.
    pub fn v3(&self, method: &str, action: &str) -> V3Request {
        V3Request {
            endpoint: self.endpoint.clone(),
            key: self.key.clone(),
            secret: self.secret.clone(),
            method: method.to_string(),
            query: Vec::new(),
            body: Vec::new(),
            headers: vec![
                ("host".into(), self.endpoint.clone()),
                ("x-acs-action".into(), action.into()),
                ("x-acs-version".into(), "2019-03-15".into()),
                (
                    "x-acs-date".into(),
                    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                ),
                (
                    "x-acs-signature-nonce".into(),
                    uuid::Uuid::new_v4().simple().to_string(),
                ),
                ("accept".into(), "application/json".into()),
            ],
            signed_headers: None,
        }
    }
}

/// A V3 request being built: set its parts, then `authorization()` / `send()`.
#[derive(Clone)]
pub struct V3Request {
    pub endpoint: String,
    pub key: String,
    pub secret: String,
    pub method: String,
    pub query: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Lower-case names; `host` and the `x-acs-*` headers are preset.
    pub headers: Vec<(String, String)>,
    /// The `SignedHeaders` list; by default every header except `accept`, sorted.
    pub signed_headers: Option<Vec<String>>,
}

impl V3Request {
    pub fn query(mut self, params: &[(&str, &str)]) -> Self {
        self.query.extend(pairs(params));
        self
    }

    /// A form body, `%20`-encoded, with its content type and content hash.
    pub fn form(mut self, params: &[(&str, &str)]) -> Self {
        self.body = encode_form(&pairs(params)).into_bytes();
        self.set_header("content-type", "application/x-www-form-urlencoded");
        self
    }

    pub fn set_header(&mut self, name: &str, value: &str) {
        self.headers.retain(|(k, _)| k != name);
        self.headers.push((name.to_string(), value.to_string()));
    }

    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(k, _)| k != name);
    }

    /// Adds `x-acs-content-sha256` for the current body (the SDK always sends it).
    pub fn with_content_hash(mut self) -> Self {
        let hash = fnf_server::auth::v3::hashed_payload(&self.body);
        self.set_header("x-acs-content-sha256", &hash);
        self
    }

    fn signed_header_names(&self) -> Vec<String> {
        self.signed_headers.clone().unwrap_or_else(|| {
            let mut names: Vec<String> = self
                .headers
                .iter()
                .map(|(k, _)| k.clone())
                .filter(|k| k != "accept")
                .collect();
            names.sort();
            names
        })
    }

    /// The canonical request for the current parts.
    pub fn canonical_request(&self) -> String {
        use fnf_server::auth::v3;
        let payload = v3::hashed_payload(&self.body);
        v3::canonical_request(
            &self.method,
            &self.query,
            &self.headers,
            &self.signed_header_names(),
            &payload,
        )
        .expect("every signed header is present")
    }

    /// The `Authorization` header for the current parts.
    pub fn authorization(&self) -> String {
        use fnf_server::auth::v3;
        let string_to_sign = v3::string_to_sign(&self.canonical_request());
        format!(
            "ACS3-HMAC-SHA256 Credential={},SignedHeaders={},Signature={}",
            self.key,
            self.signed_header_names().join(";"),
            v3::sign(&self.secret, &string_to_sign)
        )
    }

    /// Signs and sends.
    pub async fn send(&self) -> Answer {
        let authorization = self.authorization();
        self.send_with_authorization(&authorization).await
    }

    /// Sends with the given `Authorization` (for tampering after signing).
    pub async fn send_with_authorization(&self, authorization: &str) -> Answer {
        let url = format!("http://{}/?{}", self.endpoint, encode_form(&self.query));
        let method = reqwest::Method::from_bytes(self.method.as_bytes()).unwrap();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut request = http.request(method, url).body(self.body.clone());
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        request = request.header("authorization", authorization);
        answer(request.send().await.expect("the server answers")).await
    }
}
