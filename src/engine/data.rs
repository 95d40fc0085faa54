//! Data shaping shared by all states: FDL mappings and merges (docs/COMPATIBILITY.md#fdl-data-flow), state
//! machine constructors and variables (docs/COMPATIBILITY.md#state-machine-data-flow), and the scopes expressions evaluate in.

use std::cell::OnceCell;

use serde_json::{Map, Value, json};

use super::expr::{Expr, Root, Scope};
use super::ir::{Mappings, Source, Template, limits};

/// A data-shaping failure; the state fails with `FnF.RuntimeError` and this cause.
#[derive(Debug, Clone, PartialEq)]
pub struct ShapeError(pub String);

/// What FDL `$context` (docs/COMPATIBILITY.md#fdl-data-flow) describes.
#[derive(Debug, Clone, Copy)]
pub struct FdlContext<'a> {
    pub execution_name: &'a str,
    pub flow_name: &'a str,
    pub step_event_id: i64,
    pub task_token: Option<&'a str>,
}

impl FdlContext<'_> {
    fn to_value(self) -> Value {
        let mut context = json!({
            "execution": {"name": self.execution_name},
            "flow": {"name": self.flow_name},
            "step": {"eventId": self.step_event_id},
        });
        if let Some(token) = self.task_token {
            context["task"] = json!({"token": token});
        }
        context
    }
}

/// The roots of FDL mappings: `$input`, `$local`, `$context`.
pub struct FdlMappingScope<'a> {
    pub input: &'a Value,
    pub local: &'a Value,
    pub context: FdlContext<'a>,
    context_value: OnceCell<Value>,
}

impl<'a> FdlMappingScope<'a> {
    pub fn new(input: &'a Value, local: &'a Value, context: FdlContext<'a>) -> Self {
        FdlMappingScope {
            input,
            local,
            context,
            context_value: OnceCell::new(),
        }
    }
}

impl Scope for FdlMappingScope<'_> {
    fn root(&self, root: Root) -> Option<&Value> {
        match root {
            Root::FdlInput => Some(self.input),
            Root::FdlLocal => Some(self.local),
            Root::FdlContext => Some(self.context_value.get_or_init(|| self.context.to_value())),
            _ => None,
        }
    }
}

/// The FDL `$` root: the current step's input (conditions, collection, wait, serviceParams).
pub struct DollarScope<'a>(pub &'a Value);

impl Scope for DollarScope<'_> {
    fn root(&self, root: Root) -> Option<&Value> {
        (root == Root::Dollar).then_some(self.0)
    }
}

/// What the state machine's `$Context` (docs/COMPATIBILITY.md#state-machine-data-flow) describes.
#[derive(Debug, Clone, Copy)]
pub struct SmContext<'a> {
    pub execution_name: &'a str,
    pub execution_input: &'a Value,
    pub role_arn: Option<&'a str>,
    pub flow_name: &'a str,
    pub region: &'a str,
    pub state_name: &'a str,
    pub retry_count: u32,
    pub task_token: Option<&'a str>,
    /// Set while a Catch rule's OutputConstructor runs.
    pub error: Option<(&'a str, &'a str)>,
}

/// The roots of state machine expressions.
pub struct SmScope<'a> {
    pub input: &'a Value,
    pub output: Option<&'a Value>,
    pub global: &'a Value,
    pub context: SmContext<'a>,
    context_value: OnceCell<Value>,
}

impl<'a> SmScope<'a> {
    pub fn new(
        input: &'a Value,
        output: Option<&'a Value>,
        global: &'a Value,
        context: SmContext<'a>,
    ) -> Self {
        SmScope {
            input,
            output,
            global,
            context,
            context_value: OnceCell::new(),
        }
    }

    fn build_context(&self) -> Value {
        let c = &self.context;
        let mut current = Map::new();
        current.insert("Name".into(), Value::from(c.state_name));
        current.insert("Input".into(), self.input.clone());
        if let Some(output) = self.output {
            current.insert("Output".into(), output.clone());
        }
        if let Some((code, detail)) = c.error {
            current.insert("Error".into(), json!({"Code": code, "Detail": detail}));
        }
        current.insert("RetryCount".into(), Value::from(c.retry_count));
        if let Some(token) = c.task_token {
            current.insert("TaskToken".into(), Value::from(token));
        }
        json!({
            "Execution": {
                "Name": c.execution_name,
                "Input": c.execution_input,
                "RoleArn": c.role_arn.unwrap_or_default(),
            },
            "Current": current,
            "Flow": {"Name": c.flow_name, "Region": c.region},
        })
    }
}

impl Scope for SmScope<'_> {
    fn root(&self, root: Root) -> Option<&Value> {
        match root {
            Root::Input => Some(self.input),
            Root::Output => self.output,
            Root::Global => Some(self.global),
            Root::Context => Some(self.context_value.get_or_init(|| self.build_context())),
            _ => None,
        }
    }
}

/// Evaluates an expression in value mode, naming it in the error.
pub fn eval(expr: &Expr, scope: &dyn Scope) -> Result<Value, ShapeError> {
    expr.eval(scope)
        .map_err(|e| ShapeError(format!("evaluating '{}': {e}", expr.source())))
}

/// Evaluates a condition; a failure is a runtime error of the Choice.
pub fn eval_condition(expr: &Expr, scope: &dyn Scope) -> Result<bool, ShapeError> {
    expr.eval_condition(scope)
        .map_err(|e| ShapeError(format!("evaluating condition '{}': {e}", expr.source())))
}

/// Builds the object an FDL mapping list describes (docs/COMPATIBILITY.md#fdl-data-flow): targets in order, later wins.
pub fn apply_mappings(mappings: &Mappings, scope: &dyn Scope) -> Result<Value, ShapeError> {
    let mut built = Map::new();
    for mapping in &mappings.0 {
        let value = match &mapping.source {
            Source::Const(value) => value.clone(),
            Source::Expr(expr) => eval(expr, scope)?,
        };
        built.insert(mapping.target.clone(), value);
    }
    Ok(Value::Object(built))
}

/// Evaluates a constructor (docs/COMPATIBILITY.md#state-machine-data-flow).
pub fn build_template(template: &Template, scope: &dyn Scope) -> Result<Value, ShapeError> {
    Ok(match template {
        Template::Literal(value) => value.clone(),
        Template::Expr(expr) => eval(expr, scope)?,
        Template::Object(members) => {
            let mut built = Map::with_capacity(members.len());
            for (key, member) in members {
                built.insert(key.clone(), build_template(member, scope)?);
            }
            Value::Object(built)
        }
        Template::Array(elements) => Value::Array(
            elements
                .iter()
                .map(|element| build_template(element, scope))
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// Shallow merge (docs/COMPATIBILITY.md#fdl-data-flow): top-level keys of `over` replace those of `base`. Non-objects
/// count as empty.
pub fn merge(base: &Value, over: &Value) -> Value {
    let mut merged = match base {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    if let Value::Object(over) = over {
        for (key, value) in over {
            merged.insert(key.clone(), value.clone());
        }
    }
    Value::Object(merged)
}

/// Merges `over` into `base` in place.
pub fn merge_into(base: &mut Value, over: Value) {
    if !base.is_object() {
        *base = Value::Object(Map::new());
    }
    if let (Value::Object(base), Value::Object(over)) = (base, over) {
        base.extend(over);
    }
}

/// The size of a value's JSON text, without building the text.
pub fn json_size(value: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing a Value into an infallible sink cannot fail.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// How many arrays and objects a value nests (a scalar: 0), without recursing, so it is safe
/// on values of any depth.
pub fn json_depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(value, 1)];
    while let Some((value, level)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(members) => Box::new(members.values()),
            _ => continue,
        };
        deepest = deepest.max(level);
        pending.extend(children.map(|child| (child, level + 1)));
    }
    deepest
}

/// Rejects data nested deeper than `limits::MAX_DATA_DEPTH`; `what` names it in the error.
pub fn check_depth(value: &Value, what: &str) -> Result<(), ShapeError> {
    if json_depth(value) > limits::MAX_DATA_DEPTH {
        return Err(ShapeError(format!(
            "{what} is nested more than {} levels deep",
            limits::MAX_DATA_DEPTH
        )));
    }
    Ok(())
}

/// An empty JSON object.
pub fn empty_object() -> Value {
    Value::Object(Map::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_is_shallow_and_later_wins() {
        let base = json!({"a": 1, "n": {"x": 1}});
        let over = json!({"a": 2, "n": {"y": 2}});
        assert_eq!(merge(&base, &over), json!({"a": 2, "n": {"y": 2}}));
        let mut into = json!({"k": 1});
        merge_into(&mut into, json!({"k": 3, "z": 0}));
        assert_eq!(into, json!({"k": 3, "z": 0}));
    }

    #[test]
    fn depth_is_measured_without_recursion() {
        assert_eq!(json_depth(&json!(1)), 0);
        assert_eq!(json_depth(&json!([])), 1);
        assert_eq!(json_depth(&json!({"a": [1, {"b": []}], "c": 2})), 4);
        let mut deep = json!(null);
        for _ in 0..100_000 {
            deep = Value::Array(vec![deep]);
        }
        assert_eq!(json_depth(&deep), 100_000);
        let error = check_depth(&deep, "the state output").unwrap_err();
        assert_eq!(
            error.0,
            "the state output is nested more than 256 levels deep"
        );
        // Dropping it recursively would overflow the stack this test runs on.
        while let Value::Array(mut items) = deep {
            deep = items.pop().unwrap_or_default();
        }
    }

    #[test]
    fn json_size_matches_serialized_length() {
        let value = json!({"a": [1, 2, "three"], "b": {"c": null}});
        assert_eq!(json_size(&value), value.to_string().len());
    }

    #[test]
    fn constant_mappings_are_copied_literally() {
        let mappings = Mappings(vec![
            super::super::ir::Mapping {
                target: "x".into(),
                source: Source::Const(json!({"tags": ["$input.user"]})),
            },
            super::super::ir::Mapping {
                target: "x".into(),
                source: Source::Const(json!(5)),
            },
        ]);
        let input = json!({});
        let local = json!({});
        let scope = FdlMappingScope::new(
            &input,
            &local,
            FdlContext {
                execution_name: "e",
                flow_name: "f",
                step_event_id: 2,
                task_token: None,
            },
        );
        assert_eq!(apply_mappings(&mappings, &scope).unwrap(), json!({"x": 5}));
    }
}
