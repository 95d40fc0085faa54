//! Clock skew (docs/COMPATIBILITY.md#order-of-checks).

use super::*;

#[tokio::test]
async fn timestamps_more_than_15_minutes_off_are_too_skewed() {
    let (server, client) = server_with_flow(Backend::Sqlite).await;
    for minutes in [-16, 16, -60 * 24 * 365, 60 * 24 * 365] {
        let params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |p| {
            set_param(p, "Timestamp", &timestamp(TimeDelta::minutes(minutes)))
        });
        let answer = send(&client, "GET", &params).await;
        answer.err_msg(403, "RequestTimeTooSkewed", SKEWED);
        assert_envelope(&answer, &server.endpoint);
    }
    for minutes in [-14, 14] {
        let params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |p| {
            set_param(p, "Timestamp", &timestamp(TimeDelta::minutes(minutes)))
        });
        send(&client, "GET", &params).await.ok();
    }
    // The variants docs/COMPATIBILITY.md#order-of-checks accepts: a fractional part, `+00:00` for `Z`.
    let now = Utc::now();
    for text in [
        now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        now.format("%Y-%m-%dT%H:%M:%S+00:00").to_string(),
    ] {
        let params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |p| {
            set_param(p, "Timestamp", &text)
        });
        let answer = send(&client, "GET", &params).await;
        assert_eq!(answer.status, 200, "{text}: {}", answer.body);
    }
    server.stop().await;
}

#[tokio::test]
async fn unparseable_timestamps_are_invalid_argument() {
    let (server, client) = server_with_flow(Backend::Sqlite).await;
    let now = Utc::now();
    for text in [
        "yesterday".to_string(),
        "1714564800".to_string(),
        now.format("%Y-%m-%d %H:%M:%SZ").to_string(),
        now.format("%Y-%m-%dT%H:%M:%S").to_string(),
        now.format("%Y-%m-%dT%H:%M:%S+08:00").to_string(),
        "2024-02-30T12:00:00Z".to_string(),
    ] {
        let params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |p| {
            set_param(p, "Timestamp", &text)
        });
        let answer = send(&client, "GET", &params).await;
        answer.err_msg(
            400,
            "InvalidArgument",
            &format!(
                "Parameter error: Timestamp must be a UTC time like 2024-05-01T12:00:00Z, got '{text}'"
            ),
        );
        assert_envelope(&answer, &server.endpoint);
    }
    server.stop().await;
}

#[tokio::test]
async fn v3_dates_follow_the_same_rules() {
    let (server, client) = server_with_flow(Backend::Sqlite).await;
    for minutes in [-16, 16] {
        let mut request = client
            .v3("GET", "DescribeFlow")
            .query(&[("Name", "my_flow")]);
        request.set_header("x-acs-date", &timestamp(TimeDelta::minutes(minutes)));
        request
            .send()
            .await
            .err_msg(403, "RequestTimeTooSkewed", SKEWED);
    }
    let mut request = client
        .v3("GET", "DescribeFlow")
        .query(&[("Name", "my_flow")]);
    request.set_header("x-acs-date", &timestamp(TimeDelta::minutes(-14)));
    request.send().await.ok();
    let mut request = client
        .v3("GET", "DescribeFlow")
        .query(&[("Name", "my_flow")]);
    request.set_header("x-acs-date", "Wed, 01 May 2024 12:00:00 GMT");
    request.send().await.err_msg(
        400,
        "InvalidArgument",
        "Parameter error: x-acs-date must be a UTC time like 2024-05-01T12:00:00Z, got 'Wed, 01 May 2024 12:00:00 GMT'",
    );
    server.stop().await;
}

#[tokio::test]
async fn checks_run_in_the_documented_order() {
    // docs/COMPATIBILITY.md#order-of-checks: required common parameters → action/version → AccessKeyId → skew →
    // signature → nonce.
    let (server, client) = server_with_flow(Backend::Sqlite).await;
    let skewed = timestamp(TimeDelta::minutes(-30));

    // Unknown action and unknown key: the action is checked first.
    let stranger = server.client_with_key("nobody", "x");
    let params = stranger.signed("GET", "Foo", &[], |_| {});
    send(&stranger, "GET", &params)
        .await
        .err(400, "ActionNotSupported");
    // Unknown key with a skewed timestamp: the key is checked first.
    let params = stranger.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |p| {
        set_param(p, "Timestamp", &skewed)
    });
    send(&stranger, "GET", &params)
        .await
        .err(403, "InvalidAccessKeyID");
    // Skewed timestamp and a bad signature: the time is checked first.
    let mut params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |p| {
        set_param(p, "Timestamp", &skewed)
    });
    set_param(&mut params, "Signature", "AAAA");
    send(&client, "GET", &params)
        .await
        .err(403, "RequestTimeTooSkewed");
    // A bad signature with a used nonce: the signature is checked first.
    let params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |_| {});
    send(&client, "GET", &params).await.ok();
    let mut replay = params.clone();
    set_param(&mut replay, "Signature", "AAAA");
    send(&client, "GET", &replay)
        .await
        .err(403, "SignatureNotMatch");
    // Signature and nonce before action parameters: a bad Limit is reported only for a
    // request that authenticates.
    let mut params = client.signed("GET", "ListFlows", &[("Limit", "0")], |_| {});
    set_param(&mut params, "Signature", "AAAA");
    send(&client, "GET", &params)
        .await
        .err(403, "SignatureNotMatch");
    server.stop().await;
}
