//! DescribeRegions (docs/COMPATIBILITY.md#regions) and the echoed `RequestId` parameter.

use super::*;

backend_tests! {
    async fn describe_regions_names_the_endpoint_in_use(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let answer = client.call("DescribeRegions", &[]).await;
        let body = answer.ok();
        assert_request_id(&answer);
        assert_keys(body, &["Regions", "RequestId"]);
        assert_keys(&body["Regions"], &["Region"]);
        let regions = body["Regions"]["Region"].as_array().unwrap();
        assert_eq!(regions.len(), 1);
        assert_keys(&regions[0], &["RegionId", "LocalName", "RegionEndpoint"]);
        assert_eq!(regions[0]["RegionId"], "cn-hangzhou");
        assert_eq!(regions[0]["RegionEndpoint"], server.endpoint.as_str());
        assert!(regions[0]["LocalName"].as_str().is_some_and(|n| !n.is_empty()));
        let chinese = client
            .get("DescribeRegions", &[("AcceptLanguage", "zh-CN")])
            .await
            .ok()
            .clone();
        assert_eq!(chinese["Regions"]["Region"][0]["RegionId"], "cn-hangzhou");
        assert_eq!(chinese["Regions"]["Region"][0]["RegionEndpoint"], server.endpoint.as_str());

        // The endpoint is the host the client used.
        let mut params = client.common("DescribeRegions");
        client.sign("POST", &mut params);
        let request = client
            .http
            .post(format!("http://{}/", server.endpoint))
            .header("host", "fnf.example.test:8080")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(common::encode_form(&params));
        let body = client.raw(request).await.ok().clone();
        assert_eq!(
            body["Regions"]["Region"][0]["RegionEndpoint"],
            "fnf.example.test:8080"
        );
        server.stop().await;
    }

    async fn a_request_id_parameter_is_echoed(backend) {
        let server = TestServer::start(backend).await;
        let client = server.client();
        let answer = client.call("DescribeRegions", &[("RequestId", "my-request-1")]).await;
        assert_eq!(answer.ok()["RequestId"], "my-request-1");
        assert_eq!(answer.headers.get("x-acs-request-id").unwrap(), "my-request-1");
        let answer = client.get("DescribeFlow", &[("Name", "none"), ("RequestId", "my-request-2")]).await;
        answer.err(404, "FlowNotExists");
        assert_eq!(answer.body["RequestId"], "my-request-2");
        server.stop().await;
    }

    async fn describe_regions_serves_the_configured_region(backend) {
        let server = TestServer::start_with(backend, |config| config.region = "cn-shanghai".into()).await;
        let body = server.client().call("DescribeRegions", &[]).await.ok().clone();
        assert_eq!(body["Regions"]["Region"][0]["RegionId"], "cn-shanghai");
        server.stop().await;
    }
}
