//! ScheduleStore: schedules of flows and the scheduler's claims on their fires.

use fnf_server::store::*;

use crate::harness::created_flow;
use crate::rows::{claim, schedule};

pub async fn schedules_are_created_once_per_flow_and_name(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let other = created_flow(store, "acct", "g").await;
    let hourly = schedule(&fl, "hourly", Some(5_000));
    assert_eq!(
        store.create_schedule(&hourly).await.unwrap(),
        CreateScheduleOutcome::Created
    );
    assert_eq!(
        store
            .create_schedule(&schedule(&fl, "hourly", None))
            .await
            .unwrap(),
        CreateScheduleOutcome::AlreadyExists
    );
    assert_eq!(
        store
            .create_schedule(&schedule(&other, "hourly", None))
            .await
            .unwrap(),
        CreateScheduleOutcome::Created
    );
    assert_eq!(
        store.get_schedule(&fl.id, "hourly").await.unwrap(),
        Some(hourly)
    );
    assert!(store.get_schedule(&fl.id, "daily").await.unwrap().is_none());
}

pub async fn schedule_updates_are_optimistic_and_reschedule_on_request(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let original = schedule(&fl, "s", Some(5_000));
    store.create_schedule(&original).await.unwrap();
    // Without `reschedule` the next fire stays.
    let described = Schedule {
        description: "new".into(),
        revision: 2,
        next_fire_at: Some(9_999),
        ..original.clone()
    };
    assert!(store.update_schedule(&described, 1, false).await.unwrap());
    let stored = store.get_schedule(&fl.id, "s").await.unwrap().unwrap();
    assert_eq!(
        (
            stored.description.as_str(),
            stored.revision,
            stored.next_fire_at
        ),
        ("new", 2, Some(5_000))
    );
    // A writer that read revision 1 loses.
    assert!(
        !store
            .update_schedule(
                &Schedule {
                    revision: 3,
                    ..original.clone()
                },
                1,
                true
            )
            .await
            .unwrap()
    );
    // A reschedule writes the next fire and drops the claim on the old one.
    assert_eq!(
        store
            .claim_due_schedules(&claim("one", 5_000), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let moved = Schedule {
        revision: 3,
        next_fire_at: Some(6_000),
        ..described
    };
    assert!(store.update_schedule(&moved, 2, true).await.unwrap());
    assert_eq!(
        store.get_schedule(&fl.id, "s").await.unwrap(),
        Some(moved.clone())
    );
    assert_eq!(
        store
            .claim_due_schedules(&claim("two", 6_000), 10)
            .await
            .unwrap(),
        std::slice::from_ref(&moved)
    );
    assert!(
        !store
            .finish_fire(&moved.id, 5_000, Some(7_000))
            .await
            .unwrap(),
        "the old fire is gone"
    );
    // Disabled: never claimed.
    let disabled = Schedule {
        enable: false,
        revision: 4,
        next_fire_at: None,
        ..moved
    };
    assert!(store.update_schedule(&disabled, 3, true).await.unwrap());
    assert!(
        store
            .claim_due_schedules(&claim("three", 99_000), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn schedules_list_by_name_and_delete(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let other = created_flow(store, "acct", "g").await;
    for name in ["c", "a", "b"] {
        store
            .create_schedule(&schedule(&fl, name, None))
            .await
            .unwrap();
    }
    store
        .create_schedule(&schedule(&other, "a0", None))
        .await
        .unwrap();
    let list = |from: Option<&'static str>, limit| {
        let flow_id = fl.id.clone();
        async move {
            let found = store.list_schedules(&flow_id, from, limit).await.unwrap();
            found.into_iter().map(|s| s.name).collect::<Vec<_>>()
        }
    };
    assert_eq!(list(None, 2).await, ["a", "b"]);
    assert_eq!(list(Some("b"), 10).await, ["b", "c"]);
    assert_eq!(list(Some("bb"), 10).await, ["c"]);
    assert!(store.delete_schedule(&fl.id, "b").await.unwrap());
    assert!(!store.delete_schedule(&fl.id, "b").await.unwrap());
    assert_eq!(list(None, 10).await, ["a", "c"]);
}

pub async fn two_schedulers_never_claim_the_same_fire(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    for i in 0..10 {
        store
            .create_schedule(&schedule(&fl, &format!("s{i}"), Some(1_000 + i)))
            .await
            .unwrap();
    }
    store
        .create_schedule(&schedule(&fl, "later", Some(50_000)))
        .await
        .unwrap();
    store
        .create_schedule(&schedule(&fl, "disabled", None))
        .await
        .unwrap();
    let (one, two) = (claim("one", 2_000), claim("two", 2_000));
    let (first, second) = tokio::join!(
        store.claim_due_schedules(&one, 8),
        store.claim_due_schedules(&two, 8)
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    let mut names: Vec<&str> = first
        .iter()
        .chain(&second)
        .map(|s| s.name.as_str())
        .collect();
    names.sort();
    assert_eq!(
        names,
        (0..10).map(|i| format!("s{i}")).collect::<Vec<_>>(),
        "each due fire exactly once"
    );
    // Held until the claim expires.
    assert!(
        store
            .claim_due_schedules(&claim("three", 2_000), 20)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .claim_due_schedules(&claim("three", 12_001), 20)
            .await
            .unwrap()
            .len(),
        10
    );
}

pub async fn finishing_a_fire_moves_it_once(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    let s = schedule(&fl, "s", Some(1_000));
    store.create_schedule(&s).await.unwrap();
    store
        .claim_due_schedules(&claim("one", 1_000), 10)
        .await
        .unwrap();
    assert!(store.finish_fire(&s.id, 1_000, Some(61_000)).await.unwrap());
    assert!(
        !store.finish_fire(&s.id, 1_000, Some(61_000)).await.unwrap(),
        "already moved"
    );
    assert_eq!(
        store
            .get_schedule(&fl.id, "s")
            .await
            .unwrap()
            .unwrap()
            .next_fire_at,
        Some(61_000)
    );
    // The claim is dropped with it: the next fire is claimable at once.
    assert_eq!(
        store
            .claim_due_schedules(&claim("two", 61_000), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store.finish_fire(&s.id, 61_000, None).await.unwrap());
    assert_eq!(
        store
            .get_schedule(&fl.id, "s")
            .await
            .unwrap()
            .unwrap()
            .next_fire_at,
        None
    );
    assert_eq!(store.next_schedule_wake().await.unwrap(), None);
}

pub async fn the_next_schedule_wake_counts_claims(store: &dyn Store) {
    assert_eq!(store.next_schedule_wake().await.unwrap(), None);
    let fl = created_flow(store, "acct", "f").await;
    store
        .create_schedule(&schedule(&fl, "disabled", None))
        .await
        .unwrap();
    assert_eq!(store.next_schedule_wake().await.unwrap(), None);
    store
        .create_schedule(&schedule(&fl, "a", Some(5_000)))
        .await
        .unwrap();
    store
        .create_schedule(&schedule(&fl, "b", Some(8_000)))
        .await
        .unwrap();
    assert_eq!(store.next_schedule_wake().await.unwrap(), Some(5_000));
    // Claimed (until 15 000): "a" can be claimed again only after that claim expires.
    assert_eq!(
        store
            .claim_due_schedules(&claim("one", 5_000), 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.next_schedule_wake().await.unwrap(), Some(8_000));
    assert_eq!(
        store
            .claim_due_schedules(&claim("one", 8_000), 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.next_schedule_wake().await.unwrap(), Some(15_001));
}

pub async fn a_schedule_finds_its_flow_by_id(store: &dyn Store) {
    let fl = created_flow(store, "acct", "f").await;
    assert_eq!(store.schedule_flow(&fl.id).await.unwrap(), Some(fl.clone()));
    // A re-created flow of the same name is another flow.
    assert!(store.delete_flow("acct", "f").await.unwrap());
    created_flow(store, "acct", "f").await;
    assert!(store.schedule_flow(&fl.id).await.unwrap().is_none());
}
