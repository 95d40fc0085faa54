//! The ways a V1 signature fails: a wrong secret, a changed method or parameter, a bad
//! signature, another signature method and an unknown access key.

use super::*;

#[tokio::test]
async fn wrong_secret_is_signature_not_match_with_the_string_to_sign_after_a_colon() {
    let (server, _) = server_with_flow().await;
    let client = server.client_with_key(ACCESS_KEY_ID, "not-the-secret");
    let params = client.signed(
        "POST",
        "StartExecution",
        &[("FlowName", "my_flow"), ("Input", r#"{"k": "a b"}"#)],
        |_| {},
    );
    let answer = client.send_form("POST", &params, &[]).await;
    assert_envelope(&answer, &server.endpoint);
    let without_signature: Vec<_> = params
        .iter()
        .filter(|(k, _)| k != "Signature")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let sts = v1::string_to_sign("POST", without_signature);
    answer.err_msg(
        403,
        "SignatureNotMatch",
        &format!("{SIGNATURE_NOT_MATCH} server string to sign is:{sts}"),
    );
    // The old Python SDK reads element 1 of `Message.split(':')` (docs/COMPATIBILITY.md#error-responses).
    assert_eq!(answer.message().split(':').nth(1), Some(sts.as_str()));
    server.stop().await;
}

#[tokio::test]
async fn other_signature_failures() {
    let (server, client) = server_with_flow().await;
    let describe = [("Name", "my_flow")];

    // Signed for GET, sent as POST: the method is part of what is signed.
    let params = client.signed("GET", "DescribeFlow", &describe, |_| {});
    client
        .send_form("POST", &params, &[])
        .await
        .err(403, "SignatureNotMatch");

    // A parameter changed after signing.
    let mut params = client.signed("GET", "DescribeFlow", &describe, |_| {});
    set_param(&mut params, "Name", "other");
    client
        .send_form("GET", &params, &[])
        .await
        .err(403, "SignatureNotMatch");

    // A signature that is not base64, one that is empty-ish, one of another request.
    for bad in ["!!not base64!!", "AAAA", "uOXlWXG5LtpREThTqTTssgtZ1tc="] {
        let mut params = client.signed("GET", "DescribeFlow", &describe, |_| {});
        set_param(&mut params, "Signature", bad);
        let answer = client.send_form("GET", &params, &[]).await;
        answer.err(403, "SignatureNotMatch");
        assert!(
            answer
                .message()
                .starts_with(&format!("{SIGNATURE_NOT_MATCH} server string to sign is:")),
            "{}",
            answer.message()
        );
    }

    // Signed with the secret followed by "&" twice (a client that adds the "&" itself).
    let doubled = server.client_with_key(ACCESS_KEY_ID, &format!("{ACCESS_KEY_SECRET}&"));
    doubled
        .get("DescribeFlow", &describe)
        .await
        .err(403, "SignatureNotMatch");
    server.stop().await;
}

#[tokio::test]
async fn signature_method_other_than_hmac_sha1_is_invalid_argument() {
    let (server, client) = server_with_flow().await;
    for method in ["HMAC-SHA256", "hmac-sha1"] {
        let params = client.signed("GET", "DescribeFlow", &[("Name", "my_flow")], |p| {
            set_param(p, "SignatureMethod", method)
        });
        let answer = client.send_form("GET", &params, &[]).await;
        answer.err_msg(
            400,
            "InvalidArgument",
            &format!("Parameter error: SignatureMethod must be HMAC-SHA1, got '{method}'"),
        );
        assert_envelope(&answer, &server.endpoint);
    }
    server.stop().await;
}

#[tokio::test]
async fn unknown_access_key_id_is_invalid_access_key_id() {
    let (server, _) = server_with_flow().await;
    for key in ["nobody", "TEST-ACCESS-KEY", " test-access-key"] {
        let client = server.client_with_key(key, ACCESS_KEY_SECRET);
        let answer = client.get("DescribeFlow", &[("Name", "my_flow")]).await;
        answer.err_msg(
            403,
            "InvalidAccessKeyID",
            &format!("The AccessKey ID {key} is invalid."),
        );
        assert_envelope(&answer, &server.endpoint);
    }
    server.stop().await;
}
