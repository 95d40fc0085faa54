//! The scheduler (docs/COMPATIBILITY.md#schedules): schedules fire on time, once per fire even with two replicas
//! on one database, and fires missed while no replica ran come back as one catch-up run.
//!
//! Fires are made due within seconds without any test-only knob: a six-field expression whose
//! Seconds field is a few seconds from now (`S * * * * *`) fires then and every minute after.
//! Tests named `slow_…` wait for a real minute.

use crate::common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{Backend, Client, Storage, TestServer, json_field, test_config};
use fnf_server::schedule::fire_execution_name;
use fnf_server::time::{format_ms, now_ms, parse_rfc3339_ms};
use serde_json::{Value, json};
use sqlx::Connection;

const FLOW: &str = "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: p\n";
const EXPRESS_FLOW: &str = "Type: StateMachine\nName: quick\nSpecVersion: v1\nStartAt: First\nStates:\n  - Type: Pass\n    Name: First\n    End: true\n";

/// An expression that fires at the first whole second at least `lead` from now (and then
/// every minute), with that fire time.
fn cron_firing_in(lead: Duration) -> (String, i64) {
    let at = (now_ms() + lead.as_millis() as i64 + 999) / 1000 * 1000;
    let second = (at / 1000) % 60;
    (format!("{second} * * * * *"), at)
}

async fn create_schedule(
    client: &Client,
    flow: &str,
    name: &str,
    params: &[(&str, &str)],
) -> Value {
    let mut all = vec![("FlowName", flow), ("ScheduleName", name)];
    all.extend_from_slice(params);
    client.call("CreateSchedule", &all).await.ok().clone()
}

/// The flow's executions (all pages), oldest first.
async fn executions(client: &Client, flow: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut params = vec![("FlowName", flow), ("Limit", "100")];
        if let Some(token) = &token {
            params.push(("NextToken", token));
        }
        let page = client.get("ListExecutions", &params).await.ok().clone();
        all.extend(page["Executions"].as_array().cloned().unwrap_or_default());
        match page["NextToken"].as_str() {
            Some(next) => token = Some(next.to_string()),
            None => break,
        }
    }
    all.reverse();
    all
}

/// Waits until the flow has at least `count` executions.
async fn await_executions(
    client: &Client,
    flow: &str,
    count: usize,
    within: Duration,
) -> Vec<Value> {
    let deadline = Instant::now() + within;
    loop {
        let found = executions(client, flow).await;
        if found.len() >= count {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{flow} has {} executions after {within:?}, expected {count}",
            found.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sleeps until the epoch time `at` (ms).
async fn sleep_until(at: i64) {
    let left = (at - now_ms()).max(0) as u64;
    tokio::time::sleep(Duration::from_millis(left)).await;
}

/// The `ExecutionStarted` detail of an execution.
async fn started_detail(client: &Client, flow: &str, execution: &str) -> Value {
    let events = client.history(flow, execution).await;
    assert_eq!(events[0]["Type"], "ExecutionStarted");
    json_field(&events[0], "EventDetail")
}

/// The scheduler's `next_fire_at` of a schedule, read from the database.
async fn next_fire_at(database_url: &str, schedule_id: &str) -> Option<i64> {
    const SQL: &str = "SELECT next_fire_at FROM schedules WHERE id = $1";
    if database_url.starts_with("postgres") {
        let mut db = sqlx::PgConnection::connect(database_url).await.unwrap();
        sqlx::query_scalar(SQL)
            .bind(schedule_id)
            .fetch_one(&mut db)
            .await
            .unwrap()
    } else {
        let mut db = sqlx::SqliteConnection::connect(database_url).await.unwrap();
        sqlx::query_scalar(SQL)
            .bind(schedule_id)
            .fetch_one(&mut db)
            .await
            .unwrap()
    }
}

/// Moves a schedule's next fire, as if time had passed.
async fn set_next_fire_at(database_url: &str, schedule_id: &str, at: i64) {
    const SQL: &str = "UPDATE schedules SET next_fire_at = $1 WHERE id = $2";
    let done = if database_url.starts_with("postgres") {
        let mut db = sqlx::PgConnection::connect(database_url).await.unwrap();
        sqlx::query(SQL)
            .bind(at)
            .bind(schedule_id)
            .execute(&mut db)
            .await
            .unwrap()
            .rows_affected()
    } else {
        let mut db = sqlx::SqliteConnection::connect(database_url).await.unwrap();
        sqlx::query(SQL)
            .bind(at)
            .bind(schedule_id)
            .execute(&mut db)
            .await
            .unwrap()
            .rows_affected()
    };
    assert_eq!(done, 1);
}

fn database_url(server: &TestServer) -> String {
    server
        .storage
        .as_ref()
        .expect("storage")
        .database_url
        .clone()
}

fn time_of(value: &Value, field: &str) -> i64 {
    parse_rfc3339_ms(value[field].as_str().unwrap_or_default())
        .unwrap_or_else(|| panic!("{field} is not a time in {value}"))
}

backend_tests! {
    async fn a_cron_schedule_fires_on_time_once(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let url = database_url(&server);
        client.create_flow("timed", FLOW).await;
        client.create_flow_with("quick", EXPRESS_FLOW, &[("ExecutionMode", "Express")]).await;
        let (cron, fire_at) = cron_firing_in(Duration::from_secs(3));
        let on_time = create_schedule(
            &client,
            "timed",
            "on-time",
            &[("CronExpression", &cron), ("Payload", r#"{"a": 1}"#), ("Enable", "True")],
        )
        .await;
        let on_time_id = on_time["ScheduleId"].as_str().unwrap();
        assert_eq!(next_fire_at(&url, on_time_id).await, Some(fire_at));
        let disabled = create_schedule(&client, "timed", "disabled", &[("CronExpression", &cron)]).await;
        assert_eq!(next_fire_at(&url, disabled["ScheduleId"].as_str().unwrap()).await, None);
        // A fire that cannot start (an Express flow) is skipped, and the schedule moves on.
        let express = create_schedule(&client, "quick", "express", &[("CronExpression", &cron), ("Enable", "True")]).await;

        let found = await_executions(&client, "timed", 1, Duration::from_secs(15)).await;
        sleep_until(fire_at + 2_000).await;
        let found_later = executions(&client, "timed").await;
        assert_eq!(found_later.len(), 1, "{found_later:?}");
        let execution = &found[0];
        let name = execution["Name"].as_str().unwrap();
        // Named after the fire: a UUID, the same on every replica.
        assert_eq!(name, fire_execution_name(on_time_id, fire_at));
        assert!(uuid::Uuid::parse_str(name).is_ok());
        assert_eq!(execution["Input"], r#"{"a": 1}"#);
        let started = time_of(execution, "StartedTime");
        assert!((fire_at..fire_at + 1_500).contains(&started), "started {started}, due {fire_at}");
        assert_eq!(
            started_detail(&client, "timed", name).await,
            json!({
                "input": {"a": 1},
                "schedule": {"name": "on-time", "fireTime": format_ms(fire_at), "catchUp": false},
            })
        );
        let ended = client.wait_end("timed", name, Duration::from_secs(10)).await;
        assert_eq!(ended["Status"], "Succeeded");
        // Both enabled schedules move to their next fire, a minute later.
        assert_eq!(next_fire_at(&url, on_time_id).await, Some(fire_at + 60_000));
        assert_eq!(next_fire_at(&url, express["ScheduleId"].as_str().unwrap()).await, Some(fire_at + 60_000));
        server.stop().await;
    }

    async fn a_fire_already_started_is_not_started_again(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("once", FLOW).await;
        let (cron, fire_at) = cron_firing_in(Duration::from_secs(3));
        let schedule = create_schedule(&client, "once", "guarded", &[("CronExpression", &cron), ("Enable", "True")]).await;
        // Another replica's start of this very fire, which died before moving the schedule on.
        let state = &server.server.as_ref().unwrap().state;
        let flow = state.store.get_flow(common::ACCOUNT_ID, "once").await.unwrap().unwrap();
        let name = fire_execution_name(schedule["ScheduleId"].as_str().unwrap(), fire_at);
        state
            .runtime
            .start_execution(fnf_server::worker::StartRequest {
                flow,
                name: Some(name.clone()),
                input: r#"{"first": true}"#.into(),
                callback_token: None,
                qualifier: None,
                flow_version: None,
                started_by: None,
                test_case: None,
                flow_from_cache: false,
                nonce: None,
            })
            .await
            .unwrap();
        sleep_until(fire_at + 2_000).await;
        let found = executions(&client, "once").await;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0]["Name"], name.as_str());
        assert_eq!(found[0]["Input"], r#"{"first": true}"#);
        let url = database_url(&server);
        assert_eq!(next_fire_at(&url, schedule["ScheduleId"].as_str().unwrap()).await, Some(fire_at + 60_000));
        server.stop().await;
    }

    async fn updates_move_the_next_fire(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let url = database_url(&server);
        client.create_flow("moved", FLOW).await;
        let created = create_schedule(&client, "moved", "every5", &[("CronExpression", "@every 5m"), ("Enable", "True")]).await;
        let id = created["ScheduleId"].as_str().unwrap();
        // `@every Nm` counts from creation.
        let first = next_fire_at(&url, id).await.unwrap();
        assert_eq!(first, time_of(&created, "CreatedTime") + 300_000);
        let update = |params: Vec<(&'static str, &'static str)>| {
            let client = client.clone();
            async move {
                // Each update in a later millisecond, so LastModifiedTime is the update's clock.
                tokio::time::sleep(Duration::from_millis(5)).await;
                let mut all = vec![("FlowName", "moved"), ("ScheduleName", "every5")];
                all.extend(params);
                client.call("UpdateSchedule", &all).await.ok().clone()
            }
        };
        // Payload and Description leave the fire where it is.
        update(vec![("Payload", "{}"), ("Description", "d")]).await;
        assert_eq!(next_fire_at(&url, id).await, Some(first));
        // Disabling drops it; re-enabling counts from now.
        update(vec![("Enable", "False")]).await;
        assert_eq!(next_fire_at(&url, id).await, None);
        let enabled = update(vec![("Enable", "True")]).await;
        let again = next_fire_at(&url, id).await.unwrap();
        assert_eq!(again, time_of(&enabled, "LastModifiedTime") + 300_000);
        assert!(again > first);
        // Enabling what is enabled changes nothing; a new expression counts from now.
        update(vec![("Enable", "True")]).await;
        assert_eq!(next_fire_at(&url, id).await, Some(again));
        let changed = update(vec![("CronExpression", "@every 2m")]).await;
        assert_eq!(next_fire_at(&url, id).await, Some(time_of(&changed, "LastModifiedTime") + 120_000));
        let changed = update(vec![("CronExpression", "CRON_TZ=Asia/Shanghai 0 0 12 * * *")]).await;
        let noon = next_fire_at(&url, id).await.unwrap();
        let since = time_of(&changed, "LastModifiedTime");
        assert!(noon > since && noon <= since + 86_400_000);
        assert_eq!(noon % 86_400_000, 4 * 3_600_000, "noon in Shanghai is 04:00 UTC");
        server.stop().await;
    }

    async fn missed_fires_come_back_as_one_catch_up(backend) {
        let mut server = TestServer::start(backend).await;
        let client = server.client();
        let url = database_url(&server);
        client.create_flow("missed", FLOW).await;
        let schedule = create_schedule(
            &client,
            "missed",
            "minutely",
            &[("CronExpression", "@every 1m"), ("Payload", r#"{"n": 7}"#), ("Enable", "True")],
        )
        .await;
        let id = schedule["ScheduleId"].as_str().unwrap().to_string();
        // Every replica goes down; five fires pass.
        let storage = server.storage.take().expect("storage");
        server.server.take().expect("a server").stop().await;
        let missed_since = now_ms() - 5 * 60_000 - 30_000;
        set_next_fire_at(&url, &id, missed_since).await;

        let before_restart = now_ms();
        let server = TestServer::start_on(storage, test_config(&url)).await;
        let client = server.client();
        let found = await_executions(&client, "missed", 1, Duration::from_secs(10)).await;
        let name = found[0]["Name"].as_str().unwrap().to_string();
        assert_eq!(name, fire_execution_name(&id, missed_since));
        assert_eq!(found[0]["Input"], r#"{"n": 7}"#);
        assert_eq!(
            started_detail(&client, "missed", &name).await,
            json!({
                "input": {"n": 7},
                "schedule": {"name": "minutely", "fireTime": format_ms(missed_since), "catchUp": true},
            })
        );
        // No burst: the next fire counts from the catch-up.
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(executions(&client, "missed").await.len(), 1);
        let next = next_fire_at(&url, &id).await.unwrap();
        let caught_up = time_of(&found[0], "StartedTime");
        assert!(
            (before_restart + 60_000..=caught_up + 60_000).contains(&next),
            "next fire {next}, catch-up at {caught_up}"
        );
        server.stop().await;
    }

    async fn slow_every_1m_fires_a_minute_after_creation(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        client.create_flow("minute", FLOW).await;
        let schedule = create_schedule(&client, "minute", "each-minute", &[("CronExpression", "@every 1m"), ("Enable", "true")]).await;
        let fire_at = time_of(&schedule, "CreatedTime") + 60_000;
        let found = await_executions(&client, "minute", 1, Duration::from_secs(70)).await;
        let name = found[0]["Name"].as_str().unwrap();
        assert_eq!(name, fire_execution_name(schedule["ScheduleId"].as_str().unwrap(), fire_at));
        let started = time_of(&found[0], "StartedTime");
        assert!((fire_at..fire_at + 1_500).contains(&started), "started {started}, due {fire_at}");
        // Started without a payload: the input is empty (docs/COMPATIBILITY.md#executions).
        assert_eq!(found[0]["Input"], "");
        assert_eq!(
            started_detail(&client, "minute", name).await["schedule"],
            json!({"name": "each-minute", "fireTime": format_ms(fire_at), "catchUp": false})
        );
        server.stop().await;
    }
}

/// Two replicas on one Postgres database race for every fire of 20 schedules, twice: each
/// fire starts exactly one execution.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_two_replicas_start_each_fire_exactly_once() {
    const SCHEDULES: usize = 20;
    let storage = Storage::new(Backend::Postgres).await;
    let url = storage.database_url.clone();
    let first = TestServer::start_on(storage, test_config(&url)).await;
    let second = fnf_server::server::start(test_config(&url))
        .await
        .expect("the second replica starts");
    let clients = [
        first.client(),
        Client::new(
            &second.addr.to_string(),
            common::ACCESS_KEY_ID,
            common::ACCESS_KEY_SECRET,
        ),
    ];
    clients[0].create_flow("shared", FLOW).await;
    let (cron, fire_at) = cron_firing_in(Duration::from_secs(4));
    for index in 0..SCHEDULES {
        // Created through both replicas.
        let name = format!("s{index:02}");
        create_schedule(
            &clients[index % 2],
            "shared",
            &name,
            &[("CronExpression", &cron), ("Enable", "True")],
        )
        .await;
    }
    for (round, due) in [fire_at, fire_at + 60_000].into_iter().enumerate() {
        let expected = SCHEDULES * (round + 1);
        await_executions(&clients[1], "shared", expected, Duration::from_secs(70)).await;
        sleep_until(due + 2_000).await;
        let found = executions(&clients[0], "shared").await;
        assert_eq!(found.len(), expected, "round {round}");
        let mut fires: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for execution in &found {
            let name = execution["Name"].as_str().unwrap();
            let detail = started_detail(&clients[0], "shared", name).await;
            let schedule = &detail["schedule"];
            assert_eq!(schedule["catchUp"], false);
            fires
                .entry(schedule["name"].as_str().unwrap().to_string())
                .or_default()
                .push(schedule["fireTime"].as_str().unwrap().to_string());
        }
        assert_eq!(fires.len(), SCHEDULES);
        let expected_times: Vec<String> = (0..=round)
            .map(|r| format_ms(fire_at + 60_000 * r as i64))
            .collect();
        for (schedule, mut times) in fires {
            times.sort();
            assert_eq!(times, expected_times, "fires of {schedule}");
        }
    }
    second.stop().await;
    first.stop().await;
}
