//! SessionStore: web console sessions.

use fnf_server::store::*;

use crate::rows::session;

pub async fn console_sessions_touch_and_expire(store: &dyn Store) {
    store
        .create_session(&session("a", 1_000, 100_000))
        .await
        .unwrap();
    store
        .create_session(&session("b", 1_000, 5_000))
        .await
        .unwrap();
    store
        .create_session(&session("c", 9_000, 100_000))
        .await
        .unwrap();
    assert_eq!(
        store.get_session("a").await.unwrap(),
        Some(session("a", 1_000, 100_000))
    );
    assert!(store.get_session("nope").await.unwrap().is_none());
    store.touch_session("a", 8_000).await.unwrap();
    store.touch_session("a", 7_000).await.unwrap();
    assert_eq!(
        store.get_session("a").await.unwrap().unwrap().last_seen_at,
        8_000,
        "never back in time"
    );
    // At 10 000 with sessions idle since before 7 500 ending: b is past its expiry too.
    assert_eq!(store.prune_sessions(10_000, 7_500).await.unwrap(), 1);
    assert!(store.get_session("b").await.unwrap().is_none());
    store.delete_session("c").await.unwrap();
    assert!(store.get_session("c").await.unwrap().is_none());
    assert!(store.get_session("a").await.unwrap().is_some());
    // Idle too long: pruned although not expired.
    assert_eq!(store.prune_sessions(10_000, 8_001).await.unwrap(), 1);
    assert!(store.get_session("a").await.unwrap().is_none());
}
