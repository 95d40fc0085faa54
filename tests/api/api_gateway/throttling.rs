//! Throttling (docs/COMPATIBILITY.md#limits).

use super::*;

#[tokio::test]
async fn throttling_is_per_key_and_has_no_retry_after() {
    let server = start_with_accounts(Backend::Sqlite, |config| {
        config.throttle_rps = Some(0.01);
        config.throttle_burst = Some(3);
    })
    .await;
    let client = server.client();
    // Requests that fail authentication take no token.
    let wrong = server.client_with_key(ACCESS_KEY_ID, "wrong");
    for _ in 0..5 {
        wrong
            .get("ListFlows", &[])
            .await
            .err(403, "SignatureNotMatch");
    }
    for _ in 0..3 {
        call(&client, "GET", "ListFlows", &[]).await.ok();
    }
    for _ in 0..2 {
        let answer = call(&client, "GET", "ListFlows", &[]).await;
        answer.err(429, "ResourceThrottled");
        assert_eq!(
            answer.message(),
            "The request was throttled: more than 0.01 requests per second for AccessKey test-access-key."
        );
        assert!(
            answer.header("x-acs-retry-after").is_none(),
            "{:?}",
            answer.headers
        );
        assert!(
            answer.header("retry-after").is_none(),
            "{:?}",
            answer.headers
        );
    }
    // Another key of another account, and another key of the same account, are not throttled.
    for id in ["b-admin", "a-admin"] {
        let other = key(&server, id);
        for _ in 0..3 {
            call(&other, "GET", "ListFlows", &[]).await.ok();
        }
        call(&other, "GET", "ListFlows", &[])
            .await
            .err(429, "ResourceThrottled");
    }
    server.stop().await;
}
