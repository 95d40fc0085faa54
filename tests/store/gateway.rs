//! GatewayStore: nonces, throttle buckets, server keys.

use fnf_server::store::*;

pub async fn nonces_are_used_once_until_they_expire(store: &dyn Store) {
    assert!(store.record_nonce("key", "n1", 1_000, 5_000).await.unwrap());
    assert!(!store.record_nonce("key", "n1", 2_000, 6_000).await.unwrap());
    assert!(
        store
            .record_nonce("other", "n1", 2_000, 6_000)
            .await
            .unwrap()
    );
    assert!(
        store
            .record_nonce("key", "n1", 9_000, 13_000)
            .await
            .unwrap(),
        "an expired nonce is forgotten"
    );
    assert_eq!(store.prune_nonces(10_000).await.unwrap(), 1);
    assert_eq!(store.prune_nonces(10_000).await.unwrap(), 0);
    // What a restart reads back: the live ones, the latest to expire, oldest first.
    assert!(
        store
            .record_nonce("key", "n2", 9_500, 14_000)
            .await
            .unwrap()
    );
    let live = |limit| store.live_nonces(13_000, limit);
    let pairs = |nonces: Vec<StoredNonce>| {
        nonces
            .into_iter()
            .map(|n| (n.nonce, n.expires_at))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        pairs(live(10).await.unwrap()),
        [("n1".to_string(), 13_000), ("n2".to_string(), 14_000)]
    );
    assert_eq!(pairs(live(1).await.unwrap()), [("n2".to_string(), 14_000)]);
    assert_eq!(
        store.live_nonces(13_500, 10).await.unwrap(),
        [StoredNonce {
            access_key_id: "key".into(),
            nonce: "n2".into(),
            expires_at: 14_000
        }]
    );
}

pub async fn throttle_buckets_refill_up_to_the_burst(store: &dyn Store) {
    // Two tokens a second, at most three at once.
    let take = |key: &'static str, now: i64| store.take_token(key, now, 2.0, 3.0);
    for _ in 0..3 {
        assert!(take("key", 0).await.unwrap());
    }
    assert!(!take("key", 0).await.unwrap(), "the bucket is empty");
    assert!(take("other", 0).await.unwrap(), "buckets are per key");
    // Half a second refills one token.
    assert!(take("key", 500).await.unwrap());
    assert!(!take("key", 500).await.unwrap());
    // A long pause refills no more than the burst.
    for _ in 0..3 {
        assert!(take("key", 100_000).await.unwrap());
    }
    assert!(!take("key", 100_000).await.unwrap());
}

pub async fn server_keys_are_created_once(store: &dyn Store) {
    let first = store.server_key("k", "one").await.unwrap();
    let second = store.server_key("k", "two").await.unwrap();
    assert_eq!((first.as_str(), second.as_str()), ("one", "one"));
    assert_eq!(store.server_key("other", "three").await.unwrap(), "three");
}
