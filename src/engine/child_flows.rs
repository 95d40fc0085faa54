//! Which flows a definition can start as child executions (FDL subflow steps, state machine
//! `FNF:StartExecution` tasks), as far as the text tells: the names it writes out, and
//! whether some name is only computed at run time.

use std::collections::BTreeSet;

use serde_json::Value;

use super::ir::{FlowDefinition, Scope, Source, StateKind, TaskTarget, Template, parse_flow_arn};

/// The child flows of a definition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChildFlows {
    /// Flow names written in the definition.
    pub named: BTreeSet<String>,
    /// Some child flow is named by an expression, known only when the task runs.
    pub computed: bool,
}

impl ChildFlows {
    pub fn of(definition: &FlowDefinition) -> ChildFlows {
        let mut found = ChildFlows::default();
        found.scope(&definition.root);
        found
    }

    fn scope(&mut self, scope: &Scope) {
        for state in &scope.states {
            match &state.kind {
                StateKind::Task(task) => self.target(&task.target),
                StateKind::Parallel(parallel) => {
                    parallel.branches.iter().for_each(|b| self.scope(b))
                }
                // A distributed Map's children run the same Processor.
                StateKind::Map(map) => self.scope(&map.processor),
                StateKind::Choice(choice) => {
                    let targets = choice.options.iter().map(|option| &option.target);
                    for target in targets.chain(choice.default.as_ref()) {
                        if let Some(steps) = &target.steps {
                            self.scope(steps);
                        }
                    }
                }
                StateKind::Pass | StateKind::Wait(_) | StateKind::Succeed | StateKind::Fail(_) => {}
            }
        }
    }

    fn target(&mut self, target: &TaskTarget) {
        match target {
            TaskTarget::FdlFlow {
                flow_name: Some(name),
                ..
            } => {
                self.named.insert(name.clone());
            }
            TaskTarget::FdlFlow {
                flow_name: None,
                params,
            } => match params.iter().find(|(name, _)| name == "FlowName") {
                Some((_, Source::Const(Value::String(name)))) => {
                    self.named.insert(name.clone());
                }
                Some((_, Source::Expr(_))) => self.computed = true,
                // Anything else fails the task when it runs, starting nothing.
                Some((_, Source::Const(_))) | None => {}
            },
            TaskTarget::StartExecution(parameters) => self.resource_arn(parameters),
            TaskTarget::FdlFunction(_)
            | TaskTarget::FcInvoke(_)
            | TaskTarget::Http(_)
            | TaskTarget::Unsupported { .. } => {}
        }
    }

    /// `Parameters.resourceArn` of a `FNF:StartExecution` task.
    fn resource_arn(&mut self, parameters: &Template) {
        let arn = match parameters {
            Template::Object(members) => match members.iter().find(|(key, _)| key == "resourceArn")
            {
                Some((_, Template::Literal(arn))) => Some(arn),
                Some(_) => {
                    self.computed = true;
                    return;
                }
                None => None,
            },
            Template::Literal(Value::Object(members)) => members.get("resourceArn"),
            Template::Expr(_) => {
                self.computed = true;
                return;
            }
            Template::Literal(_) | Template::Array(_) => None,
        };
        // Not a flow ARN: the task fails when it runs, starting nothing.
        if let Some(name) = arn.and_then(Value::as_str).and_then(parse_flow_arn) {
            self.named.insert(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::parse::{ParseOptions, parse_definition};

    fn child_flows(text: &str) -> ChildFlows {
        let options = ParseOptions {
            flow_name: "parent",
            express: false,
        };
        ChildFlows::of(&parse_definition(text, &options).expect("a valid definition"))
    }

    fn named(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn state_machine_tasks_nested_anywhere() {
        let found = child_flows(
            r#"
Type: StateMachine
Name: parent
SpecVersion: v1
StartAt: Start
States:
  - Type: Task
    Name: Start
    Action: FNF:StartExecution
    Parameters:
      resourceArn: acs:fnf:::flow/first
    Next: Both
  - Type: Parallel
    Name: Both
    Branches:
      - StartAt: Inner
        States:
          - Type: Task
            Name: Inner
            Action: FNF:StartExecution
            Parameters:
              resourceArn: acs:fnf:cn-hangzhou:123:flow/second
              input:
                a.$: $Input.a
            End: true
    Next: Each
  - Type: Map
    Name: Each
    ItemsPath: $Input.items
    Processor:
      StartAt: Item
      States:
        - Type: Task
          Name: Item
          Action: FNF:StartExecution
          Parameters:
            resourceArn: acs:fnf:::flow/third
          End: true
    End: true
"#,
        );
        assert_eq!(found.named, named(&["first", "second", "third"]));
        assert!(!found.computed);
    }

    #[test]
    fn a_computed_resource_arn_is_reported() {
        let found = child_flows(
            r#"
Type: StateMachine
Name: parent
SpecVersion: v1
StartAt: Start
States:
  - Type: Task
    Name: Start
    Action: FNF:StartExecution
    Parameters:
      resourceArn.$: $Input.arn
    End: true
"#,
        );
        assert!(found.named.is_empty());
        assert!(found.computed);
    }

    #[test]
    fn fdl_subflows_by_arn_by_name_and_computed() {
        let found = child_flows(
            r#"
version: v1
type: flow
steps:
  - type: task
    name: byArn
    resourceArn: acs:fnf:::flow/fixed
  - type: choice
    name: pick
    choices:
      - condition: $.x == 1
        steps:
          - type: task
            name: byName
            action: fnf:StartExecution
            serviceParams:
              FlowName: named
    default:
      steps:
        - type: task
          name: computed
          action: fnf:StartExecution
          serviceParams:
            FlowName: $.flow
"#,
        );
        assert_eq!(found.named, named(&["fixed", "named"]));
        assert!(found.computed);
    }

    #[test]
    fn no_children() {
        let found = child_flows(
            "Type: StateMachine\nName: parent\nSpecVersion: v1\nStartAt: A\nStates:\n  - Type: Pass\n    Name: A\n    End: true\n",
        );
        assert_eq!(found, ChildFlows::default());
    }
}
