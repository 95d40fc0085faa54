//! The graph of a definition on the console's pages, drawn by `crate::graph`: the flow's
//! shape, and for an execution each node coloured by what happened to it.

use std::collections::BTreeMap;

use crate::engine::ir::FlowDefinition;
use crate::engine::parse::{ParseOptions, parse_definition};
use crate::graph::{EventFacts, NodeId, NodeStatus, layout, render_svg, statuses};

use super::model::events::Event;

/// The parsed definition, or `None` when it no longer parses (it did at CreateFlow).
pub fn parse(flow_name: &str, definition: &str, express: bool) -> Option<FlowDefinition> {
    parse_definition(definition, &ParseOptions { flow_name, express }).ok()
}

/// The SVG of a flow's definition.
pub fn flow_svg(flow_name: &str, definition: &str, express: bool) -> Option<String> {
    let parsed = parse(flow_name, definition, express)?;
    Some(render_svg(&layout(&parsed), None))
}

/// What happened to every node, from an execution's history.
pub fn node_statuses(
    definition: &FlowDefinition,
    events: &[Event],
) -> BTreeMap<NodeId, NodeStatus> {
    statuses(
        definition,
        events.iter().map(|event| EventFacts {
            event_id: event.id,
            event_type: &event.kind,
            step_name: &event.step,
            schedule_event_id: event.schedule_id,
            detail: &event.raw_detail,
        }),
    )
}

/// An execution's graph with its nodes' statuses.
pub struct ExecutionGraph {
    pub svg: String,
    pub statuses: BTreeMap<NodeId, NodeStatus>,
}

pub fn execution_graph(
    flow_name: &str,
    definition: &str,
    events: &[Event],
) -> Option<ExecutionGraph> {
    let parsed = parse(flow_name, definition, false)?;
    let statuses = node_statuses(&parsed, events);
    Some(ExecutionGraph {
        svg: render_svg(&layout(&parsed), Some(&statuses)),
        statuses,
    })
}

/// The step name a node id ends with (`Fan/Work` → `Work`, `a%2Fb` → `a/b`): history
/// names steps by their own name.
pub fn step_name(node: &str) -> String {
    let last = node.rsplit('/').next().unwrap_or(node);
    percent_encoding::percent_decode_str(last)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLOW: &str = "Type: StateMachine\nName: f\nSpecVersion: v1\nStartAt: A\nStates:\n  - Type: Pass\n    Name: A\n    Next: B\n  - Type: Wait\n    Name: B\n    Seconds: 5\n    End: true\n";

    fn event(id: i64, kind: &str, step: &str, schedule_id: i64, detail: &str) -> Event {
        Event {
            id,
            kind: kind.into(),
            step: step.into(),
            time: id,
            time_text: String::new(),
            schedule_id,
            detail: serde_json::from_str(detail).unwrap(),
            raw_detail: detail.into(),
        }
    }

    #[test]
    fn nodes_take_the_status_of_their_steps() {
        let events = [
            event(1, "ExecutionStarted", "", 0, r#"{"input":{}}"#),
            event(2, "StepEntered", "A", 0, r#"{"input":{}}"#),
            event(3, "StepExited", "A", 2, r#"{"output":{}}"#),
            event(4, "StepEntered", "B", 0, r#"{"input":{}}"#),
            event(5, "StepStarted", "B", 4, r#"{}"#),
        ];
        let drawn = execution_graph("f", FLOW, &events).expect("the flow is drawn");
        assert_eq!(drawn.statuses["A"].status.as_str(), "succeeded");
        assert_eq!(drawn.statuses["B"].status.as_str(), "running");
        assert!(drawn.svg.contains(r#"data-node="B""#), "{}", drawn.svg);
        assert!(flow_svg("f", "not: [a flow", false).is_none());
    }

    #[test]
    fn node_ids_name_steps() {
        assert_eq!(step_name("Fan/Work"), "Work");
        assert_eq!(step_name("a%2Fb"), "a/b");
        assert_eq!(step_name("Top"), "Top");
    }
}
