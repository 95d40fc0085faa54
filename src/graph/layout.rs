//! Composition of the whole graph: every list of states is laid out on its own
//! (`layered`), innermost first, and drawn inside its container: a Parallel holds its
//! branches side by side, a Map / foreach its body once, an FDL choice option's steps sit
//! in a box between the choice and where the option goes next.

use super::build::{self, Item, Plan};
use super::layered::{self, Link, Size};
use super::model::{
    Edge, EdgeLabel, Graph, Node, NodeId, NodeKind, Point, Rect, child_id, end_id, option_segment,
    start_id, state_id,
};
use super::text::{self, NODE_FONT, SMALL_FONT};
use crate::engine::ir::{FlowDefinition, Language, Scope, StateKind};

/// Margin around the whole drawing.
const MARGIN: f64 = 16.0;
/// State boxes.
const NODE_HEIGHT: f64 = 40.0;
const NODE_MIN_WIDTH: f64 = 96.0;
pub(super) const NODE_MAX_WIDTH: f64 = 200.0;
pub(super) const NODE_PADDING: f64 = 10.0;
/// The top-level markers are pills with a word; nested lists have small dots.
const PILL: Size = Size { w: 64.0, h: 26.0 };
const DOT: Size = Size { w: 14.0, h: 14.0 };
/// Containers: a header line, then the body with padding around it.
pub(super) const HEADER_HEIGHT: f64 = 28.0;
const CONTAINER_PADDING: f64 = 12.0;
pub(super) const LANE_HEADER_HEIGHT: f64 = 20.0;
const LANE_GAP: f64 = 12.0;
/// Edge labels.
pub(super) const LABEL_MAX_WIDTH: f64 = 160.0;
const LABEL_HEIGHT: f64 = 16.0;
const LABEL_PADDING: f64 = 4.0;
/// Edge bends the whole graph may use before long edges are elided (see `layered`).
const MAX_BENDS: usize = 20_000;

/// Lays out a parsed definition; see the module docs for what is drawn.
pub fn layout(definition: &FlowDefinition) -> Graph {
    layout_within(definition, MAX_BENDS)
}

/// `layout` with at most `max_bends` edge bends.
pub(super) fn layout_within(definition: &FlowDefinition, max_bends: usize) -> Graph {
    let mut composer = Composer {
        language: definition.language,
        budget: max_bends,
    };
    let mut block = composer.list(&definition.root, "", None);
    block.translate(MARGIN, MARGIN);
    Graph {
        width: block.width + 2.0 * MARGIN,
        height: block.height + 2.0 * MARGIN,
        nodes: block.nodes,
        edges: block.edges,
    }
}

/// A laid-out list (or container content) in its own coordinates.
struct Block {
    width: f64,
    height: f64,
    nodes: Vec<Node>,
    edges: Vec<Edge>,
}

impl Block {
    fn translate(&mut self, dx: f64, dy: f64) {
        for node in &mut self.nodes {
            node.rect = node.rect.translated(dx, dy);
        }
        for edge in &mut self.edges {
            for point in &mut edge.points {
                point.x += dx;
                point.y += dy;
            }
            if let Some(label) = &mut edge.label {
                label.rect = label.rect.translated(dx, dy);
            }
        }
    }

    /// The ids of the nodes directly under `parent`.
    fn top_level(&self, parent: &str) -> Vec<NodeId> {
        self.nodes
            .iter()
            .filter(|node| node.parent.as_deref() == Some(parent))
            .map(|node| node.id.clone())
            .collect()
    }
}

/// What a container holds, laid out before the container itself.
enum Content {
    Leaf,
    Body(Block),
    Lanes(Vec<Lane>),
}

/// One branch of a Parallel: its frame's size and the branch's list.
struct Lane {
    width: f64,
    height: f64,
    body: Block,
}

struct Composer {
    language: Language,
    budget: usize,
}

impl Composer {
    /// Lays out the list whose path is `path`, drawn inside `parent`.
    fn list(&mut self, scope: &Scope, path: &str, parent: Option<&str>) -> Block {
        let plan = build::plan(scope);
        let nested = parent.is_some();
        let mut ids = Vec::with_capacity(plan.items.len());
        let mut sizes = Vec::with_capacity(plan.items.len());
        let mut contents = Vec::with_capacity(plan.items.len());
        for item in &plan.items {
            let id = item_id(item, path);
            let (size, content) = self.item(item, &id, nested);
            ids.push(id);
            sizes.push(size);
            contents.push(content);
        }
        let links = self.links(&plan);
        let laid = layered::layout(&sizes, &links, build::START, build::END, &mut self.budget);

        let mut nodes = Vec::new();
        let mut edges = Vec::new();
        for (index, (item, content)) in plan.items.iter().zip(contents).enumerate() {
            let rect = laid.boxes[index];
            let id = ids[index].clone();
            let (label, kind, type_label) = self.describe(item);
            let inner = match content {
                Content::Leaf => Vec::new(),
                Content::Body(mut body) => {
                    body.translate(rect.x + (rect.w - body.width) / 2.0, rect.y + HEADER_HEIGHT);
                    vec![body]
                }
                Content::Lanes(lanes) => place_lanes(lanes, rect, &id),
            };
            let children = inner
                .iter()
                .flat_map(|block| block.top_level(&id))
                .collect();
            nodes.push(Node {
                id,
                label,
                kind,
                type_label,
                rect,
                parent: parent.map(str::to_string),
                children,
            });
            for block in inner {
                nodes.extend(block.nodes);
                edges.extend(block.edges);
            }
        }
        for (transition, routed) in plan.transitions.iter().zip(laid.edges) {
            let text = if routed.elided {
                let target = self.describe(&plan.items[transition.to]).0;
                Some(stub_text(transition.label.as_deref(), &target))
            } else {
                transition.label.clone()
            };
            edges.push(Edge {
                from: ids[transition.from].clone(),
                to: ids[transition.to].clone(),
                kind: transition.kind,
                back_edge: routed.back_edge,
                elided: routed.elided,
                label: text
                    .zip(routed.label)
                    .map(|(text, rect)| EdgeLabel { text, rect }),
                points: routed
                    .points
                    .into_iter()
                    .map(|(x, y)| Point { x, y })
                    .collect(),
            });
        }
        Block {
            width: laid.width,
            height: laid.height,
            nodes,
            edges,
        }
    }

    /// An item's size, and what it holds when it is a container.
    fn item(&mut self, item: &Item<'_>, id: &str, nested: bool) -> (Size, Content) {
        let marker = if nested { DOT } else { PILL };
        let (label, _, type_label) = self.describe(item);
        let header = header_width(&label, &type_label);
        match item {
            Item::Start | Item::End => (marker, Content::Leaf),
            Item::ChoiceSteps { steps, .. } => {
                let body = self.list(steps, id, Some(id));
                (container_size(&body, header), Content::Body(body))
            }
            Item::State(state) => match &state.kind {
                StateKind::Map(spec) => {
                    let body = self.list(&spec.processor, id, Some(id));
                    (container_size(&body, header), Content::Body(body))
                }
                StateKind::Parallel(spec) => {
                    let lanes: Vec<Lane> = spec
                        .branches
                        .iter()
                        .enumerate()
                        .map(|(index, branch)| {
                            let lane = child_id(id, &index.to_string());
                            let body = self.list(branch, &lane, Some(&lane));
                            let lane_header = header_width(&lane_label(index), "");
                            Lane {
                                width: (body.width + 2.0 * CONTAINER_PADDING).max(lane_header),
                                height: LANE_HEADER_HEIGHT + body.height + CONTAINER_PADDING,
                                body,
                            }
                        })
                        .collect();
                    let inner_width: f64 = lanes.iter().map(|lane| lane.width).sum::<f64>()
                        + LANE_GAP * lanes.len().saturating_sub(1) as f64;
                    let inner_height = lanes.iter().map(|lane| lane.height).fold(0.0, f64::max);
                    let size = Size {
                        w: (inner_width + 2.0 * CONTAINER_PADDING).max(header),
                        h: HEADER_HEIGHT + inner_height + CONTAINER_PADDING,
                    };
                    (size, Content::Lanes(lanes))
                }
                _ => {
                    let shown =
                        text::truncate(&label, NODE_FONT, NODE_MAX_WIDTH - 2.0 * NODE_PADDING);
                    let text_width =
                        text::width(&shown, NODE_FONT).max(text::width(&type_label, SMALL_FONT));
                    let width =
                        (text_width + 2.0 * NODE_PADDING).clamp(NODE_MIN_WIDTH, NODE_MAX_WIDTH);
                    (
                        Size {
                            w: width,
                            h: NODE_HEIGHT,
                        },
                        Content::Leaf,
                    )
                }
            },
        }
    }

    /// Label, kind and type label of an item.
    fn describe(&self, item: &Item<'_>) -> (String, NodeKind, String) {
        match item {
            Item::Start => ("Start".into(), NodeKind::Start, String::new()),
            Item::End => ("End".into(), NodeKind::End, String::new()),
            Item::ChoiceSteps { option, .. } => {
                let label = match option {
                    Some(index) => format!("Option {index}"),
                    None => "Default".to_string(),
                };
                (label, NodeKind::ChoiceSteps, "steps".to_string())
            }
            Item::State(state) => {
                let kind = match &state.kind {
                    StateKind::Pass => NodeKind::Pass,
                    StateKind::Task(_) => NodeKind::Task,
                    StateKind::Choice(_) => NodeKind::Choice,
                    StateKind::Wait(_) => NodeKind::Wait,
                    StateKind::Succeed => NodeKind::Succeed,
                    StateKind::Fail(_) => NodeKind::Fail,
                    StateKind::Parallel(_) => NodeKind::Parallel,
                    StateKind::Map(_) => NodeKind::Map,
                };
                let type_label = build::type_label(state, self.language).to_string();
                (state.name.clone(), kind, type_label)
            }
        }
    }

    /// The links of a plan, with the sizes their labels take.
    fn links(&self, plan: &Plan<'_>) -> Vec<Link> {
        plan.transitions
            .iter()
            .map(|transition| {
                let target = self.describe(&plan.items[transition.to]).0;
                Link {
                    from: transition.from,
                    to: transition.to,
                    label: transition.label.as_deref().map(label_size),
                    stub_label: label_size(&stub_text(transition.label.as_deref(), &target)),
                }
            })
            .collect()
    }
}

/// The lanes of a Parallel placed side by side inside its box, all as tall as the tallest;
/// each lane is a node of its own holding its branch.
fn place_lanes(lanes: Vec<Lane>, rect: Rect, parallel: &str) -> Vec<Block> {
    let inner_width: f64 = lanes.iter().map(|lane| lane.width).sum::<f64>()
        + LANE_GAP * lanes.len().saturating_sub(1) as f64;
    let height = lanes.iter().map(|lane| lane.height).fold(0.0, f64::max);
    let mut x = rect.x + (rect.w - inner_width) / 2.0;
    let y = rect.y + HEADER_HEIGHT;
    lanes
        .into_iter()
        .enumerate()
        .map(|(index, mut lane)| {
            let id = child_id(parallel, &index.to_string());
            let frame = Rect {
                x,
                y,
                w: lane.width,
                h: height,
            };
            lane.body.translate(
                x + (lane.width - lane.body.width) / 2.0,
                y + LANE_HEADER_HEIGHT,
            );
            x += lane.width + LANE_GAP;
            let mut nodes = vec![Node {
                id: id.clone(),
                label: lane_label(index),
                kind: NodeKind::Branch,
                type_label: String::new(),
                rect: frame,
                parent: Some(parallel.to_string()),
                children: lane.body.top_level(&id),
            }];
            nodes.append(&mut lane.body.nodes);
            Block {
                width: frame.w,
                height: frame.h,
                nodes,
                edges: lane.body.edges,
            }
        })
        .collect()
}

fn lane_label(index: usize) -> String {
    format!("Branch {index}")
}

fn item_id(item: &Item<'_>, path: &str) -> NodeId {
    match item {
        Item::Start => start_id(path),
        Item::End => end_id(path),
        Item::State(state) => state_id(path, &state.name),
        Item::ChoiceSteps { choice, option, .. } => {
            child_id(&state_id(path, &choice.name), &option_segment(*option))
        }
    }
}

/// Width a container's header needs: its (truncated) name and its type.
fn header_width(label: &str, type_label: &str) -> f64 {
    let shown = text::truncate(label, NODE_FONT, NODE_MAX_WIDTH);
    text::width(&shown, NODE_FONT) + text::width(type_label, SMALL_FONT) + 3.0 * NODE_PADDING
}

fn container_size(body: &Block, header: f64) -> Size {
    Size {
        w: (body.width + 2.0 * CONTAINER_PADDING).max(header),
        h: HEADER_HEIGHT + body.height + CONTAINER_PADDING,
    }
}

/// What an elided edge's label says: where it goes.
fn stub_text(label: Option<&str>, target: &str) -> String {
    match label {
        Some(label) => format!("{label} → {target}"),
        None => format!("→ {target}"),
    }
}

/// The box an edge label takes (its text is cut to `LABEL_MAX_WIDTH`).
fn label_size(label: &str) -> Size {
    let shown = text::truncate(label, SMALL_FONT, LABEL_MAX_WIDTH);
    Size {
        w: text::width(&shown, SMALL_FONT) + 2.0 * LABEL_PADDING,
        h: LABEL_HEIGHT,
    }
}
