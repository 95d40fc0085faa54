//! DescribeRegions (docs/COMPATIBILITY.md#regions): the one region this server serves.

use serde_json::json;

use super::{ApiResult, Call};

pub async fn describe_regions(call: &Call<'_>) -> ApiResult {
    let region = &call.state.config.region;
    let chinese = call
        .params
        .optional("AcceptLanguage")
        .is_some_and(|language| language.to_ascii_lowercase().starts_with("zh"));
    Ok(json!({
        "Regions": {
            "Region": [{
                "RegionId": region,
                "LocalName": local_name(region, chinese),
                "RegionEndpoint": call.host,
            }]
        }
    }))
}

fn local_name(region: &str, chinese: bool) -> String {
    let names = [
        ("cn-hangzhou", "华东1（杭州）", "China (Hangzhou)"),
        ("cn-shanghai", "华东2（上海）", "China (Shanghai)"),
        ("cn-beijing", "华北2（北京）", "China (Beijing)"),
        ("cn-shenzhen", "华南1（深圳）", "China (Shenzhen)"),
    ];
    names
        .iter()
        .find(|(id, _, _)| *id == region)
        .map(|(_, zh, en)| if chinese { zh } else { en }.to_string())
        .unwrap_or_else(|| region.to_string())
}
