//! A real headless Chromium driven over WebDriver (chromedriver), for the console's browser
//! tests. Each test binary starts its own chromedriver on a free loopback port and ends it
//! by its pid; Chromium gets a fresh profile and the flags that keep it off the network.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long a page may take to show what a step waits for.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> Browser {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(program).exists(),
                "{program} is missing: the browser tests need the Debian packages chromium and \
                 chromium-driver (./scripts/test installs them)"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1400,1100",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(error) => {
                    assert!(
                        Instant::now() < deadline,
                        "no WebDriver session from chromedriver: {error}"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Ends the session, then chromedriver (by its pid).
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("the page loads");
    }

    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(error) => {
                let shown = self
                    .script("return document.body ? document.body.innerText : '';")
                    .await;
                panic!(
                    "no element {css} on {} ({error}); the page shows: {shown}",
                    self.url().await
                )
            }
        }
    }

    pub async fn exists(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_default()
            .is_empty()
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.expect("clicked");
    }

    /// Replaces a field's value.
    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        // `value` set by script: send_keys would type a long definition slowly and trip
        // over auto-indentation.
        self.client
            .execute(
                "arguments[0].value = arguments[1];",
                vec![serde_json::to_value(&field).unwrap(), Value::from(value)],
            )
            .await
            .expect("the field is filled");
    }

    pub async fn url(&self) -> String {
        self.client
            .current_url()
            .await
            .map(|url| url.to_string())
            .unwrap_or_default()
    }

    pub async fn script(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .expect("the script runs")
    }

    /// Waits until `script` returns true.
    pub async fn until(&self, what: &str, script: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if self.script(script).await == Value::Bool(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "gave up waiting for {what} on {}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the element's text contains `expected`.
    pub async fn until_text(&self, css: &str, expected: &str) {
        let script = format!(
            "const e = document.querySelector({}); return !!e && e.textContent.includes({});",
            Value::from(css),
            Value::from(expected)
        );
        self.until(&format!("{css} to show {expected}"), &script)
            .await;
    }

    /// The accessibility basics of the current page: every visible form field has a label,
    /// every control can take the focus. Returns the offenders.
    pub async fn accessibility_problems(&self) -> Vec<String> {
        let found = self
            .script(
                r#"
const problems = [];
for (const field of document.querySelectorAll("input, select, textarea")) {
  if (field.type === "hidden") continue;
  const labelled = (field.id && document.querySelector(`label[for="${CSS.escape(field.id)}"]`))
    || field.closest("label") || field.getAttribute("aria-label") || field.getAttribute("aria-labelledby");
  if (!labelled) problems.push(`no label: ${field.outerHTML.slice(0, 80)}`);
}
for (const control of document.querySelectorAll("a[href], button, input, select, textarea, summary")) {
  if (control.type === "hidden" || control.closest("details:not([open])") && control.tagName !== "SUMMARY") continue;
  if (control.tabIndex < 0 || control.disabled) problems.push(`not focusable: ${control.outerHTML.slice(0, 80)}`);
}
return problems;
"#,
            )
            .await;
        found
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|problem| problem.as_str().map(str::to_string))
            .collect()
    }

    pub async fn screenshot(&self, path: &std::path::Path) {
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(path, png).expect("the screenshot is written");
    }
}
