//! VersionStore: published versions and the aliases that route to them.

use fnf_server::store::*;

use crate::harness::created_flow;
use crate::rows::{PASS_DEFINITION, alias};

async fn published(
    store: &dyn Store,
    flow: &Flow,
    description: Option<&str>,
    now: i64,
) -> FlowVersion {
    match store
        .publish_version(&flow.id, description, now)
        .await
        .unwrap()
    {
        PublishOutcome::Published(version) => version,
        other => panic!("expected a version, got {other:?}"),
    }
}

pub async fn publishing_snapshots_the_flow_with_ever_growing_numbers(store: &dyn Store) {
    let mut fl = created_flow(store, "acct", "f").await;
    let first = published(store, &fl, None, 2_000).await;
    assert_eq!(
        first,
        FlowVersion {
            flow_id: fl.id.clone(),
            version: 1,
            description: "d".into(),
            definition: PASS_DEFINITION.into(),
            flow_type: "FDL".into(),
            role_arn: None,
            execution_mode: "Standard".into(),
            environment: None,
            created_at: 2_000,
        }
    );
    // The snapshot is of the flow as it is when published.
    fl.definition = "changed".into();
    fl.revision = 2;
    assert!(store.update_flow(&fl, 1).await.unwrap());
    let second = published(store, &fl, Some("second"), 3_000).await;
    assert_eq!(
        (
            second.version,
            second.definition.as_str(),
            second.description.as_str()
        ),
        (2, "changed", "second")
    );
    assert_eq!(store.get_version(&fl.id, 1).await.unwrap(), Some(first));
    assert_eq!(store.get_version(&fl.id, 2).await.unwrap(), Some(second));
    assert!(store.get_version(&fl.id, 3).await.unwrap().is_none());
    // Numbers are never reused, not even the latest's once deleted.
    assert_eq!(
        store.delete_version(&fl.id, 2).await.unwrap(),
        DeleteVersionOutcome::Deleted
    );
    assert_eq!(published(store, &fl, None, 4_000).await.version, 3);
    assert_eq!(
        store.publish_version("gone", None, 5_000).await.unwrap(),
        PublishOutcome::FlowGone
    );
}

pub async fn versions_list_and_delete(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let other = created_flow(store, "acct", "g").await;
    for at in 1..=4 {
        published(store, &fl, None, at).await;
    }
    published(store, &other, None, 1).await;
    let numbers =
        |versions: Vec<FlowVersion>| versions.into_iter().map(|v| v.version).collect::<Vec<_>>();
    assert_eq!(
        numbers(store.list_versions(&fl.id, 1, 2).await.unwrap()),
        [1, 2]
    );
    assert_eq!(
        numbers(store.list_versions(&fl.id, 3, 10).await.unwrap()),
        [3, 4]
    );
    assert_eq!(
        store.delete_version(&fl.id, 3).await.unwrap(),
        DeleteVersionOutcome::Deleted
    );
    assert_eq!(
        store.delete_version(&fl.id, 3).await.unwrap(),
        DeleteVersionOutcome::NotFound
    );
    assert_eq!(
        numbers(store.list_versions(&fl.id, 2, 10).await.unwrap()),
        [2, 4]
    );
    // Routed versions stay.
    assert_eq!(
        store
            .create_alias(&alias(&fl, "live", &[(2, 90), (4, 10)]))
            .await
            .unwrap(),
        AliasOutcome::Written
    );
    assert_eq!(
        store.delete_version(&fl.id, 4).await.unwrap(),
        DeleteVersionOutcome::Routed("live".into())
    );
    assert!(store.get_version(&fl.id, 4).await.unwrap().is_some());
    assert_eq!(
        store.delete_version("gone", 1).await.unwrap(),
        DeleteVersionOutcome::FlowGone
    );
}

pub async fn aliases_route_only_to_existing_versions(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    published(store, &fl, None, 1_000).await;
    assert_eq!(
        store
            .create_alias(&alias(&fl, "live", &[(1, 50), (2, 50)]))
            .await
            .unwrap(),
        AliasOutcome::MissingVersion(2)
    );
    assert!(
        store.get_alias(&fl.id, "live").await.unwrap().is_none(),
        "nothing written"
    );
    published(store, &fl, None, 2_000).await;
    // Routing keeps the order given.
    let live = alias(&fl, "live", &[(2, 30), (1, 70)]);
    assert_eq!(
        store.create_alias(&live).await.unwrap(),
        AliasOutcome::Written
    );
    assert_eq!(store.get_alias(&fl.id, "live").await.unwrap(), Some(live));
    assert_eq!(
        store
            .create_alias(&alias(&fl, "live", &[(1, 100)]))
            .await
            .unwrap(),
        AliasOutcome::AlreadyExists
    );
    let orphan = FlowAlias {
        flow_id: "gone".into(),
        ..alias(&fl, "x", &[(1, 100)])
    };
    assert_eq!(
        store.create_alias(&orphan).await.unwrap(),
        AliasOutcome::FlowGone
    );
}

pub async fn alias_updates_are_optimistic(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    published(store, &fl, None, 1_000).await;
    published(store, &fl, None, 2_000).await;
    let live = alias(&fl, "live", &[(1, 100)]);
    store.create_alias(&live).await.unwrap();
    let moved = FlowAlias {
        description: "moved".into(),
        routing: vec![Route {
            version: 2,
            weight: 100,
        }],
        modified_at: 3_000,
        revision: 2,
        ..live.clone()
    };
    assert_eq!(
        store.update_alias(&moved, 1).await.unwrap(),
        AliasOutcome::Written
    );
    assert_eq!(
        store.get_alias(&fl.id, "live").await.unwrap(),
        Some(moved.clone())
    );
    // A writer that read revision 1 loses.
    assert_eq!(
        store
            .update_alias(
                &FlowAlias {
                    revision: 2,
                    ..live.clone()
                },
                1
            )
            .await
            .unwrap(),
        AliasOutcome::Conflict
    );
    let missing = FlowAlias {
        routing: vec![Route {
            version: 9,
            weight: 100,
        }],
        revision: 3,
        ..moved.clone()
    };
    assert_eq!(
        store.update_alias(&missing, 2).await.unwrap(),
        AliasOutcome::MissingVersion(9)
    );
    assert_eq!(store.get_alias(&fl.id, "live").await.unwrap(), Some(moved));
    let absent = FlowAlias {
        revision: 2,
        ..alias(&fl, "absent", &[(1, 100)])
    };
    assert_eq!(
        store.update_alias(&absent, 1).await.unwrap(),
        AliasOutcome::Conflict
    );
    let orphan = FlowAlias {
        flow_id: "gone".into(),
        ..live
    };
    assert_eq!(
        store.update_alias(&orphan, 1).await.unwrap(),
        AliasOutcome::FlowGone
    );
}

pub async fn aliases_list_by_name_and_delete(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    published(store, &fl, None, 1_000).await;
    for name in ["c", "a", "b"] {
        store
            .create_alias(&alias(&fl, name, &[(1, 100)]))
            .await
            .unwrap();
    }
    let list = |from: Option<&'static str>, limit| {
        let flow_id = fl.id.clone();
        async move {
            let found = store.list_aliases(&flow_id, from, limit).await.unwrap();
            found.into_iter().map(|a| a.name).collect::<Vec<_>>()
        }
    };
    assert_eq!(list(None, 2).await, ["a", "b"]);
    assert_eq!(list(Some("b"), 10).await, ["b", "c"]);
    assert!(store.delete_alias(&fl.id, "b").await.unwrap());
    assert!(!store.delete_alias(&fl.id, "b").await.unwrap());
    assert_eq!(list(None, 10).await, ["a", "c"]);
    // Once no alias routes to it, a version can go.
    assert!(store.delete_alias(&fl.id, "a").await.unwrap());
    assert!(store.delete_alias(&fl.id, "c").await.unwrap());
    assert_eq!(
        store.delete_version(&fl.id, 1).await.unwrap(),
        DeleteVersionOutcome::Deleted
    );
}
