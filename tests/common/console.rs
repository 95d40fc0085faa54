//! A plain HTTP client of the web console (no browser): signs in with a form like a
//! browser does, keeps the session cookie, and reads CSRF tokens from pages.

use std::collections::BTreeMap;

use reqwest::header::{COOKIE, HOST, LOCATION, SET_COOKIE};

pub struct ConsoleClient {
    pub http: reqwest::Client,
    pub base: String,
    pub cookies: BTreeMap<String, String>,
}

/// A console answer.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Page {
    /// The value of the first `<input name=NAME value=…>`.
    pub fn field(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(self.body[start..end].to_string())
    }
}

impl ConsoleClient {
    pub fn new(endpoint: &str) -> ConsoleClient {
        ConsoleClient {
            http: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: format!("http://{endpoint}"),
            cookies: BTreeMap::new(),
        }
    }

    /// Signs in; panics unless the console accepts the pair.
    pub async fn signed_in(endpoint: &str, key: &str, secret: &str) -> ConsoleClient {
        let mut client = ConsoleClient::new(endpoint);
        let answer = client.sign_in(key, secret).await;
        assert_eq!(answer.status, 303, "sign-in refused: {}", answer.body);
        assert!(client.cookies.contains_key("fnf_console"));
        client
    }

    pub async fn sign_in(&mut self, key: &str, secret: &str) -> Page {
        let form = self.get("/console/sign-in").await;
        let token = form.field("form_token").expect("a sign-in form");
        self.post(
            "/console/sign-in",
            &[
                ("form_token", &token),
                ("access_key_id", key),
                ("access_key_secret", secret),
            ],
        )
        .await
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let request = if self.cookies.is_empty() {
            request
        } else {
            request.header(COOKIE, self.cookie_header())
        };
        let answer = request.send().await.expect("the console answers");
        for set in answer.headers().get_all(SET_COOKIE) {
            let set = set.to_str().unwrap();
            let pair = set.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        Page {
            status: answer.status().as_u16(),
            location: answer
                .headers()
                .get(LOCATION)
                .map(|v| v.to_str().unwrap().to_string()),
            headers: answer.headers().clone(),
            body: answer.text().await.unwrap_or_default(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    pub async fn get_with_host(&mut self, path: &str, host: &str) -> Page {
        let request = self
            .http
            .get(format!("{}{path}", self.base))
            .header(HOST, host);
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = super::encode_form(
            &form
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>(),
        );
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(request).await
    }

    /// A page's CSRF token (every signed-in page carries the sign-out form).
    pub async fn csrf(&mut self) -> String {
        self.get("/console/flows")
            .await
            .field("csrf")
            .expect("a CSRF token on the page")
    }
}
