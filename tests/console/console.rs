//! The web console over HTTP, without a browser: sign-in and sessions (shared by replicas,
//! idle and absolute expiry), the Host allow-list, CSRF and origin checks, security headers,
//! and that every write goes through the API's policies (a read-only key is refused with the
//! API's AccessDenied). The browser tests are in console_browser.rs.

use crate::common;

use common::console::ConsoleClient;
use common::{ACCESS_KEY_ID, ACCESS_KEY_SECRET, TestServer, pass_state_machine};

/// An inline Map: 60 iterations, several events each.
const WIDE: &str = "Type: StateMachine\nName: wide\nSpecVersion: v1\nStartAt: Each\nStates:\n  - Type: Map\n    Name: Each\n    ItemsPath: $Input.items\n    Processor:\n      StartAt: Work\n      States:\n        - Type: Pass\n          Name: Work\n          End: true\n    End: true\n";

/// A credentials file with a read-only key in the test account and a key of another account.
pub fn credentials_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("credentials.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[[accounts]]
id = "{account}"

[[accounts.keys]]
id = "reader"
secret = "reader-secret"
actions = ["fnf:Describe*"]

[[accounts]]
id = "2222222222222222"

[[accounts.keys]]
id = "other"
secret = "other-secret"
"#,
            account = common::ACCOUNT_ID
        ),
    )
    .unwrap();
    path
}

backend_tests! {
    async fn sign_in_and_out(backend) {
        let server = TestServer::start(backend).await;
        let mut console = ConsoleClient::new(&server.endpoint);
        let first = console.get("/console/flows").await;
        assert_eq!(first.status, 303);
        assert_eq!(first.location.as_deref(), Some("/console/sign-in?next=%2Fconsole%2Fflows"));
        let refused = console.sign_in(ACCESS_KEY_ID, "wrong secret").await;
        assert_eq!(refused.status, 401);
        assert!(refused.body.contains("do not match"), "{}", refused.body);
        assert!(!console.cookies.contains_key("fnf_console"));
        let accepted = console.sign_in(ACCESS_KEY_ID, ACCESS_KEY_SECRET).await;
        assert_eq!(accepted.status, 303);
        let cookie = accepted
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with("fnf_console="))
            .expect("a session cookie");
        for part in ["HttpOnly", "SameSite=Strict", "Path=/console/"] {
            assert!(cookie.contains(part), "{cookie}");
        }
        let flows = console.get("/console/flows").await;
        assert_eq!(flows.status, 200);
        assert!(flows.body.contains(ACCESS_KEY_ID));
        // The secret is never in a page, and the token never in the store.
        assert!(!flows.body.contains(ACCESS_KEY_SECRET));
        let csrf = flows.field("csrf").unwrap();
        let out = console.post("/console/sign-out", &[("csrf", &csrf)]).await;
        assert_eq!(out.status, 303);
        assert_eq!(console.get("/console/flows").await.status, 303, "signed out");
        server.stop().await;
    }

    async fn sessions_are_shared_by_replicas(backend) {
        let server = TestServer::start(backend).await;
        let database = server.storage.as_ref().unwrap().database_url.clone();
        let replica = fnf_server::server::start(common::test_config(&database)).await.unwrap();
        let mut console = ConsoleClient::signed_in(&server.endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET).await;
        server.client().create_flow("shared", &pass_state_machine("shared")).await;
        // The same cookie on the other replica.
        console.base = format!("http://{}", replica.addr);
        let page = console.get("/console/flows").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("shared"), "{}", page.body);
        replica.stop().await;
        server.stop().await;
    }

    async fn sessions_expire_when_idle(backend) {
        let server = TestServer::start_with(backend, |config| config.console_idle_minutes = 1).await;
        let mut console = ConsoleClient::signed_in(&server.endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET).await;
        assert_eq!(console.get("/console/flows").await.status, 200);
        // Age the session in the store as if a minute had passed without a request.
        let store = server.server.as_ref().unwrap().state.store.clone();
        let hash = fnf_server::console::token_hash(&console.cookies["fnf_console"]);
        let session = store.get_session(&hash).await.unwrap().expect("the session is stored");
        store.delete_session(&hash).await.unwrap();
        let idle = fnf_server::store::ConsoleSession {
            last_seen_at: session.last_seen_at - 61_000,
            created_at: session.created_at - 61_000,
            ..session
        };
        store.create_session(&idle).await.unwrap();
        let page = console.get("/console/flows").await;
        assert_eq!(page.status, 303, "an idle session ends");
        assert!(store.get_session(&hash).await.unwrap().is_none(), "and is deleted");
        server.stop().await;
    }

    async fn foreign_hosts_are_refused(backend) {
        let server = TestServer::start(backend).await;
        let mut console = ConsoleClient::signed_in(&server.endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET).await;
        // A DNS-rebinding page reaches 127.0.0.1 with its own name in Host.
        let port = server.endpoint.rsplit(':').next().unwrap();
        for host in [format!("evil.example:{port}"), "evil.example".to_string()] {
            let page = console.get_with_host("/console/flows", &host).await;
            assert_eq!(page.status, 421, "{host}");
            assert!(!page.body.contains(ACCESS_KEY_ID));
        }
        for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
            assert_eq!(console.get_with_host("/console/flows", &host).await.status, 200, "{host}");
        }
        server.stop().await;
        // A configured name replaces the loopback ones.
        let server = TestServer::start_with(backend, |config| {
            config.console_hosts = vec!["flows.example.com".into()];
        }).await;
        let mut console = ConsoleClient::new(&server.endpoint);
        assert_eq!(console.get_with_host("/console/sign-in", "flows.example.com").await.status, 200);
        assert_eq!(console.get("/console/sign-in").await.status, 421);
        server.stop().await;
    }

    async fn writes_need_the_csrf_token_and_the_same_origin(backend) {
        let server = TestServer::start(backend).await;
        let mut console = ConsoleClient::signed_in(&server.endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET).await;
        let definition = pass_state_machine("forged");
        let fields = |csrf: &'static str| {
            vec![("csrf", csrf), ("name", "forged"), ("type", "FDL"), ("mode", "Standard")]
        };
        let mut form = fields("");
        form.push(("definition", &definition));
        let missing = console.post("/console/flows", &form[1..]).await;
        assert_eq!(missing.status, 403);
        assert!(missing.body.contains("CSRF"), "{}", missing.body);
        let wrong = console.post("/console/flows", &form).await;
        assert_eq!(wrong.status, 403);
        let csrf = console.csrf().await;
        let mut form: Vec<(&str, &str)> = fields("");
        form[0].1 = &csrf;
        form.push(("definition", &definition));
        let request = console
            .http
            .post(format!("{}/console/flows", console.base))
            .header("origin", "http://evil.example")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(common::encode_form(&common::pairs(&form)));
        let foreign = console.send(request).await;
        assert_eq!(foreign.status, 403, "another origin");
        let client = server.client();
        client
            .call("DescribeFlow", &[("Name", "forged")])
            .await
            .err(404, "FlowNotExists");
        let created = console.post("/console/flows", &form).await;
        assert_eq!(created.status, 303, "{}", created.body);
        client.call("DescribeFlow", &[("Name", "forged")]).await.ok();
        server.stop().await;
    }

    async fn every_answer_carries_the_security_headers(backend) {
        let server = TestServer::start(backend).await;
        let mut console = ConsoleClient::signed_in(&server.endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET).await;
        for path in ["/console/sign-in", "/console/flows", "/console/assets/console.js", "/console/flows/none"] {
            let page = console.get(path).await;
            let header = |name: &str| page.headers.get(name).map(|v| v.to_str().unwrap().to_string());
            let csp = header("content-security-policy").unwrap_or_default();
            for directive in ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"] {
                assert!(csp.contains(directive), "{path}: {csp}");
            }
            assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
            assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"), "{path}");
            assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"), "{path}");
        }
        // No page carries an inline script or style.
        let page = console.get("/console/flows").await;
        assert!(!page.body.contains("<script>") && !page.body.contains("style="), "{}", page.body);
        server.stop().await;
    }

    async fn live_updates_follow_an_execution_on_another_replica(backend) {
        let server = TestServer::start(backend).await;
        let database = server.storage.as_ref().unwrap().database_url.clone();
        let replica = fnf_server::server::start(common::test_config(&database)).await.unwrap();
        let client = server.client();
        client.create_flow("napper", &common::wait_state_machine("napper", 2)).await;
        client.start("napper", "n1", "{}").await;
        // The page is open on the replica that does not run the execution.
        let mut console = ConsoleClient::signed_in(&replica.addr.to_string(), ACCESS_KEY_ID, ACCESS_KEY_SECRET).await;
        let cookie = format!("fnf_console={}", console.cookies["fnf_console"]);
        let page = console.get("/console/flows/napper/executions/n1").await;
        assert!(page.body.contains("data-live-url"), "a running execution's page is live");
        let mut stream = console
            .http
            .get(format!("{}/console/flows/napper/executions/n1/live?after=1", console.base))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(stream.headers()["content-type"], "text/event-stream");
        let mut received = String::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !received.contains("ExecutionSucceeded") {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let chunk = tokio::time::timeout(left, stream.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => received.push_str(&String::from_utf8_lossy(&bytes)),
                other => panic!("the stream ended or stalled ({other:?}) after: {received}"),
            }
        }
        assert!(received.contains("event: history"), "{received}");
        assert!(received.contains(r#""status":"Succeeded""#), "{received}");
        assert!(!received.contains(">1</a>"), "events the page had are not sent again: {received}");
        drop(stream);
        replica.stop().await;
        server.stop().await;
    }

    async fn flows_are_searched_by_prefix_and_executions_filtered_by_status(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        for name in ["alpha-1", "alpha-2", "beta"] {
            client.create_flow(name, &pass_state_machine(name)).await;
        }
        client.create_flow("napper", &common::wait_state_machine("napper", 60)).await;
        client.start("alpha-1", "done", "{}").await;
        client.wait_end("alpha-1", "done", std::time::Duration::from_secs(30)).await;
        let mut console = ConsoleClient::signed_in(&server.endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET).await;
        let found = console.get("/console/flows?prefix=alpha").await;
        assert!(found.body.contains("alpha-1") && found.body.contains("alpha-2"), "{}", found.body);
        assert!(!found.body.contains(">beta<"), "{}", found.body);
        let succeeded = console.get("/console/flows/alpha-1?status=Succeeded").await;
        assert!(succeeded.body.contains("executions/done"), "{}", succeeded.body);
        let running = console.get("/console/flows/alpha-1?status=Running").await;
        assert!(running.body.contains("No executions match"), "{}", running.body);
        let bad = console.get("/console/flows/alpha-1?after=yesterday").await;
        assert_eq!(bad.status, 400, "the API's own validation: {}", bad.body);
        assert!(bad.body.contains("InvalidArgument"));
        server.stop().await;
    }

    async fn sign_in_attempts_are_limited_per_key(backend) {
        let server = TestServer::start(backend).await;
        let mut console = ConsoleClient::new(&server.endpoint);
        for attempt in 0..10 {
            assert_eq!(console.sign_in(ACCESS_KEY_ID, "guess").await.status, 401, "attempt {attempt}");
        }
        let limited = console.sign_in(ACCESS_KEY_ID, ACCESS_KEY_SECRET).await;
        assert_eq!(limited.status, 429, "{}", limited.body);
        assert!(limited.body.contains("ResourceThrottled"));
        assert!(!console.cookies.contains_key("fnf_console"), "no session past the limit");
        server.stop().await;
    }

    async fn deleting_needs_the_name_typed(backend) {
        let server = TestServer::start(backend).await;
        server.client().create_flow("doomed", &pass_state_machine("doomed")).await;
        let mut console = ConsoleClient::signed_in(&server.endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET).await;
        let confirm = console.get("/console/flows/doomed/delete").await;
        assert!(confirm.body.contains("cannot be undone"), "{}", confirm.body);
        let csrf = confirm.field("csrf").unwrap();
        let wrong = console.post("/console/flows/doomed/delete", &[("csrf", &csrf), ("confirm", "doom")]).await;
        assert_eq!(wrong.status, 200);
        assert!(wrong.body.contains("Type the flow"), "{}", wrong.body);
        server.client().call("DescribeFlow", &[("Name", "doomed")]).await.ok();
        let deleted = console.post("/console/flows/doomed/delete", &[("csrf", &csrf), ("confirm", "doomed")]).await;
        assert_eq!(deleted.status, 303);
        server.client().call("DescribeFlow", &[("Name", "doomed")]).await.err(404, "FlowNotExists");
        server.stop().await;
    }

    async fn versions_aliases_and_schedules_are_managed(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("managed", &pass_state_machine("managed")).await;
        let mut console = ConsoleClient::signed_in(&server.endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET).await;
        let csrf = console.csrf().await;
        let versions = "/console/flows/managed/versions";
        for _ in 0..2 {
            let published = console.post(versions, &[("csrf", &csrf), ("op", "publish"), ("description", "v")]).await;
            assert_eq!(published.status, 303, "{}", published.body);
        }
        let alias = [
            ("csrf", csrf.as_str()), ("op", "create-alias"), ("name", "live"), ("description", ""),
            ("version1", "2"), ("weight1", "80"), ("version2", "1"), ("weight2", "20"),
        ];
        assert_eq!(console.post(versions, &alias).await.status, 303);
        let page = console.get(versions).await;
        assert!(page.body.contains("version 2: 80 %, version 1: 20 %"), "{}", page.body);
        // The API's validation, shown on the page with its status.
        let mut bad = alias;
        bad[1].1 = "update-alias";
        bad[5].1 = "101";
        let refused = console.post(versions, &bad).await;
        assert_eq!(refused.status, 400);
        assert!(refused.body.contains("InvalidArgument"), "{}", refused.body);
        let described = client.call("DescribeFlowAlias", &[("FlowName", "managed"), ("Name", "live")]).await;
        assert_eq!(described.ok()["Alias"]["RoutingConfigurations"][0]["Weight"], 80);

        let schedules = "/console/flows/managed/schedules";
        let created = console
            .post(schedules, &[
                ("csrf", &csrf), ("op", "create"), ("name", "hourly"), ("cron", "0 0 * * * *"),
                ("payload", "{}"), ("description", "every hour"), ("enable", "on"),
            ])
            .await;
        assert_eq!(created.status, 303, "{}", created.body);
        let page = console.get(schedules).await;
        let fires = page.body.split("Next fires:").nth(1).expect("next fire times");
        let fires = &fires[..fires.find("</p>").unwrap()];
        assert_eq!(fires.matches("<time datetime=").count(), 3, "{fires}");
        let disabled = console
            .post(schedules, &[("csrf", &csrf), ("op", "disable"), ("name", "hourly")])
            .await;
        assert_eq!(disabled.status, 303);
        let page = console.get(schedules).await;
        assert!(page.body.contains("disabled") && !page.body.contains("Next fires:"), "{}", page.body);
        let described = client.call("DescribeSchedule", &[("FlowName", "managed"), ("ScheduleName", "hourly")]).await;
        assert_eq!(described.ok()["Enable"], false);
        let deleted = console.post(schedules, &[("csrf", &csrf), ("op", "delete"), ("name", "hourly")]).await;
        assert_eq!(deleted.status, 303);
        client
            .call("DescribeSchedule", &[("FlowName", "managed"), ("ScheduleName", "hourly")])
            .await
            .err(404, "ScheduleNotExists");
        server.stop().await;
    }

    async fn long_histories_are_paged(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("wide", WIDE).await;
        let items: Vec<String> = (0..60).map(|i| format!("{{\"n\": {i}}}")).collect();
        let input = format!("{{\"items\": [{}]}}", items.join(","));
        client.start("wide", "w1", &input).await;
        client.wait_end("wide", "w1", std::time::Duration::from_secs(30)).await;
        let events = client.history("wide", "w1").await.len();
        assert!(events > 200, "{events} events");
        let mut console = ConsoleClient::signed_in(&server.endpoint, ACCESS_KEY_ID, ACCESS_KEY_SECRET).await;
        let first = console.get("/console/flows/wide/executions/w1").await;
        assert!(first.body.contains(&format!("1–100 of {events}")), "{}", first.body);
        assert!(first.body.contains("id=\"event-100\"") && !first.body.contains("id=\"event-101\""));
        let second = console.get("/console/flows/wide/executions/w1?rows=100").await;
        assert!(second.body.contains(&format!("101–200 of {events}")));
        assert!(second.body.contains("id=\"event-101\""));
        let last = console.get("/console/flows/wide/executions/w1?rows=100000").await;
        assert!(last.body.contains(&format!("of {events}")) && last.body.contains("ExecutionSucceeded"));
        server.stop().await;
    }

    async fn a_read_only_key_cannot_write(backend) {
        let dir = tempfile::tempdir().unwrap();
        let path = credentials_file(dir.path());
        let server = TestServer::start_with(backend, |config| config.credentials_file = Some(path)).await;
        server.client().create_flow("guarded", &pass_state_machine("guarded")).await;
        let mut reader = ConsoleClient::signed_in(&server.endpoint, "reader", "reader-secret").await;
        let flow = reader.get("/console/flows/guarded").await;
        assert_eq!(flow.status, 200);
        assert!(flow.body.contains("read-only"));
        for control in ["start-execution", "edit-flow", "delete-flow"] {
            assert!(!flow.body.contains(control), "{control} rendered for a read-only key");
        }
        let csrf = flow.field("csrf").unwrap();
        let start = reader
            .post("/console/flows/guarded/start", &[("csrf", &csrf), ("input", "{}")])
            .await;
        assert_eq!(start.status, 403);
        assert!(start.body.contains("AccessDenied"), "{}", start.body);
        let delete = reader
            .post("/console/flows/guarded/delete", &[("csrf", &csrf), ("confirm", "guarded")])
            .await;
        assert_eq!(delete.status, 403);
        assert!(delete.body.contains("AccessDenied"), "{}", delete.body);
        server.client().call("DescribeFlow", &[("Name", "guarded")]).await.ok();
        // Another account sees none of this account's flows.
        let mut other = ConsoleClient::signed_in(&server.endpoint, "other", "other-secret").await;
        let list = other.get("/console/flows").await;
        assert!(!list.body.contains("guarded"), "{}", list.body);
        let page = other.get("/console/flows/guarded").await;
        assert_eq!(page.status, 404);
        assert!(page.body.contains("FlowNotExists"), "{}", page.body);
        server.stop().await;
    }
}
