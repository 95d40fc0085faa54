//! Schedule actions over both backends (docs/COMPATIBILITY.md#schedules, docs/COMPATIBILITY.md#schedules, docs/COMPATIBILITY.md#pagination): the happy path of all five
//! and every error code they answer.

use crate::common;

use common::{Client, TestServer};
use serde_json::Value;

const FLOW: &str = "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: p\n";

async fn create(client: &Client, flow: &str, name: &str, extra: &[(&str, &str)]) -> Value {
    let mut params = vec![("FlowName", flow), ("ScheduleName", name)];
    if !extra.iter().any(|(key, _)| *key == "CronExpression") {
        params.push(("CronExpression", "@every 60m"));
    }
    params.extend_from_slice(extra);
    client.call("CreateSchedule", &params).await.ok().clone()
}

async fn describe(client: &Client, flow: &str, name: &str) -> Value {
    client
        .get(
            "DescribeSchedule",
            &[("FlowName", flow), ("ScheduleName", name)],
        )
        .await
        .ok()
        .clone()
}

fn names(body: &Value) -> Vec<&str> {
    body["Schedules"]
        .as_array()
        .expect("a Schedules array")
        .iter()
        .map(|s| s["ScheduleName"].as_str().unwrap())
        .collect()
}

backend_tests! {
    async fn create_describe_update_list_delete(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("nightly", FLOW).await;

        let created = create(
            &client,
            "nightly",
            "every-night",
            &[
                ("CronExpression", "CRON_TZ=Asia/Shanghai 0 0 2 * * ?"),
                ("Payload", r#"{"mode": "full"}"#),
                ("Enable", "True"),
                ("Description", "the nightly run"),
            ],
        )
        .await;
        assert_eq!(created["ScheduleName"], "every-night");
        assert_eq!(created["CronExpression"], "CRON_TZ=Asia/Shanghai 0 0 2 * * ?");
        assert_eq!(created["Payload"], r#"{"mode": "full"}"#);
        assert_eq!(created["Description"], "the nightly run");
        assert_eq!(created["Enable"], Value::Bool(true));
        let id = created["ScheduleId"].as_str().expect("a ScheduleId");
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
        let created_time = created["CreatedTime"].as_str().unwrap();
        assert!(created_time.ends_with('Z') && created_time.len() == 24, "{created_time}");
        assert_eq!(created["LastModifiedTime"], created["CreatedTime"]);
        assert!(created.get("Code").is_none());

        let described = describe(&client, "nightly", "every-night").await;
        for field in ["ScheduleId", "ScheduleName", "Description", "Payload", "CronExpression", "Enable", "CreatedTime", "LastModifiedTime"] {
            assert_eq!(described[field], created[field], "{field}");
        }

        // Only the parameters present change.
        let updated = client
            .call(
                "UpdateSchedule",
                &[("FlowName", "nightly"), ("ScheduleName", "every-night"), ("Enable", "False")],
            )
            .await
            .ok()
            .clone();
        assert_eq!(updated["Enable"], Value::Bool(false));
        assert_eq!(updated["CronExpression"], created["CronExpression"]);
        assert_eq!(updated["Payload"], created["Payload"]);
        assert_eq!(updated["Description"], created["Description"]);
        assert_eq!(updated["ScheduleId"], created["ScheduleId"]);
        assert_eq!(updated["CreatedTime"], created["CreatedTime"]);
        assert!(updated["LastModifiedTime"].as_str() > created["LastModifiedTime"].as_str());
        let updated = client
            .call(
                "UpdateSchedule",
                &[
                    ("FlowName", "nightly"),
                    ("ScheduleName", "every-night"),
                    ("CronExpression", "@every 15m"),
                    ("Payload", r#"{"mode": "delta"}"#),
                    ("Description", ""),
                    ("Enable", "true"),
                ],
            )
            .await
            .ok()
            .clone();
        assert_eq!(updated["CronExpression"], "@every 15m");
        assert_eq!(updated["Payload"], r#"{"mode": "delta"}"#);
        assert_eq!(updated["Description"], "");
        assert_eq!(updated["Enable"], Value::Bool(true));
        let described = describe(&client, "nightly", "every-night").await;
        assert_eq!(described["CronExpression"], "@every 15m");
        assert_eq!(described["LastModifiedTime"], updated["LastModifiedTime"]);

        // Defaults: disabled, no payload (omitted, never null), empty description.
        let bare = create(&client, "nightly", "bare", &[]).await;
        assert_eq!(bare["Enable"], Value::Bool(false));
        assert!(bare.get("Payload").is_none(), "{bare}");
        assert_eq!(bare["Description"], "");

        let listed = client.get("ListSchedules", &[("FlowName", "nightly")]).await.ok().clone();
        assert_eq!(names(&listed), ["bare", "every-night"]);
        assert!(listed.get("NextToken").is_none());
        assert_eq!(listed["Schedules"][1]["CronExpression"], "@every 15m");
        assert_eq!(listed["Schedules"][1]["Enable"], Value::Bool(true));

        // Node sends DeleteSchedule as GET.
        let deleted = client
            .get("DeleteSchedule", &[("FlowName", "nightly"), ("ScheduleName", "every-night")])
            .await;
        let body = deleted.ok();
        assert_eq!(body.as_object().unwrap().keys().collect::<Vec<_>>(), ["RequestId"]);
        client
            .get("DescribeSchedule", &[("FlowName", "nightly"), ("ScheduleName", "every-night")])
            .await
            .err(404, "ScheduleNotExists");
        let listed = client.get("ListSchedules", &[("FlowName", "nightly")]).await.ok().clone();
        assert_eq!(names(&listed), ["bare"]);
        server.stop().await;
    }

    async fn schedules_belong_to_one_flow_and_go_with_it(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("first", FLOW).await;
        client.create_flow("second", FLOW).await;
        create(&client, "first", "shared-name", &[]).await;
        // Unique per flow only.
        create(&client, "second", "shared-name", &[]).await;
        client.call("DeleteFlow", &[("Name", "first")]).await.ok();
        client
            .get("ListSchedules", &[("FlowName", "first")])
            .await
            .err(404, "FlowNotExists");
        // A re-created flow shares nothing with the old one (docs/COMPATIBILITY.md#flows).
        client.create_flow("first", FLOW).await;
        let listed = client.get("ListSchedules", &[("FlowName", "first")]).await.ok().clone();
        assert_eq!(names(&listed), Vec::<&str>::new());
        create(&client, "first", "shared-name", &[]).await;
        describe(&client, "second", "shared-name").await;
        server.stop().await;
    }

    async fn pagination_follows_names(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("paged", FLOW).await;
        for name in ["s4", "s1", "s3", "s5", "s2"] {
            create(&client, "paged", name, &[]).await;
        }
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut params = vec![("FlowName", "paged"), ("Limit", "2")];
            if let Some(token) = &token {
                params.push(("NextToken", token));
            }
            let page = client.get("ListSchedules", &params).await.ok().clone();
            pages += 1;
            seen.extend(names(&page).into_iter().map(str::to_string));
            match page["NextToken"].as_str() {
                Some(next) => token = Some(next.to_string()),
                None => break,
            }
        }
        assert_eq!(seen, ["s1", "s2", "s3", "s4", "s5"]);
        assert_eq!(pages, 3);
        // The token is the name of the next page's first item.
        let first = client
            .get("ListSchedules", &[("FlowName", "paged"), ("Limit", "2")])
            .await
            .ok()
            .clone();
        assert_eq!(first["NextToken"], "s3");
        // A token that designates no schedule starts after where it would sort.
        let page = client
            .get("ListSchedules", &[("FlowName", "paged"), ("NextToken", "s25")])
            .await
            .ok()
            .clone();
        assert_eq!(names(&page), ["s3", "s4", "s5"]);
        let page = client
            .get("ListSchedules", &[("FlowName", "paged"), ("NextToken", "zzz")])
            .await
            .ok()
            .clone();
        assert_eq!(page["Schedules"], Value::Array(vec![]));
        // Limit bounds (1–1000) and the default (60).
        let all = client
            .get("ListSchedules", &[("FlowName", "paged"), ("Limit", "1000")])
            .await
            .ok()
            .clone();
        assert_eq!(names(&all).len(), 5);
        for bad in ["0", "1001", "ten", "-1"] {
            let answer = client.get("ListSchedules", &[("FlowName", "paged"), ("Limit", bad)]).await;
            answer.err(400, "InvalidArgument");
            assert!(answer.message().starts_with("Parameter error: Limit must be an integer between 1 and 1000"), "{}", answer.message());
        }
        server.stop().await;
    }

    async fn every_error_code(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("known", FLOW).await;
        create(&client, "known", "taken", &[]).await;

        // FlowNotExists, for each action.
        let missing_flow = [("FlowName", "nowhere"), ("ScheduleName", "taken")];
        for action in ["UpdateSchedule", "DeleteSchedule", "DescribeSchedule", "ListSchedules"] {
            let answer = client.call(action, &missing_flow).await;
            answer.err(404, "FlowNotExists");
            assert_eq!(answer.message(), "Flow nowhere does not exist.");
        }
        let answer = client
            .call("CreateSchedule", &[("FlowName", "nowhere"), ("ScheduleName", "s"), ("CronExpression", "@every 5m")])
            .await;
        answer.err(404, "FlowNotExists");
        assert_eq!(answer.message(), "Flow nowhere does not exist.");

        // ScheduleAlreadyExists.
        let answer = client
            .call("CreateSchedule", &[("FlowName", "known"), ("ScheduleName", "taken"), ("CronExpression", "@every 5m")])
            .await;
        answer.err(409, "ScheduleAlreadyExists");
        assert_eq!(answer.message(), "The schedule taken for flow known already exists.");

        // ScheduleNotExists, for each action that names one.
        let unknown = [("FlowName", "known"), ("ScheduleName", "ghost")];
        for action in ["UpdateSchedule", "DeleteSchedule", "DescribeSchedule"] {
            let answer = client.call(action, &unknown).await;
            answer.err(404, "ScheduleNotExists");
            assert_eq!(answer.message(), "The schedule ghost for flow known does not exist.");
        }

        // MissingRequiredParams.
        for (action, params, missing) in [
            ("CreateSchedule", vec![("ScheduleName", "a"), ("CronExpression", "@every 5m")], "FlowName"),
            ("CreateSchedule", vec![("FlowName", "known"), ("CronExpression", "@every 5m")], "ScheduleName"),
            ("CreateSchedule", vec![("FlowName", "known"), ("ScheduleName", "a")], "CronExpression"),
            ("CreateSchedule", vec![("FlowName", "known"), ("ScheduleName", "a"), ("CronExpression", "")], "CronExpression"),
            ("UpdateSchedule", vec![("FlowName", "known")], "ScheduleName"),
            ("DeleteSchedule", vec![("ScheduleName", "taken")], "FlowName"),
            ("DescribeSchedule", vec![("FlowName", "known")], "ScheduleName"),
            ("ListSchedules", vec![], "FlowName"),
        ] {
            let answer = client.call(action, &params).await;
            answer.err(400, "MissingRequiredParams");
            assert_eq!(answer.message(), format!("The HTTP query '{missing}' must be specified."));
        }

        // InvalidArgument: names, cron expressions, Enable.
        let answer = client
            .call("CreateSchedule", &[("FlowName", "known"), ("ScheduleName", "1st"), ("CronExpression", "@every 5m")])
            .await;
        answer.err(400, "InvalidArgument");
        assert_eq!(answer.message(), "Parameter error: ScheduleName '1st' must match ^[A-Za-z_][A-Za-z0-9_-]{0,127}$");
        let too_long = "s".repeat(129);
        client
            .call("CreateSchedule", &[("FlowName", "known"), ("ScheduleName", &too_long), ("CronExpression", "@every 5m")])
            .await
            .err(400, "InvalidArgument");
        for (cron, message) in [
            ("0 0 12 * * ? 2025", "Parameter error: CronExpression must be @every <N>m or six fields (Seconds Minutes Hours Day-of-month Month Day-of-week), got 7 fields"),
            ("*/10 * * * * *", "Parameter error: CronExpression Seconds must be a single number 0-59 (a schedule fires at most once a minute), got '*/10'"),
            ("0 0 0 L * ?", "Parameter error: CronExpression Day-of-month value must be a number, got 'L'"),
            ("@every 30s", "Parameter error: CronExpression @every must be followed by a space and a positive number of minutes, e.g. @every 5m"),
            ("CRON_TZ=Nowhere/Land 0 0 12 * * *", "Parameter error: CronExpression CRON_TZ names no IANA time zone: 'Nowhere/Land'"),
        ] {
            let answer = client
                .call("CreateSchedule", &[("FlowName", "known"), ("ScheduleName", "a"), ("CronExpression", cron)])
                .await;
            answer.err(400, "InvalidArgument");
            assert_eq!(answer.message(), message, "{cron}");
            let answer = client
                .call("UpdateSchedule", &[("FlowName", "known"), ("ScheduleName", "taken"), ("CronExpression", cron)])
                .await;
            answer.err(400, "InvalidArgument");
            assert_eq!(answer.message(), message, "{cron}");
        }
        for bad in ["yes", "1", "on"] {
            let answer = client
                .call("CreateSchedule", &[("FlowName", "known"), ("ScheduleName", "a"), ("CronExpression", "@every 5m"), ("Enable", bad)])
                .await;
            answer.err(400, "InvalidArgument");
            assert_eq!(answer.message(), format!("Parameter error: Enable must be true or false, got '{bad}'"));
            client
                .call("UpdateSchedule", &[("FlowName", "known"), ("ScheduleName", "taken"), ("Enable", bad)])
                .await
                .err(400, "InvalidArgument");
        }
        // Parameters are checked before the flow is looked up (page order).
        client
            .call("CreateSchedule", &[("FlowName", "nowhere"), ("ScheduleName", "a"), ("CronExpression", "* * * * * *")])
            .await
            .err(400, "InvalidArgument");
        // Nothing was written by the failed calls.
        let listed = client.get("ListSchedules", &[("FlowName", "known")]).await.ok().clone();
        assert_eq!(names(&listed), ["taken"]);
        assert_eq!(describe(&client, "known", "taken").await["CronExpression"], "@every 60m");
        server.stop().await;
    }

    async fn enable_accepts_every_spelling(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("toggles", FLOW).await;
        for (index, (given, expected)) in [("True", true), ("False", false), ("true", true), ("false", false), ("TRUE", true)]
            .into_iter()
            .enumerate()
        {
            let name = format!("t{index}");
            let created = create(&client, "toggles", &name, &[("Enable", given)]).await;
            assert_eq!(created["Enable"], Value::Bool(expected), "{given}");
            let flipped = if expected { "False" } else { "True" };
            let updated = client
                .call("UpdateSchedule", &[("FlowName", "toggles"), ("ScheduleName", &name), ("Enable", flipped)])
                .await
                .ok()
                .clone();
            assert_eq!(updated["Enable"], Value::Bool(!expected), "{flipped}");
        }
        server.stop().await;
    }

    async fn payload_is_a_json_object_of_at_most_32_kib(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("loads", FLOW).await;
        create(&client, "loads", "target", &[]).await;
        for (payload, message) in [
            ("[1, 2]", "Parameter error: Payload must be a JSON object"),
            ("\"text\"", "Parameter error: Payload must be a JSON object"),
            ("42", "Parameter error: Payload must be a JSON object"),
        ] {
            let answer = client
                .call("CreateSchedule", &[("FlowName", "loads"), ("ScheduleName", "p"), ("CronExpression", "@every 5m"), ("Payload", payload)])
                .await;
            answer.err(400, "InvalidArgument");
            assert_eq!(answer.message(), message);
            let answer = client
                .call("UpdateSchedule", &[("FlowName", "loads"), ("ScheduleName", "target"), ("Payload", payload)])
                .await;
            answer.err(400, "InvalidArgument");
            assert_eq!(answer.message(), message);
        }
        let answer = client
            .call("CreateSchedule", &[("FlowName", "loads"), ("ScheduleName", "p"), ("CronExpression", "@every 5m"), ("Payload", "{not json")])
            .await;
        answer.err(400, "InvalidArgument");
        assert!(answer.message().starts_with("Parameter error: Payload must be a JSON object: "), "{}", answer.message());

        // 32 768 bytes is the limit; one more is too large.
        let filler = |total: usize| format!(r#"{{"k":"{}"}}"#, "x".repeat(total - 8));
        assert_eq!(filler(32 * 1024).len(), 32 * 1024);
        let largest = filler(32 * 1024);
        let created = create(&client, "loads", "largest", &[("Payload", &largest)]).await;
        assert_eq!(created["Payload"].as_str().map(str::len), Some(32 * 1024));
        let too_large = filler(32 * 1024 + 1);
        for answer in [
            client
                .call("CreateSchedule", &[("FlowName", "loads"), ("ScheduleName", "p"), ("CronExpression", "@every 5m"), ("Payload", &too_large)])
                .await,
            client
                .call("UpdateSchedule", &[("FlowName", "loads"), ("ScheduleName", "target"), ("Payload", &too_large)])
                .await,
        ] {
            answer.err(400, "EntityTooLarge");
            assert_eq!(answer.message(), "The payload size exceeds maximum allowed size (32768 bytes).");
        }
        // A present empty Payload clears it.
        create(&client, "loads", "cleared", &[("Payload", "{}")]).await;
        let cleared = client
            .call("UpdateSchedule", &[("FlowName", "loads"), ("ScheduleName", "cleared"), ("Payload", "")])
            .await
            .ok()
            .clone();
        assert!(cleared.get("Payload").is_none(), "{cleared}");
        server.stop().await;
    }

    async fn concurrent_updates_conflict_instead_of_losing_one(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("raced", FLOW).await;
        create(&client, "raced", "contended", &[]).await;
        let updates: Vec<_> = (0..16)
            .map(|i| {
                let client = client.clone();
                tokio::spawn(async move {
                    let description = format!("writer {i}");
                    client
                        .call("UpdateSchedule", &[("FlowName", "raced"), ("ScheduleName", "contended"), ("Description", &description)])
                        .await
                })
            })
            .collect();
        let mut answers = Vec::new();
        for update in updates {
            answers.push(update.await.expect("the update finishes"));
        }
        let mut winners = 0;
        for answer in &answers {
            if answer.status == 200 {
                winners += 1;
            } else {
                answer.err(409, "ConcurrentUpdateError");
                assert_eq!(answer.message(), "Update conflict, please retry.");
            }
        }
        assert!(winners >= 1);

        // The revision check itself, deterministically: a write over a stale revision fails.
        let store = &server.server.as_ref().unwrap().state.store;
        let flow = store.get_flow(common::ACCOUNT_ID, "raced").await.unwrap().unwrap();
        let current = store.get_schedule(&flow.id, "contended").await.unwrap().unwrap();
        let mut stale = current.clone();
        stale.description = "stale".into();
        stale.revision = current.revision + 1;
        assert!(!store.update_schedule(&stale, current.revision - 1, false).await.unwrap());
        assert!(store.update_schedule(&stale, current.revision, false).await.unwrap());
        assert_eq!(describe(&client, "raced", "contended").await["Description"], "stale");
        server.stop().await;
    }
}
