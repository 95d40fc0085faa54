//! The web console in a real headless Chromium, against a running server on each store:
//! sign in, create a flow from the editor (a validation error first), start an execution and
//! watch its graph change colour live through a Wait, open a step from its node (mouse and
//! keyboard), history and timeline, branch counts of a Parallel, stop a
//! running execution, answer a callback task, follow a subflow and a map run, sign out; a
//! `fnf:Describe*` key sees no write controls; another account sees none of the flows.
//! Accessibility basics (labels, focusable controls) are checked on every page visited.
//!
//! `FNF_CONSOLE_SCREENSHOT=path.png` saves the execution page (the README's picture).

use crate::common;

use std::time::Duration;

use common::browser::Browser;
use common::{ACCESS_KEY_ID, ACCESS_KEY_SECRET, Client, TestServer};

const WITHIN: Duration = Duration::from_secs(30);

const WAITER: &str = "Type: StateMachine
Name: waiter
SpecVersion: v1
StartAt: Hello
States:
  - Type: Pass
    Name: Hello
    Next: Nap
  - Type: Wait
    Name: Nap
    Seconds: 3
    Next: Done
  - Type: Pass
    Name: Done
    End: true
";

const SLEEPER: &str = "Type: StateMachine\nName: sleeper\nSpecVersion: v1\nStartAt: Sleep\nStates:\n  - Type: Wait\n    Name: Sleep\n    Seconds: 300\n    End: true\n";

const CHILD: &str = "Type: StateMachine\nName: child\nSpecVersion: v1\nStartAt: Echo\nStates:\n  - Type: Pass\n    Name: Echo\n    End: true\n";

const PARENT: &str = "Type: StateMachine
Name: parent
SpecVersion: v1
StartAt: Ask
States:
  - Type: Task
    Name: Ask
    Action: FNF:StartExecution
    TaskMode: WaitForCustomCallback
    Parameters:
      resourceArn: acs:fnf:::flow/child
      input:
        token.$: $Context.Current.TaskToken
    End: true
";

const FORKED: &str = "Type: StateMachine
Name: forked
SpecVersion: v1
StartAt: Both
States:
  - Type: Parallel
    Name: Both
    Branches:
      - StartAt: L
        States:
          - Type: Pass
            Name: L
            End: true
      - StartAt: R
        States:
          - Type: Pass
            Name: R
            End: true
    End: true
";

const FAN: &str = "Type: StateMachine
Name: fan
SpecVersion: v1
StartAt: Fan
States:
  - Type: Map
    Name: Fan
    ItemsPath: $Input.items
    ProcessorConfig:
      Mode: Distributed
    Processor:
      StartAt: Work
      States:
        - Type: Pass
          Name: Work
          End: true
    End: true
";

struct Session<'a> {
    browser: &'a Browser,
    base: String,
}

impl Session<'_> {
    async fn open(&self, path: &str) {
        self.browser.goto(&format!("{}{path}", self.base)).await;
    }

    async fn sign_in(&self, key: &str, secret: &str) {
        self.open("/console/sign-in").await;
        self.check_accessibility().await;
        self.browser.fill("#access_key_id", key).await;
        self.browser.fill("#access_key_secret", secret).await;
        self.browser.click("#sign-in").await;
        self.browser.find("#sign-out").await;
    }

    async fn sign_out(&self) {
        self.browser.click("#sign-out").await;
        self.browser.find("#sign-in").await;
        assert!(self.browser.url().await.ends_with("/console/sign-in"));
    }

    async fn check_accessibility(&self) {
        let problems = self.browser.accessibility_problems().await;
        assert!(
            problems.is_empty(),
            "{}: {problems:#?}",
            self.browser.url().await
        );
    }
}

backend_tests! {
    async fn console_in_a_browser(backend) {
        let dir = tempfile::tempdir().unwrap();
        let path = console_credentials(dir.path());
        let server = TestServer::start_with(backend, |config| config.credentials_file = Some(path)).await;
        let client = server.client();
        let browser = Browser::start().await;
        let session = Session { browser: &browser, base: format!("http://{}", server.endpoint) };
        let result = tokio::time::timeout(Duration::from_secs(240), scenario(&session, &client)).await;
        browser.close().await;
        server.stop().await;
        result.expect("the scenario finishes in time");
    }
}

async fn scenario(session: &Session<'_>, client: &Client) {
    let browser = session.browser;
    // Not signed in: every page leads to the sign-in form, then back.
    session.open("/console/flows").await;
    browser.find("#sign-in").await;
    session.sign_in(ACCESS_KEY_ID, ACCESS_KEY_SECRET).await;
    assert!(
        browser.url().await.ends_with("/console/flows"),
        "{}",
        browser.url().await
    );
    session.check_accessibility().await;

    create_from_the_editor(session).await;
    let execution_url = start_and_watch(session).await;
    step_history_and_timeline(session, &execution_url).await;
    stop_a_running_execution(session, client).await;
    answer_a_callback_and_follow_the_subflow(session, client).await;
    follow_a_map_run(session, client).await;
    count_branches(session, client).await;
    session.sign_out().await;
    session.open("/console/flows/waiter").await;
    browser.find("#sign-in").await;

    // A Describe*-only key: a read-only console.
    session.sign_in("reader", "reader-secret").await;
    assert!(
        browser.exists("#not-allowed").await,
        "the list is not allowed"
    );
    assert!(!browser.exists("#create-flow").await);
    session.open("/console/flows/waiter").await;
    browser.find("h1").await;
    for control in ["#start-execution", "#edit-flow", "#delete-flow"] {
        assert!(
            !browser.exists(control).await,
            "{control} shown to a read-only key"
        );
    }
    session.open(&execution_url).await;
    browser.find("#execution-status").await;
    for control in ["#stop-box", "#start-again", "form[action$='/report']"] {
        assert!(
            !browser.exists(control).await,
            "{control} shown to a read-only key"
        );
    }
    session.check_accessibility().await;
    session.sign_out().await;

    // Another account sees none of these flows.
    session.sign_in("other", "other-secret").await;
    assert!(
        !browser.exists("#flows").await,
        "another account's flows are listed"
    );
    session.open("/console/flows/waiter").await;
    browser.until_text("#error-message", "FlowNotExists").await;
    session.open("/console/flows").await;
    session.sign_out().await;
}

async fn create_from_the_editor(session: &Session<'_>) {
    let browser = session.browser;
    browser.click("#create-flow").await;
    session.check_accessibility().await;
    browser.fill("#name", "waiter").await;
    // First a definition CreateFlow refuses: the error shows next to the line it names.
    browser
        .fill(
            "#definition",
            &WAITER.replacen("Next: Nap", "Next: Nowhere", 1),
        )
        .await;
    browser.click("#save-flow").await;
    browser.until_text("#editor-error", "InvalidArgument").await;
    let line = browser.text("#error-line").await;
    assert!(line.contains("Next: Nowhere"), "{line}");
    assert!(line.contains("InvalidArgument"), "{line}");
    browser.fill("#definition", WAITER).await;
    browser.click("#save-flow").await;
    browser.until_text("#definition-text", "Name: Nap").await;
    assert!(
        browser
            .url()
            .await
            .ends_with("/console/flows/waiter/definition")
    );
}

async fn start_and_watch(session: &Session<'_>) -> String {
    let browser = session.browser;
    browser.click("#start-execution").await;
    session.check_accessibility().await;
    // The input is checked before it is sent.
    browser.fill("#input", "[1, 2]").await;
    browser.click("#start").await;
    browser
        .until_text("#input-invalid", "must be a JSON object")
        .await;
    assert!(browser.url().await.ends_with("/start"));
    browser.fill("#name", "first").await;
    browser.fill("#input", r#"{"a": 1}"#).await;
    browser.click("#start").await;
    browser.find("#execution-status").await;
    let url = browser.url().await;
    assert!(
        url.ends_with("/console/flows/waiter/executions/first"),
        "{url}"
    );
    // The page updates itself while the Wait runs: no reload (the marker survives).
    browser.script("window.consoleMarker = 1;").await;
    let status = browser.text("#execution-status").await;
    assert_eq!(status, "Running", "the execution is still in its Wait");
    assert!(node_has(browser, "Hello", "status-succeeded").await);
    assert!(
        node_has(browser, "Nap", "status-running").await,
        "the Wait runs"
    );
    assert!(node_has(browser, "Done", "status-not-reached").await);
    browser
        .until(
            "Nap to turn green",
            &node_class_script("Nap", "status-succeeded"),
        )
        .await;
    browser
        .until(
            "Done to turn green",
            &node_class_script("Done", "status-succeeded"),
        )
        .await;
    browser.until_text("#execution-status", "Succeeded").await;
    browser
        .until_text("#history-rows", "ExecutionSucceeded")
        .await;
    assert_eq!(
        browser.script("return window.consoleMarker;").await,
        1,
        "the page was reloaded"
    );
    browser.until_text("#execution-output", "\"a\": 1").await;
    if let Ok(path) = std::env::var("FNF_CONSOLE_SCREENSHOT") {
        browser.client.set_window_size(1400, 2000).await.unwrap();
        browser.goto(&format!("{url}?step=Nap")).await;
        browser.find("#step-details").await;
        browser.screenshot(std::path::Path::new(&path)).await;
        browser.client.set_window_size(1400, 1100).await.unwrap();
    }
    url.trim_start_matches(&session.base).to_string()
}

/// Whether the graph's node `id` has the class `class`.
async fn node_has(browser: &Browser, id: &str, class: &str) -> bool {
    browser.script(&node_class_script(id, class)).await == serde_json::Value::Bool(true)
}

fn node_class_script(id: &str, class: &str) -> String {
    format!(
        "const n = document.querySelector('[data-pan-zoom] [data-node=\"{id}\"]'); return !!n && n.classList.contains('{class}');"
    )
}

async fn step_history_and_timeline(session: &Session<'_>, execution_url: &str) {
    let browser = session.browser;
    // A click on a node opens its step beside the graph, with a URL of its own.
    session.open(execution_url).await;
    browser.click("[data-pan-zoom] [data-node='Hello']").await;
    browser.until_text("#step-details", "Step Hello").await;
    assert!(
        browser.url().await.ends_with("?step=Hello"),
        "{}",
        browser.url().await
    );
    // The keyboard reaches nodes too.
    let done = browser.find("[data-pan-zoom] [data-node='Done']").await;
    browser
        .client
        .execute(
            "arguments[0].focus();",
            vec![serde_json::to_value(&done).unwrap()],
        )
        .await
        .unwrap();
    done.send_keys("\u{E007}")
        .await
        .expect("Enter on a focused node");
    browser.until_text("#step-details", "Step Done").await;
    browser.client.back().await.unwrap();
    browser.until_text("#step-details", "Step Hello").await;
    session.open(&format!("{execution_url}?step=Hello")).await;
    let step = browser.text("#step-details").await;
    assert!(
        step.contains("Step Hello") && step.contains("succeeded"),
        "{step}"
    );
    assert!(
        browser
            .text("#step-details .step-input")
            .await
            .contains("\"a\": 1")
    );
    assert!(
        browser
            .text("#step-details .step-output")
            .await
            .contains("\"a\": 1")
    );
    session.check_accessibility().await;
    let history = browser.text("#history-table").await;
    for kind in [
        "ExecutionStarted",
        "StepEntered",
        "StepExited",
        "ExecutionSucceeded",
    ] {
        assert!(history.contains(kind), "{kind} missing from {history}");
    }
    let bars = browser
        .script("return document.querySelectorAll('svg.timeline rect.bar').length;")
        .await;
    assert_eq!(bars, 3, "one timeline row per step entry");
    // Times are shown in the viewer's zone, with UTC on hover.
    let title = browser
        .script("return document.querySelector('#history-rows time').title;")
        .await;
    assert!(
        title.as_str().unwrap_or_default().ends_with("Z (UTC)"),
        "{title}"
    );
    browser.click("#failed-only").await;
    browser.find("#all-events").await;
    let rows = browser
        .script("return document.querySelectorAll('#history-rows tr').length;")
        .await;
    assert_eq!(rows, 0, "nothing failed");
    // Deep link to an event, and the back button.
    session.open(&format!("{execution_url}#event-3")).await;
    browser.find("#event-3:target").await;
    browser.client.back().await.unwrap();
    browser.find("#all-events").await;
    // Start again: the form comes filled with this execution's input.
    session.open(execution_url).await;
    browser.click("#start-again").await;
    browser.find("#input").await;
    let input = browser
        .script("return document.getElementById('input').value;")
        .await;
    assert!(
        input.as_str().unwrap_or_default().contains("\"a\": 1"),
        "{input}"
    );
}

async fn stop_a_running_execution(session: &Session<'_>, client: &Client) {
    let browser = session.browser;
    client.create_flow("sleeper", SLEEPER).await;
    client.start("sleeper", "long", "{}").await;
    session.open("/console/flows/sleeper/executions/long").await;
    browser.click("#stop-box summary").await;
    browser.fill("#stop-error", "Halted").await;
    browser
        .fill("#stop-cause", "stopped from the console")
        .await;
    browser.click("#stop-execution").await;
    browser.until_text("#execution-status", "Stopped").await;
    assert_eq!(browser.text("#execution-error").await, "Halted");
    assert_eq!(
        client.describe("sleeper", "long").await["Status"],
        "Stopped"
    );
}

async fn answer_a_callback_and_follow_the_subflow(session: &Session<'_>, client: &Client) {
    let browser = session.browser;
    client.create_flow("child", CHILD).await;
    client.create_flow("parent", PARENT).await;
    client.start("parent", "asks", "{}").await;
    client
        .wait_event("parent", "asks", "TaskSubmitted", WITHIN)
        .await;
    session.open("/console/flows/parent/executions/asks").await;
    let masked = browser.text(".callback code.masked").await;
    assert!(masked.starts_with("••••"), "{masked}");
    session.check_accessibility().await;
    browser
        .fill("#report-output-1", r#"{"approved": true}"#)
        .await;
    browser.click("#report-succeeded-1").await;
    browser.until_text("#execution-status", "Succeeded").await;
    browser.until_text("#execution-output", "approved").await;
    // The subflow's child execution is a link away.
    let link = browser
        .find(".links a[href*='/flows/child/executions/']")
        .await;
    link.click().await.unwrap();
    browser.until_text("#execution-status", "Succeeded").await;
    assert!(
        browser
            .url()
            .await
            .contains("/console/flows/child/executions/")
    );
}

async fn count_branches(session: &Session<'_>, client: &Client) {
    let browser = session.browser;
    client.create_flow("forked", FORKED).await;
    client.start("forked", "both", "{}").await;
    client.wait_end("forked", "both", WITHIN).await;
    session.open("/console/flows/forked/executions/both").await;
    browser.click("[data-pan-zoom] [data-node='Both']").await;
    browser
        .until_text(
            "#step-details .step-children",
            "2 iterations or branches: 2 succeeded",
        )
        .await;
    assert!(node_has(browser, "Both/1/R", "status-succeeded").await);
}

async fn follow_a_map_run(session: &Session<'_>, client: &Client) {
    let browser = session.browser;
    client.create_flow("fan", FAN).await;
    client
        .start(
            "fan",
            "wide",
            r#"{"items": [{"n": 1}, {"n": 2}, {"n": 3}]}"#,
        )
        .await;
    client.wait_end("fan", "wide", WITHIN).await;
    session
        .open("/console/flows/fan/executions/wide?step=Fan")
        .await;
    browser.find("#step-details a[href*='/map-runs/']").await;
    browser.click(".links a[href*='/map-runs/']").await;
    browser.until_text("#map-run-counts", "Succeeded 3").await;
    let children = browser
        .script("return document.querySelectorAll('#children tbody tr').length;")
        .await;
    assert_eq!(children, 3);
    session.check_accessibility().await;
    browser.click("#children tbody tr a").await;
    browser.until_text("#execution-status", "Succeeded").await;
}

fn console_credentials(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("credentials.toml");
    std::fs::write(
        &path,
        format!(
            "[[accounts]]\nid = \"{}\"\n\n[[accounts.keys]]\nid = \"reader\"\nsecret = \"reader-secret\"\nactions = [\"fnf:Describe*\"]\n\n[[accounts]]\nid = \"2222222222222222\"\n\n[[accounts.keys]]\nid = \"other\"\nsecret = \"other-secret\"\n",
            common::ACCOUNT_ID
        ),
    )
    .unwrap();
    path
}
