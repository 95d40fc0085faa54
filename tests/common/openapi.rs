//! The OpenAPI document `openapi/fnf-2019-03-15.yaml` as tests see it: loading, `$ref`
//! resolution, the per-action parts (request schemas, response schemas, error codes), a
//! validator for the JSON Schema subset the document uses, and the resources its examples
//! name.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use regex::Regex;
use serde_json::Value;

use super::{Answer, Client};

pub const DOCUMENT_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/fnf-2019-03-15.yaml");

/// The error statuses every operation documents (docs/COMPATIBILITY.md#error-responses), besides 200.
pub const ERROR_STATUSES: [u16; 10] = [400, 403, 404, 405, 409, 412, 415, 429, 500, 503];

pub struct Document {
    pub root: Value,
}

impl Document {
    pub fn load() -> Document {
        let text = std::fs::read_to_string(DOCUMENT_PATH)
            .unwrap_or_else(|e| panic!("reading {DOCUMENT_PATH}: {e}"));
        let root: Value = serde_yaml_ng::from_str(&text)
            .unwrap_or_else(|e| panic!("{DOCUMENT_PATH} is not YAML this test can read: {e}"));
        Document { root }
    }

    /// The node a local `$ref` (`#/a/b`) designates.
    pub fn pointer(&self, reference: &str) -> &Value {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("only local $refs are used, got {reference}"));
        self.root
            .pointer(pointer)
            .unwrap_or_else(|| panic!("dangling $ref {reference}"))
    }

    /// Follows `$ref` until a node without one.
    pub fn resolve<'a>(&'a self, mut node: &'a Value) -> &'a Value {
        for _ in 0..16 {
            match node.get("$ref").and_then(Value::as_str) {
                Some(reference) => node = self.pointer(reference),
                None => return node,
            }
        }
        panic!("$ref chain too long at {node}");
    }

    pub fn schema(&self, name: &str) -> &Value {
        let schema = &self.root["components"]["schemas"][name];
        assert!(!schema.is_null(), "no components.schemas.{name}");
        schema
    }

    pub fn operation(&self, method: &str) -> &Value {
        let operation = &self.root["paths"]["/"][method];
        assert!(operation.is_object(), "no {method} operation on /");
        operation
    }

    /// `paths./.x-error-codes`: action → code → HTTP status.
    pub fn error_codes(&self) -> BTreeMap<String, BTreeMap<String, u16>> {
        let map = self.root["paths"]["/"]["x-error-codes"]
            .as_object()
            .expect("paths./.x-error-codes is a map");
        map.iter()
            .map(|(action, codes)| {
                let codes = codes
                    .as_object()
                    .unwrap_or_else(|| panic!("x-error-codes.{action} is a map"))
                    .iter()
                    .map(|(code, status)| {
                        let status = status
                            .as_u64()
                            .unwrap_or_else(|| panic!("x-error-codes.{action}.{code}: {status}"));
                        (code.clone(), status as u16)
                    })
                    .collect();
                (action.clone(), codes)
            })
            .collect()
    }

    /// The POST body's per-action schemas, keyed by their `Action` const, in document order.
    pub fn request_schemas(&self) -> Vec<(String, &Value)> {
        let body = &self.operation("post")["requestBody"]["content"]["application/x-www-form-urlencoded"]
            ["schema"];
        let union = self.resolve(body);
        union["oneOf"]
            .as_array()
            .expect("the POST body schema is a oneOf")
            .iter()
            .map(|branch| {
                let schema = self.resolve(branch);
                let action = self.resolve(&schema["properties"]["Action"])["const"]
                    .as_str()
                    .unwrap_or_else(|| panic!("no Action const in {branch}"))
                    .to_string();
                (action, schema)
            })
            .collect()
    }

    /// `components.schemas.<Action>Response`.
    pub fn response_schema(&self, action: &str) -> &Value {
        self.resolve(self.schema(&format!("{action}Response")))
    }

    /// The (resolved) response object of an operation for a status.
    pub fn response(&self, method: &str, status: u16) -> &Value {
        let response = &self.operation(method)["responses"][status.to_string()];
        assert!(!response.is_null(), "{method} documents no {status}");
        self.resolve(response)
    }

    /// The JSON schema of an operation's answer with this status.
    pub fn response_body_schema(&self, method: &str, status: u16) -> &Value {
        &self.response(method, status)["content"]["application/json"]["schema"]
    }

    /// The `Code` values an error response enumerates.
    pub fn codes_of_status(&self, method: &str, status: u16) -> BTreeSet<String> {
        let schema = self.resolve(self.response_body_schema(method, status));
        let mut codes = BTreeSet::new();
        for part in schema["allOf"].as_array().into_iter().flatten() {
            let part = self.resolve(part);
            for code in part["properties"]["Code"]["enum"]
                .as_array()
                .into_iter()
                .flatten()
            {
                codes.insert(code.as_str().expect("codes are strings").to_string());
            }
        }
        codes
    }

    /// Checks `value` against `schema`; returns what is wrong (empty when it conforms).
    pub fn validate(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.check(schema, value, "$", &mut errors);
        errors
    }

    fn check(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let Some(schema_map) = schema.as_object() else {
            return; // `true`, or a bare annotation
        };
        if let Some(reference) = schema_map.get("$ref").and_then(Value::as_str) {
            // JSON Schema 2020-12: a $ref applies together with its siblings.
            self.check(self.pointer(reference), value, at, errors);
        }
        for part in schema["allOf"].as_array().into_iter().flatten() {
            self.check(part, value, at, errors);
        }
        if let Some(branches) = schema["oneOf"].as_array() {
            let matching = branches
                .iter()
                .filter(|branch| self.validate(branch, value).is_empty())
                .count();
            if matching != 1 {
                errors.push(format!(
                    "{at}: matches {matching} of the oneOf branches, not exactly one"
                ));
            }
        }
        if let Some(expected) = schema.get("const")
            && value != expected
        {
            errors.push(format!("{at}: {value} is not {expected}"));
        }
        if let Some(allowed) = schema["enum"].as_array()
            && !allowed.contains(value)
        {
            errors.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
        if let Some(kind) = schema["type"].as_str()
            && !has_type(value, kind)
        {
            errors.push(format!("{at}: {value} is not of type {kind}"));
            return;
        }
        match value {
            Value::String(text) => self.check_string(schema, text, at, errors),
            Value::Number(number) => {
                let number = number.as_f64().expect("finite JSON number");
                if let Some(minimum) = schema["minimum"].as_f64()
                    && number < minimum
                {
                    errors.push(format!("{at}: {number} < minimum {minimum}"));
                }
                if let Some(maximum) = schema["maximum"].as_f64()
                    && number > maximum
                {
                    errors.push(format!("{at}: {number} > maximum {maximum}"));
                }
            }
            Value::Array(items) => {
                if let Some(min) = schema["minItems"].as_u64()
                    && (items.len() as u64) < min
                {
                    errors.push(format!("{at}: fewer than {min} items"));
                }
                if let Some(max) = schema["maxItems"].as_u64()
                    && (items.len() as u64) > max
                {
                    errors.push(format!("{at}: more than {max} items"));
                }
                if let Some(item_schema) = schema.get("items") {
                    for (index, item) in items.iter().enumerate() {
                        self.check(item_schema, item, &format!("{at}[{index}]"), errors);
                    }
                }
            }
            Value::Object(members) => {
                for name in schema["required"].as_array().into_iter().flatten() {
                    let name = name.as_str().expect("required names are strings");
                    if !members.contains_key(name) {
                        errors.push(format!("{at}: required member {name} is missing"));
                    }
                }
                let properties = schema["properties"].as_object();
                for (name, member) in members {
                    let at = format!("{at}.{name}");
                    match properties.and_then(|p| p.get(name)) {
                        Some(property) => self.check(property, member, &at, errors),
                        None => match schema.get("additionalProperties") {
                            Some(Value::Bool(false)) => {
                                errors.push(format!("{at}: member not allowed here"))
                            }
                            Some(extra) if extra.is_object() => {
                                self.check(extra, member, &at, errors)
                            }
                            _ => {}
                        },
                    }
                }
            }
            Value::Bool(_) | Value::Null => {}
        }
    }

    fn check_string(&self, schema: &Value, text: &str, at: &str, errors: &mut Vec<String>) {
        let length = text.chars().count() as u64;
        if let Some(min) = schema["minLength"].as_u64()
            && length < min
        {
            errors.push(format!("{at}: shorter than {min} characters"));
        }
        if let Some(max) = schema["maxLength"].as_u64()
            && length > max
        {
            errors.push(format!("{at}: longer than {max} characters"));
        }
        if let Some(pattern) = schema["pattern"].as_str() {
            let regex = Regex::new(pattern)
                .unwrap_or_else(|e| panic!("pattern {pattern} does not compile: {e}"));
            if !regex.is_match(text) {
                errors.push(format!("{at}: {text:?} does not match {pattern}"));
            }
        }
    }

    /// Checks one answer of `action` against the document: its status is documented, an
    /// error's `Code` is one of the action's `x-error-codes` with that status, the body
    /// conforms to the response schema, and the `x-acs-request-id` header matches.
    pub fn check_answer(&self, method: &str, action: &str, answer: &Answer) -> Vec<String> {
        let mut problems = Vec::new();
        let header = answer
            .headers
            .get("x-acs-request-id")
            .and_then(|v| v.to_str().ok());
        if header.is_none() || header != answer.body["RequestId"].as_str() {
            problems.push(format!(
                "x-acs-request-id {header:?} differs from the body's RequestId"
            ));
        }
        if answer.status == 200 {
            for error in self.validate(self.response_schema(action), &answer.body) {
                problems.push(format!("not a {action}Response: {error}"));
            }
            for error in self.validate(self.response_body_schema(method, 200), &answer.body) {
                problems.push(format!("not the documented 200 body: {error}"));
            }
        } else {
            let code = answer.code();
            match self
                .error_codes()
                .get(action)
                .and_then(|codes| codes.get(code))
            {
                None => problems.push(format!("{code:?} is not in x-error-codes.{action}")),
                Some(&status) if status != answer.status => problems.push(format!(
                    "{code} is documented with {status}, answered with {}",
                    answer.status
                )),
                Some(_) => {}
            }
            if !ERROR_STATUSES.contains(&answer.status) {
                problems.push(format!("status {} is not documented", answer.status));
            } else {
                let schema = self.response_body_schema(method, answer.status);
                for error in self.validate(schema, &answer.body) {
                    problems.push(format!(
                        "not the documented {} body: {error}",
                        answer.status
                    ));
                }
            }
        }
        problems
    }
}

fn has_type(value: &Value, kind: &str) -> bool {
    match kind {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        other => panic!("unknown JSON Schema type {other}"),
    }
}

/// The text a form field carries for an example value (`true`, `10`, or the string).
pub fn form_value(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn state_machine(name: &str, states: &str) -> String {
    format!("Type: StateMachine\nName: {name}\nSpecVersion: v1\nStartAt: S\nStates:\n{states}")
}

const PASS_STATE: &str = "  - Type: Pass\n    Name: S\n    End: true\n";

/// Creates what the document's examples name: `my_flow` (with an environment), its
/// published version `1` and its finished execution `exec1`, `hello_flow`, the Express flow `my_express_flow`,
/// `flow_to_delete`, and `slow_flow` (with a role) whose execution `slow_exec` waits five
/// minutes. Examples name `my_flow` only as a `FlowName` (never as a `Name`, which
/// DeleteFlow takes), so a fuzzer that mixes example values does not delete it.
pub async fn seed_example_resources(client: &Client) {
    client
        .create_flow_with(
            "my_flow",
            &state_machine("my_flow", PASS_STATE),
            &[(
                "Environment",
                r#"{"Variables":[{"Name":"K","Value":"V","Description":"d"}]}"#,
            )],
        )
        .await;
    client
        .create_flow_with(
            "my_express_flow",
            &state_machine("my_express_flow", PASS_STATE),
            &[("ExecutionMode", "Express")],
        )
        .await;
    for name in ["hello_flow", "flow_to_delete"] {
        client
            .create_flow(name, &state_machine(name, PASS_STATE))
            .await;
    }
    client
        .create_flow_with(
            "slow_flow",
            &state_machine(
                "slow_flow",
                "  - Type: Wait\n    Name: S\n    Seconds: 300\n    End: true\n",
            ),
            &[("RoleArn", "acs:ram::1111111111111111:role/fnf")],
        )
        .await;
    client
        .call("PublishFlowVersion", &[("FlowName", "my_flow")])
        .await
        .ok();
    client.start("my_flow", "exec1", r#"{"a": 1}"#).await;
    client
        .wait_end("my_flow", "exec1", Duration::from_secs(20))
        .await;
    client.start("slow_flow", "slow_exec", "").await;
}
