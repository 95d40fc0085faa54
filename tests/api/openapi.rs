//! The OpenAPI document (`openapi/fnf-2019-03-15.yaml`) and the server agree: the document
//! names exactly the actions the router knows, only codes of the error catalogue with their
//! statuses, and a server answers every action, and every documented example, as the
//! document says.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use common::openapi::{Document, ERROR_STATUSES, form_value, seed_example_resources};
use common::{Backend, TestServer};
use fnf_server::api::Action;
use fnf_server::error::{ErrorCode, Scope};
use serde_json::Value;

/// The codes every action can answer (docs/COMPATIBILITY.md#errors-per-action).
fn common_codes() -> impl Iterator<Item = &'static str> {
    ErrorCode::ALL
        .iter()
        .filter(|code| code.scope() == Scope::EveryAction)
        .map(|code| code.as_str())
}

fn served_actions() -> BTreeSet<String> {
    Action::ALL.iter().map(|a| a.name().to_string()).collect()
}

/// Asserts that a list names each action once and no other.
#[track_caller]
fn assert_every_action_once<'a>(what: &str, names: impl IntoIterator<Item = &'a str>) {
    let names: Vec<&str> = names.into_iter().collect();
    let set: BTreeSet<String> = names.iter().map(|n| n.to_string()).collect();
    assert_eq!(
        set.len(),
        names.len(),
        "{what} names an action twice: {names:?}"
    );
    let served = served_actions();
    let undocumented: Vec<_> = served.difference(&set).collect();
    let unknown: Vec<_> = set.difference(&served).collect();
    assert!(
        undocumented.is_empty() && unknown.is_empty(),
        "{what}: served but not documented {undocumented:?}; documented but not served {unknown:?}"
    );
}

#[test]
fn post_body_has_one_schema_per_action() {
    let doc = Document::load();
    let schemas = doc.request_schemas();
    assert_every_action_once(
        "the POST body's oneOf",
        schemas.iter().map(|(a, _)| a.as_str()),
    );
    for (action, schema) in &schemas {
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap_or_else(|| panic!("{action}Request has no required list"))
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            required.contains(&"Action") && required.contains(&"Version"),
            "{action}Request must require Action and Version: {required:?}"
        );
        assert_eq!(
            doc.resolve(&schema["properties"]["Version"])["const"],
            "2019-03-15",
            "{action}Request Version"
        );
        for name in required {
            assert!(
                !schema["properties"][name].is_null(),
                "{action}Request requires {name} without describing it"
            );
        }
        let common = &schema["allOf"][0]["$ref"];
        assert_eq!(
            common, "#/components/schemas/CommonParameters",
            "{action}Request takes the common parameters"
        );
    }
    let union = doc.schema("ActionRequest");
    assert_eq!(union["discriminator"]["propertyName"], "Action");
    let mapping = union["discriminator"]["mapping"]
        .as_object()
        .expect("a discriminator mapping");
    assert_every_action_once(
        "the discriminator mapping",
        mapping.keys().map(String::as_str),
    );
    for (action, target) in mapping {
        let target = doc.pointer(target.as_str().expect("mapping targets are refs"));
        assert_eq!(
            doc.resolve(&target["properties"]["Action"])["const"],
            action.as_str(),
            "the discriminator maps {action} to another action's schema"
        );
    }
}

#[test]
fn get_action_enum_is_every_action_and_get_takes_every_parameter() {
    let doc = Document::load();
    let parameters: Vec<&Value> = doc.operation("get")["parameters"]
        .as_array()
        .expect("GET has parameters")
        .iter()
        .map(|p| doc.resolve(p))
        .collect();
    let by_name: BTreeMap<&str, &Value> = parameters
        .iter()
        .map(|p| (p["name"].as_str().expect("named"), *p))
        .collect();
    assert_eq!(
        by_name.len(),
        parameters.len(),
        "a GET parameter is listed twice"
    );
    for p in &parameters {
        assert_eq!(p["in"], "query", "{} is a query parameter", p["name"]);
    }
    let action = by_name["Action"];
    assert_eq!(action["required"], true, "Action is required");
    let names = doc.resolve(&action["schema"])["enum"]
        .as_array()
        .expect("Action is an enum")
        .iter()
        .map(|v| v.as_str().expect("action names are strings"));
    assert_every_action_once("the GET Action enum", names);
    assert_eq!(by_name["Version"]["required"], true);
    // "Each action takes the same parameters as in the POST body."
    let common = doc.schema("CommonParameters")["properties"]
        .as_object()
        .expect("common parameters");
    for (action, schema) in doc.request_schemas() {
        let own = schema["properties"].as_object().expect("properties");
        for name in own.keys().chain(common.keys()) {
            assert!(
                by_name.contains_key(name.as_str()),
                "{action} takes {name}, which GET does not document"
            );
        }
    }
}

#[test]
fn every_action_lists_its_error_codes_with_their_status() {
    let doc = Document::load();
    let codes = doc.error_codes();
    assert_every_action_once("x-error-codes", codes.keys().map(String::as_str));
    for (action, codes) in &codes {
        for common in common_codes() {
            assert!(
                codes.contains_key(common),
                "x-error-codes.{action} lacks the common code {common}"
            );
        }
        for (code, &status) in codes {
            let known = ErrorCode::parse(code)
                .unwrap_or_else(|| panic!("x-error-codes.{action}: {code} is not an ErrorCode"));
            assert_eq!(
                known.status().as_u16(),
                status,
                "x-error-codes.{action}.{code}"
            );
        }
    }
}

#[test]
fn error_responses_enumerate_the_whole_catalogue_by_status() {
    let doc = Document::load();
    for method in ["get", "post"] {
        let mut documented = BTreeSet::new();
        for status in ERROR_STATUSES {
            let codes = doc.codes_of_status(method, status);
            assert!(!codes.is_empty(), "{method} {status} enumerates no Code");
            for code in codes {
                let known = ErrorCode::parse(&code)
                    .unwrap_or_else(|| panic!("{method} {status}: {code} is not an ErrorCode"));
                assert_eq!(
                    known.status().as_u16(),
                    status,
                    "{code} is documented under {status}"
                );
                documented.insert(known.as_str());
            }
            let envelope =
                doc.resolve(&doc.resolve(doc.response_body_schema(method, status))["allOf"][0]);
            assert_eq!(envelope, doc.schema("ErrorEnvelope"), "{method} {status}");
        }
        let catalogue: BTreeSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            documented, catalogue,
            "{method}: codes documented vs. ErrorCode::ALL"
        );
        let header = &doc.response(method, 200)["headers"]["x-acs-request-id"];
        assert_eq!(doc.resolve(header)["required"], true);
    }
    let envelope = doc.schema("ErrorEnvelope");
    for (name, member) in envelope["properties"].as_object().expect("members") {
        assert_eq!(
            doc.resolve(member)["type"],
            "string",
            "ErrorEnvelope.{name}"
        );
    }
    for member in ["RequestId", "Code", "Message"] {
        assert!(
            envelope["required"]
                .as_array()
                .expect("required")
                .contains(&Value::from(member)),
            "ErrorEnvelope requires {member}"
        );
    }
}

#[test]
fn every_action_has_a_response_schema_and_the_shapes_partition_the_actions() {
    let doc = Document::load();
    let mut claimed = Vec::new();
    let shapes = doc.schema("SuccessBody")["oneOf"]
        .as_array()
        .expect("the 200 body is a oneOf");
    for shape in shapes {
        let resolved = doc.resolve(shape);
        assert_eq!(
            resolved["additionalProperties"], false,
            "{shape} must be closed for the oneOf to be exclusive"
        );
        for action in resolved["x-actions"].as_array().expect("x-actions") {
            let action = action.as_str().expect("action names");
            claimed.push(action.to_string());
            assert_eq!(
                doc.response_schema(action),
                resolved,
                "{action}Response is not the shape that claims it"
            );
        }
    }
    assert_every_action_once(
        "the x-actions of the 200 shapes",
        claimed.iter().map(String::as_str),
    );
    for action in Action::ALL {
        let schema = doc.response_schema(action.name());
        let required = schema["required"].as_array().expect("required members");
        assert!(
            required.contains(&Value::from("RequestId")),
            "{}Response must require RequestId",
            action.name()
        );
        assert!(
            schema["properties"].get("Code").is_none(),
            "a success body never has a Code member"
        );
    }
}

/// The live check: each action, signed but without its own parameters, over GET and POST,
/// answers with a code the document lists for it (or a 200 in the documented shape).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_answers_with_a_documented_code() {
    let doc = Document::load();
    let server = TestServer::start(Backend::Sqlite).await;
    let client = server.client();
    let mut problems = Vec::new();
    for action in Action::ALL {
        for method in ["get", "post"] {
            let answer = match method {
                "get" => client.get(action.name(), &[]).await,
                _ => client.call(action.name(), &[]).await,
            };
            for problem in doc.check_answer(method, action.name(), &answer) {
                problems.push(format!(
                    "{method} {} → {} {}: {problem}",
                    action.name(),
                    answer.status,
                    answer.body
                ));
            }
        }
    }
    server.stop().await;
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every example of the document, sent against a server holding the resources the examples
/// name, gets an answer the document allows; the served actions' examples succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documented_examples_get_documented_answers() {
    let doc = Document::load();
    let server = TestServer::start(Backend::Sqlite).await;
    let client = server.client();
    seed_example_resources(&client).await;
    let examples = doc.operation("post")["requestBody"]["content"]
        ["application/x-www-form-urlencoded"]["examples"]
        .as_object()
        .expect("POST examples");
    let example_actions = examples.keys().map(String::as_str);
    assert_every_action_once("the POST examples", example_actions);
    let mut problems = Vec::new();
    let mut succeeded = BTreeSet::new();
    for (name, example) in examples {
        let value = doc.resolve(example)["value"]
            .as_object()
            .unwrap_or_else(|| panic!("example {name} has a value"));
        let action = value["Action"]
            .as_str()
            .expect("examples name their Action");
        assert_eq!(action, name, "example {name} is keyed by its action");
        let params: Vec<(String, String)> = value
            .iter()
            .filter(|(key, _)| !matches!(key.as_str(), "Action" | "Version"))
            .map(|(key, v)| (key.clone(), form_value(v)))
            .collect();
        let params: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let answer = client.call(action, &params).await;
        if answer.status == 200 {
            succeeded.insert(action.to_string());
        }
        for problem in doc.check_answer("post", action, &answer) {
            problems.push(format!(
                "example {name} → {} {}: {problem}",
                answer.status, answer.body
            ));
        }
    }
    // The GET operation's parameter examples make one DescribeExecution call.
    let get_example: Vec<(String, String)> = doc.operation("get")["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| doc.resolve(p))
        .filter(|p| p.get("example").is_some() && p["name"] != "Action")
        .map(|p| {
            (
                p["name"].as_str().expect("named").to_string(),
                form_value(&p["example"]),
            )
        })
        .collect();
    let get_params: Vec<(&str, &str)> = get_example
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let answer = client.get("DescribeExecution", &get_params).await;
    assert_eq!(answer.status, 200, "the GET example: {}", answer.body);
    problems.extend(doc.check_answer("get", "DescribeExecution", &answer));
    server.stop().await;
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    for action in [
        "CreateFlow",
        "UpdateFlow",
        "DeleteFlow",
        "DescribeFlow",
        "ListFlows",
        "StartExecution",
        "StartSyncExecution",
        "StopExecution",
        "DescribeExecution",
        "ListExecutions",
        "GetExecutionHistory",
        "PublishFlowVersion",
        "ListFlowVersions",
        "CreateFlowAlias",
        "UpdateFlowAlias",
        "DescribeFlowAlias",
        "ListFlowAliases",
        "DeleteFlowAlias",
        "DescribeRegions",
    ] {
        assert!(
            succeeded.contains(action),
            "the {action} example did not succeed against the seeded server"
        );
    }
}

/// docs/COMPATIBILITY.md#responses: every answer carries `x-acs-request-id`, equal to the body's `RequestId`,
/// also when the client sends a `RequestId` that cannot be a header value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_id_header_always_matches_the_body() {
    let doc = Document::load();
    let server = TestServer::start(Backend::Sqlite).await;
    let client = server.client();
    for (given, echoed) in [
        ("my-request-1", true),
        ("bad\u{1}id", false),
        ("héllo", false),
        ("two words", false),
    ] {
        for answer in [
            client.call("ListFlows", &[("RequestId", given)]).await,
            client
                .call("DescribeFlow", &[("RequestId", given), ("Name", "nope")])
                .await,
        ] {
            let action = if answer.status == 200 {
                "ListFlows"
            } else {
                "DescribeFlow"
            };
            let problems = doc.check_answer("post", action, &answer);
            assert!(problems.is_empty(), "{given:?}: {problems:?}");
            assert_eq!(
                answer.body["RequestId"] == given,
                echoed,
                "{given:?} → {}",
                answer.body
            );
        }
    }
    server.stop().await;
}
