//! FlowStore: create (name taken, flow limit), get, update by revision, delete, list, count.

use fnf_server::store::*;

use crate::harness::{claimed, created_flow, started_run, status_of};
use crate::rows::{alias, claim, flow, schedule};

pub async fn flows_are_unique_per_account_and_isolated(store: &dyn Store) {
    let a = flow("acct-a", "orders");
    assert_eq!(
        store.create_flow(&a, i64::MAX).await.unwrap(),
        CreateFlowOutcome::Created
    );
    assert_eq!(
        store
            .create_flow(&flow("acct-a", "orders"), i64::MAX)
            .await
            .unwrap(),
        CreateFlowOutcome::AlreadyExists
    );
    assert_eq!(
        store
            .create_flow(&flow("acct-b", "orders"), i64::MAX)
            .await
            .unwrap(),
        CreateFlowOutcome::Created
    );
    assert_eq!(
        store.get_flow("acct-a", "orders").await.unwrap().unwrap(),
        a
    );
    assert!(store.get_flow("acct-c", "orders").await.unwrap().is_none());
    assert!(store.get_flow("acct-a", "other").await.unwrap().is_none());
    assert_eq!(store.count_flows("acct-a").await.unwrap(), 1);
    assert_eq!(store.count_flows("acct-c").await.unwrap(), 0);
}

pub async fn creating_stops_at_the_flow_limit(store: &dyn Store) {
    for name in ["a", "b"] {
        assert_eq!(
            store.create_flow(&flow("acct", name), 2).await.unwrap(),
            CreateFlowOutcome::Created
        );
    }
    assert_eq!(
        store.create_flow(&flow("acct", "c"), 2).await.unwrap(),
        CreateFlowOutcome::LimitReached
    );
    assert!(
        store.get_flow("acct", "c").await.unwrap().is_none(),
        "nothing written"
    );
    // The limit is per account.
    assert_eq!(
        store.create_flow(&flow("other", "c"), 2).await.unwrap(),
        CreateFlowOutcome::Created
    );
    // Concurrent creations never take the account past the limit.
    let racers: Vec<Flow> = (0..6).map(|i| flow("race", &format!("f{i}"))).collect();
    let outcomes = tokio::join!(
        store.create_flow(&racers[0], 3),
        store.create_flow(&racers[1], 3),
        store.create_flow(&racers[2], 3),
        store.create_flow(&racers[3], 3),
        store.create_flow(&racers[4], 3),
        store.create_flow(&racers[5], 3),
    );
    let outcomes = [
        outcomes.0, outcomes.1, outcomes.2, outcomes.3, outcomes.4, outcomes.5,
    ];
    let created = outcomes
        .iter()
        .filter(|outcome| outcome.as_ref().unwrap() == &CreateFlowOutcome::Created)
        .count();
    assert_eq!(created, 3);
    assert_eq!(store.count_flows("race").await.unwrap(), 3);
}

pub async fn flow_updates_are_optimistic(store: &dyn Store) {
    let mut a = created_flow(store, "acct", "f").await;
    a.description = "new".into();
    a.definition = "changed".into();
    a.modified_at = 2_000;
    a.revision = 2;
    assert!(store.update_flow(&a, 1).await.unwrap());
    // A writer that read revision 1 loses.
    let mut stale = a.clone();
    stale.description = "stale".into();
    assert!(!store.update_flow(&stale, 1).await.unwrap());
    assert_eq!(store.get_flow("acct", "f").await.unwrap().unwrap(), a);
    // An absent flow is not written.
    assert!(!store.update_flow(&flow("acct", "gone"), 1).await.unwrap());
}

pub async fn deleting_a_flow_stops_its_executions(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let execution = started_run(store, &fl, "run", 1_000).await;
    let held = claimed(store, &execution.identity.id, &claim("one", 1_500)).await;
    assert!(store.delete_flow("acct", "f").await.unwrap());
    assert!(!store.delete_flow("acct", "f").await.unwrap());
    assert!(store.get_flow("acct", "f").await.unwrap().is_none());
    let stopped = store
        .stop_executions_of_deleted_flows(Some(&fl.id), 2_000, 10)
        .await
        .unwrap();
    assert_eq!(stopped.len(), 1);
    let after = store
        .get_execution_by_id(&execution.identity.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.status, ExecutionStatus::Stopped);
    assert_eq!(after.stopped_at, Some(2_000));
    assert!(
        store
            .claim_due(&claim("one", 99_000), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // The worker that held it cannot write over the stop.
    assert_eq!(
        store
            .commit(&crate::rows::commit_of(&held, "one", 2_500))
            .await
            .unwrap(),
        CommitOutcome::LostLease
    );
    assert_eq!(
        status_of(store, &execution.identity.id).await,
        ExecutionStatus::Stopped
    );
    // The name is free again, for a flow that shares nothing with the old one.
    assert_eq!(
        store
            .create_flow(&flow("acct", "f"), i64::MAX)
            .await
            .unwrap(),
        CreateFlowOutcome::Created
    );
    assert_eq!(store.count_flows("acct").await.unwrap(), 1);
}

pub async fn deleting_a_flow_removes_its_versions_aliases_and_schedules(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    assert!(matches!(
        store.publish_version(&fl.id, None, 1_000).await.unwrap(),
        PublishOutcome::Published(_)
    ));
    assert_eq!(
        store
            .create_alias(&alias(&fl, "live", &[(1, 100)]))
            .await
            .unwrap(),
        AliasOutcome::Written
    );
    store
        .create_schedule(&schedule(&fl, "hourly", Some(5_000)))
        .await
        .unwrap();
    assert!(store.delete_flow("acct", "f").await.unwrap());
    assert!(store.get_version(&fl.id, 1).await.unwrap().is_none());
    assert!(store.get_alias(&fl.id, "live").await.unwrap().is_none());
    assert!(
        store
            .get_schedule(&fl.id, "hourly")
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.schedule_flow(&fl.id).await.unwrap().is_none());
}

fn flow_query(from: Option<&str>, limit: i64) -> FlowQuery {
    FlowQuery {
        account_id: "acct".into(),
        from_name: from.map(str::to_string),
        resource_group_id: None,
        name_patterns: None,
        limit,
    }
}

fn flow_names(flows: Vec<Flow>) -> Vec<String> {
    flows.into_iter().map(|f| f.name).collect()
}

pub async fn listing_flows_pages_by_name(store: &dyn Store) {
    for name in ["c", "a", "b", "d"] {
        created_flow(store, "acct", name).await;
    }
    created_flow(store, "other", "a0").await;
    assert_eq!(
        flow_names(store.list_flows(&flow_query(None, 2)).await.unwrap()),
        ["a", "b"]
    );
    assert_eq!(
        flow_names(store.list_flows(&flow_query(Some("c"), 10)).await.unwrap()),
        ["c", "d"]
    );
    assert_eq!(
        flow_names(store.list_flows(&flow_query(Some("bb"), 10)).await.unwrap()),
        ["c", "d"]
    );
    assert!(
        store
            .list_flows(&flow_query(Some("e"), 10))
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn listing_flows_filters_by_name_patterns(store: &dyn Store) {
    for name in [
        "a_b1", "axb1", "a_bc", "A_b2", "a_b", "b1", "ordersZ", "orders-9", "other",
    ] {
        created_flow(store, "acct", name).await;
    }
    let list = |patterns: &[&str], from: Option<&str>| FlowQuery {
        name_patterns: Some(patterns.iter().map(|p| p.to_string()).collect()),
        ..flow_query(from, 100)
    };
    let cases: [(&[&str], &[&str]); 7] = [
        // `_` is a literal, case counts, `?` is exactly one character.
        (&["a_b?"], &["a_b1", "a_bc"]),
        (&["a_b*"], &["a_b", "a_b1", "a_bc"]),
        (&["*1"], &["a_b1", "axb1", "b1"]),
        (&["orders-*", "b1"], &["b1", "orders-9"]),
        (&["other"], &["other"]),
        (
            &["*"],
            &[
                "A_b2", "a_b", "a_b1", "a_bc", "axb1", "b1", "orders-9", "ordersZ", "other",
            ],
        ),
        (&[], &[]),
    ];
    for (patterns, expected) in cases {
        let found = flow_names(store.list_flows(&list(patterns, None)).await.unwrap());
        assert_eq!(found, expected, "{patterns:?}");
    }
    let after = flow_names(
        store
            .list_flows(&list(&["a_b*", "*1"], Some("a_b1")))
            .await
            .unwrap(),
    );
    assert_eq!(after, ["a_b1", "a_bc", "axb1", "b1"]);
}

pub async fn listing_flows_filters_by_resource_group(store: &dyn Store) {
    for (name, group) in [
        ("a", Some("rg-1")),
        ("b", None),
        ("c", Some("rg-1")),
        ("d", Some("rg-2")),
    ] {
        let f = Flow {
            resource_group_id: group.map(str::to_string),
            ..flow("acct", name)
        };
        store.create_flow(&f, i64::MAX).await.unwrap();
    }
    let in_group = FlowQuery {
        resource_group_id: Some("rg-1".into()),
        ..flow_query(None, 10)
    };
    assert_eq!(
        flow_names(store.list_flows(&in_group).await.unwrap()),
        ["a", "c"]
    );
}
