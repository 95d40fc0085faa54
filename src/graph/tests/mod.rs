//! The layout of every worked example of both languages and of generated large flows:
//! every state present, an edge for every transition, no two boxes overlapping, no label
//! over a box or another label, no edge through a box.

mod generated;
mod histories;
mod svg;

// The worked examples, shared with the end-to-end tests that run them.
#[allow(dead_code)]
#[path = "../../../tests/common/definitions/mod.rs"]
mod definitions;

use std::collections::{BTreeSet, HashMap};

use super::model::{end_id, option_segment, start_id};
use super::{EdgeKind, Graph, Node, Rect, layout, state_id};
use crate::engine::ir::{FlowDefinition, Next, Scope, StateKind};
use crate::engine::parse::{ParseOptions, parse_definition};

pub(super) fn parse(text: &str, flow_name: &str) -> FlowDefinition {
    parse_definition(
        text,
        &ParseOptions {
            flow_name,
            express: false,
        },
    )
    .unwrap_or_else(|error| panic!("{flow_name}: {error}\n{text}"))
}

/// (from, to, kind, label) of an edge.
type Transition = (String, String, EdgeKind, Option<String>);

/// What the graph of `definition` must show, read from the IR: every node id and every
/// transition.
fn expected(definition: &FlowDefinition) -> (BTreeSet<String>, Vec<Transition>) {
    let mut nodes = BTreeSet::new();
    let mut edges = Vec::new();
    walk(&definition.root, "", &mut nodes, &mut edges);
    edges.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    (nodes, edges)
}

fn walk(scope: &Scope, path: &str, nodes: &mut BTreeSet<String>, edges: &mut Vec<Transition>) {
    let id = |index: usize| state_id(path, &scope.states[index].name);
    let target = |next: Next| match next {
        Next::State(index) => id(index),
        Next::End => end_id(path),
    };
    nodes.insert(start_id(path));
    nodes.insert(end_id(path));
    edges.push((start_id(path), id(scope.start), EdgeKind::Next, None));
    for (index, state) in scope.states.iter().enumerate() {
        let me = id(index);
        nodes.insert(me.clone());
        match &state.kind {
            StateKind::Choice(spec) => {
                let mut targets: Vec<_> = spec
                    .options
                    .iter()
                    .enumerate()
                    .map(|(k, option)| {
                        let label = option.condition.source().to_string();
                        (Some(k), &option.target, EdgeKind::Choice, label)
                    })
                    .collect();
                match &spec.default {
                    Some(default) => {
                        targets.push((None, default, EdgeKind::Default, "Default".into()))
                    }
                    None => edges.push((
                        me.clone(),
                        target(state.next),
                        EdgeKind::Default,
                        Some("Default".into()),
                    )),
                }
                for (option, choice_target, kind, label) in targets {
                    let after = choice_target.goto.map_or(target(state.next), id);
                    match &choice_target.steps {
                        Some(steps) => {
                            let body = format!("{me}/{}", option_segment(option));
                            nodes.insert(body.clone());
                            walk(steps, &body, nodes, edges);
                            edges.push((me.clone(), body.clone(), kind, Some(label)));
                            edges.push((body, after, EdgeKind::Next, None));
                        }
                        None => edges.push((me.clone(), after, kind, Some(label))),
                    }
                }
            }
            StateKind::Fail(_) => {}
            _ => edges.push((me.clone(), target(state.next), EdgeKind::Next, None)),
        }
        match &state.kind {
            StateKind::Parallel(spec) => {
                for (branch, list) in spec.branches.iter().enumerate() {
                    let lane = format!("{me}/{branch}");
                    nodes.insert(lane.clone());
                    walk(list, &lane, nodes, edges);
                }
            }
            StateKind::Map(spec) => walk(&spec.processor, &me, nodes, edges),
            _ => {}
        }
        for catch in &state.catch {
            edges.push((
                me.clone(),
                id(catch.next),
                EdgeKind::Catch,
                Some(catch.errors.join(", ")),
            ));
        }
    }
}

/// Checks every promise of the layout; `name` says which graph failed.
pub(super) fn check(name: &str, definition: &FlowDefinition, graph: &Graph) {
    let by_id: HashMap<&str, &Node> = graph.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    assert_eq!(by_id.len(), graph.nodes.len(), "{name}: duplicate node ids");
    let (nodes, transitions) = expected(definition);
    let ids: BTreeSet<String> = graph.nodes.iter().map(|n| n.id.clone()).collect();
    assert_eq!(ids, nodes, "{name}: the nodes");
    let mut drawn: Vec<Transition> = graph
        .edges
        .iter()
        .map(|e| {
            let label = e.label.as_ref().map(|label| label.text.clone());
            // An elided edge's label names its target after an arrow.
            let label = match (e.elided, label) {
                (true, Some(text)) => text.rsplit_once(" → ").map(|(own, _)| own.to_string()),
                (_, label) => label,
            };
            (e.from.clone(), e.to.clone(), e.kind, label)
        })
        .collect();
    drawn.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    assert_eq!(drawn, transitions, "{name}: the edges");

    let bounds = Rect {
        x: 0.0,
        y: 0.0,
        w: graph.width,
        h: graph.height,
    };
    let lineage: HashMap<&str, Vec<&str>> = graph
        .nodes
        .iter()
        .map(|node| {
            let mut chain = Vec::new();
            let mut current = node.parent.as_deref();
            while let Some(parent) = current {
                chain.push(parent);
                current = by_id[parent].parent.as_deref();
            }
            (node.id.as_str(), chain)
        })
        .collect();
    let ancestors = |id: &str| lineage[id].clone();
    for node in &graph.nodes {
        assert!(bounds.contains(&node.rect), "{name}: {} outside", node.id);
        if let Some(parent) = &node.parent {
            let parent = by_id[parent.as_str()];
            assert!(
                parent.rect.contains(&node.rect),
                "{name}: {} outside {}",
                node.id,
                parent.id
            );
            assert!(
                parent.children.contains(&node.id),
                "{name}: {} not a child",
                node.id
            );
        }
        for child in &node.children {
            assert_eq!(
                by_id[child.as_str()].parent.as_ref(),
                Some(&node.id),
                "{name}"
            );
        }
    }
    for (i, a) in graph.nodes.iter().enumerate() {
        for b in &graph.nodes[i + 1..] {
            let related = ancestors(&a.id).contains(&b.id.as_str())
                || ancestors(&b.id).contains(&a.id.as_str());
            assert!(
                related || !a.rect.overlaps(&b.rect),
                "{name}: {} {:?} overlaps {} {:?}",
                a.id,
                a.rect,
                b.id,
                b.rect
            );
        }
    }

    let mut labels: Vec<(&str, Rect)> = Vec::new();
    for edge in &graph.edges {
        let what = format!("{name}: edge {} → {}", edge.from, edge.to);
        let (from, to) = (by_id[edge.from.as_str()], by_id[edge.to.as_str()]);
        assert_eq!(from.parent, to.parent, "{what}: ends in different lists");
        // The containers the edge is drawn in.
        let mut around: Vec<&str> = from.parent.iter().map(String::as_str).collect();
        around.extend(from.parent.as_deref().map(ancestors).unwrap_or_default());
        assert!(edge.points.len() >= 2, "{what}: {:?}", edge.points);
        let first = edge.points[0];
        let last = edge.points[edge.points.len() - 1];
        assert!(
            on_border(&from.rect, first.x, first.y),
            "{what}: starts off its source"
        );
        if !edge.elided {
            assert!(
                on_border(&to.rect, last.x, last.y),
                "{what}: ends off its target"
            );
        }
        for point in &edge.points {
            let at = Rect {
                x: point.x,
                y: point.y,
                w: 0.0,
                h: 0.0,
            };
            assert!(bounds.contains(&at), "{what}: {point:?} outside");
        }
        for pair in edge.points.windows(2) {
            let (p, q) = ((pair[0].x, pair[0].y), (pair[1].x, pair[1].y));
            for node in &graph.nodes {
                if around.contains(&node.id.as_str()) {
                    continue;
                }
                assert!(
                    !crosses(&node.rect, p, q),
                    "{what}: crosses {} ({p:?} → {q:?})",
                    node.id
                );
            }
        }
        if let Some(label) = &edge.label {
            assert!(
                bounds.contains(&label.rect),
                "{what}: label outside the drawing"
            );
            for node in &graph.nodes {
                if around.contains(&node.id.as_str()) {
                    assert!(
                        node.rect.contains(&label.rect),
                        "{what}: label outside {}",
                        node.id
                    );
                } else {
                    assert!(
                        !node.rect.overlaps(&label.rect),
                        "{what}: label over {}",
                        node.id
                    );
                }
            }
            labels.push((&label.text, label.rect));
        }
    }
    // No edge runs under another edge's label.
    for (index, edge) in graph.edges.iter().enumerate() {
        for (other, label) in graph
            .edges
            .iter()
            .enumerate()
            .filter(|(other, _)| *other != index)
        {
            let Some(label) = &label.label else {
                continue;
            };
            for pair in edge.points.windows(2) {
                let (p, q) = ((pair[0].x, pair[0].y), (pair[1].x, pair[1].y));
                assert!(
                    !crosses(&label.rect, p, q),
                    "{name}: edge {} → {} crosses the label '{}' of edge {other}",
                    edge.from,
                    edge.to,
                    label.text
                );
            }
        }
    }
    for (i, (a, ra)) in labels.iter().enumerate() {
        for (b, rb) in &labels[i + 1..] {
            assert!(!ra.overlaps(rb), "{name}: labels '{a}' and '{b}' overlap");
        }
    }
}

fn on_border(rect: &Rect, x: f64, y: f64) -> bool {
    const NEAR: f64 = 0.5;
    let inside_x = x >= rect.x - NEAR && x <= rect.right() + NEAR;
    let inside_y = y >= rect.y - NEAR && y <= rect.bottom() + NEAR;
    let on_x = (x - rect.x).abs() < NEAR || (x - rect.right()).abs() < NEAR;
    let on_y = (y - rect.y).abs() < NEAR || (y - rect.bottom()).abs() < NEAR;
    inside_x && inside_y && (on_x || on_y)
}

/// The segment enters the box's interior (Liang–Barsky clipping against it, shrunk by a
/// pixel so touching the border does not count).
fn crosses(rect: &Rect, p: (f64, f64), q: (f64, f64)) -> bool {
    let (x0, y0, x1, y1) = (
        rect.x + 1.0,
        rect.y + 1.0,
        rect.right() - 1.0,
        rect.bottom() - 1.0,
    );
    if x0 >= x1 || y0 >= y1 {
        return false;
    }
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (step, distance) in [
        (-dx, p.0 - x0),
        (dx, x1 - p.0),
        (-dy, p.1 - y0),
        (dy, y1 - p.1),
    ] {
        if step == 0.0 {
            if distance < 0.0 {
                return false;
            }
        } else {
            let t = distance / step;
            if step < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    t0 < t1
}

#[test]
fn every_worked_example_lays_out_cleanly() {
    let examples = definitions::worked_examples();
    assert!(examples.len() >= 35);
    for example in examples {
        let definition = parse(&example.definition, example.flow_name);
        let graph = layout(&definition);
        check(example.name, &definition, &graph);
        assert!(
            graph.edges.iter().all(|edge| !edge.elided),
            "{}",
            example.name
        );
    }
}

#[test]
fn loops_are_back_edges_and_forward_jumps_are_not() {
    let definition = parse(definitions::FDL_16, "example");
    let graph = layout(&definition);
    let edge = |from: &str, to: &str| {
        graph
            .edges
            .iter()
            .find(|e| e.from == from && e.to == to)
            .unwrap_or_else(|| panic!("no edge {from} → {to}"))
    };
    let back = edge("again", "inc");
    assert!(back.back_edge);
    assert_eq!(back.kind, EdgeKind::Choice);
    assert_eq!(back.label.as_ref().unwrap().text, "$.count < 3");
    // Drawn upwards: it ends below where it starts.
    assert!(back.points.last().unwrap().y < back.points[0].y);
    assert!(!edge("again", "finish").back_edge);
    assert_eq!(edge("again", "finish").kind, EdgeKind::Default);
    assert!(!edge("init", "inc").back_edge);
}

#[test]
fn containers_hold_their_bodies_and_branches_sit_side_by_side() {
    let cf5 = layout(&parse(definitions::CF_5, "cf-parallel"));
    let node = |graph: &Graph, id: &str| graph.nodes.iter().find(|n| n.id == id).cloned().unwrap();
    let (lane0, lane1) = (node(&cf5, "Parallel1/0"), node(&cf5, "Parallel1/1"));
    assert_eq!(lane0.rect.y, lane1.rect.y);
    assert!(lane0.rect.right() <= lane1.rect.x);
    assert_eq!(
        node(&cf5, "Parallel1").children,
        vec!["Parallel1/0", "Parallel1/1"]
    );
    assert_eq!(
        node(&cf5, "Parallel1/1/Pass2").parent.as_deref(),
        Some("Parallel1/1")
    );
    // The join sits below the Parallel.
    assert!(node(&cf5, "Join").rect.y > node(&cf5, "Parallel1").rect.bottom());

    let cf14 = layout(&parse(definitions::CF_14, "cf-map-catch"));
    let each = node(&cf14, "Each");
    for inner in [
        "Each/Check",
        "Each/Good",
        "Each/Bad",
        "Each/:start",
        "Each/:end",
    ] {
        assert!(each.children.contains(&inner.to_string()), "{inner}");
    }
    let catch = cf14
        .edges
        .iter()
        .find(|e| e.kind == EdgeKind::Catch)
        .unwrap();
    assert_eq!((catch.from.as_str(), catch.to.as_str()), ("Each", "Report"));
    assert_eq!(catch.label.as_ref().unwrap().text, "ItemRejected");

    // FDL choice option steps: a box between the choice and where the option goes.
    let fdl4 = layout(&parse(definitions::FDL_4, "example"));
    let body = node(&fdl4, "route/default");
    assert_eq!(body.children.len(), 3);
    assert!(
        fdl4.edges
            .iter()
            .any(|e| e.from == "route/default" && e.to == "final")
    );
}

#[test]
fn the_example_flows_lay_out_cleanly() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/flows");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/flows") {
        let path = entry.expect("a directory entry").path();
        let Some(flow_name) = path.file_stem().and_then(|stem| stem.to_str()) else {
            continue;
        };
        let text = std::fs::read_to_string(&path).expect("a readable flow");
        let definition = parse(&text, flow_name);
        check(flow_name, &definition, &layout(&definition));
        seen += 1;
    }
    assert!(seen >= 2);
}
