//! Store: readiness, identity, and the notices that wake workers.

use std::time::Duration;

use fnf_server::store::*;
use tokio::sync::broadcast;

/// Waits for `expected` among the notices (a store may announce others, e.g. on connecting).
pub async fn hears(receiver: &mut broadcast::Receiver<WorkNotice>, expected: &WorkNotice) {
    let waiting = async {
        loop {
            match receiver.recv().await {
                Ok(notice) if &notice == expected => return,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => panic!("the notices ended"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .unwrap_or_else(|_| panic!("{expected:?} never arrived"));
}

pub async fn the_store_is_ready_and_names_its_backend(store: &dyn Store) {
    store.ready().await.unwrap();
    let backend = store.backend();
    assert!(["postgres", "sqlite"].contains(&backend.as_str()));
    // Only a store several replicas may share keeps their replay and throttling state.
    assert_eq!(store.is_shared(), backend == Backend::Postgres);
}

pub async fn notices_reach_subscribers(store: &dyn Store) {
    let mut first = store.subscribe();
    let mut second = store.subscribe();
    store.notify(WorkNotice::Work).await.unwrap();
    hears(&mut first, &WorkNotice::Work).await;
    hears(&mut second, &WorkNotice::Work).await;
    store.notify(WorkNotice::Ended("e-1".into())).await.unwrap();
    hears(&mut first, &WorkNotice::Ended("e-1".into())).await;
    store.notify(WorkNotice::Schedules).await.unwrap();
    hears(&mut first, &WorkNotice::Schedules).await;
    store.publish_local(WorkNotice::Ended("e-2".into()));
    hears(&mut second, &WorkNotice::Ended("e-2".into())).await;
}
