//! What `layout` produces: positioned nodes and routed edges, and the node ids they share
//! with `statuses`.

use std::fmt::Write;

use serde::Serialize;

/// A node's stable path, e.g. `Fan/Work` or `Par/1/Step` (see the module docs).
pub type NodeId = String;

/// The id of a state named `name` in the list whose path is `scope` (empty at the top).
/// The characters that would make a path ambiguous are percent-encoded: the separator,
/// the escape itself, the `:` that starts the markers' ids, and control characters.
pub fn state_id(scope: &str, name: &str) -> NodeId {
    let mut segment = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '%' | '/' | ':') || c.is_control() {
            let mut bytes = [0u8; 4];
            for byte in c.encode_utf8(&mut bytes).bytes() {
                let _ = write!(segment, "%{byte:02X}");
            }
        } else {
            segment.push(c);
        }
    }
    child_id(scope, &segment)
}

/// `scope/segment`, or `segment` at the top.
pub(super) fn child_id(scope: &str, segment: &str) -> NodeId {
    if scope.is_empty() {
        segment.to_string()
    } else {
        format!("{scope}/{segment}")
    }
}

/// The id of the start marker of the list whose path is `scope`.
pub(super) fn start_id(scope: &str) -> NodeId {
    child_id(scope, ":start")
}

/// The id of the end marker of the list whose path is `scope`.
pub(super) fn end_id(scope: &str) -> NodeId {
    child_id(scope, ":end")
}

/// The segment of an FDL choice option's steps: its index, or `default`.
pub(super) fn option_segment(option: Option<usize>) -> String {
    option.map_or_else(|| "default".to_string(), |index| index.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// An axis-aligned box: top-left corner and size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn right(&self) -> f64 {
        self.x + self.w
    }

    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }

    /// The boxes share interior area (touching edges do not count).
    pub fn overlaps(&self, other: &Rect) -> bool {
        const EPSILON: f64 = 1e-6;
        self.x < other.right() - EPSILON
            && other.x < self.right() - EPSILON
            && self.y < other.bottom() - EPSILON
            && other.y < self.bottom() - EPSILON
    }

    /// `other` lies entirely inside this box.
    pub fn contains(&self, other: &Rect) -> bool {
        const EPSILON: f64 = 1e-6;
        other.x >= self.x - EPSILON
            && other.y >= self.y - EPSILON
            && other.right() <= self.right() + EPSILON
            && other.bottom() <= self.bottom() + EPSILON
    }

    pub(super) fn translated(&self, dx: f64, dy: f64) -> Rect {
        Rect {
            x: self.x + dx,
            y: self.y + dy,
            ..*self
        }
    }
}

/// The laid-out graph of a definition. Coordinates are SVG user units, origin top-left.
#[derive(Debug, Clone, Serialize)]
pub struct Graph {
    pub width: f64,
    pub height: f64,
    /// Containers come before the nodes inside them.
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    pub id: NodeId,
    /// The full name (a state's name; `Branch 1`, `Default steps`, `Start`, …).
    pub label: String,
    pub kind: NodeKind,
    /// The state's type as the definition writes it (`Task`, `foreach`, …); empty for
    /// markers.
    pub type_label: String,
    #[serde(flatten)]
    pub rect: Rect,
    /// The container this node is drawn in.
    pub parent: Option<NodeId>,
    /// The nodes drawn directly inside this one (lanes of a Parallel; the states and
    /// markers of a body).
    pub children: Vec<NodeId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeKind {
    Start,
    End,
    Pass,
    Task,
    Choice,
    Wait,
    Succeed,
    Fail,
    Parallel,
    /// FDL `foreach` and the state machine's Map (inline or distributed).
    Map,
    /// One branch of a Parallel.
    Branch,
    /// The `steps` of an FDL choice option (or of its default).
    ChoiceSteps,
}

impl NodeKind {
    /// Drawn as a box holding other nodes.
    pub fn is_container(self) -> bool {
        matches!(
            self,
            NodeKind::Parallel | NodeKind::Map | NodeKind::Branch | NodeKind::ChoiceSteps
        )
    }

    pub fn is_marker(self) -> bool {
        matches!(self, NodeKind::Start | NodeKind::End)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Start => "start",
            NodeKind::End => "end",
            NodeKind::Pass => "pass",
            NodeKind::Task => "task",
            NodeKind::Choice => "choice",
            NodeKind::Wait => "wait",
            NodeKind::Succeed => "succeed",
            NodeKind::Fail => "fail",
            NodeKind::Parallel => "parallel",
            NodeKind::Map => "map",
            NodeKind::Branch => "branch",
            NodeKind::ChoiceSteps => "choice-steps",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Edge {
    pub from: NodeId,
    pub to: NodeId,
    pub kind: EdgeKind,
    /// The edge closes a loop: drawn upwards, against the flow.
    pub back_edge: bool,
    /// Too long to route in a very large graph: drawn as a short stub whose label names the
    /// target.
    pub elided: bool,
    pub label: Option<EdgeLabel>,
    /// From the source's border to the target's border; the arrow is at the last point.
    pub points: Vec<Point>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    /// `Next` / the following step / `End`.
    Next,
    /// A Choice branch (an FDL choice option), labelled with its condition.
    Choice,
    /// A Choice's `Default` (FDL: also the fall-through of a choice without default).
    Default,
    /// A Catch rule, labelled with its errors.
    Catch,
}

impl EdgeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Next => "next",
            EdgeKind::Choice => "choice",
            EdgeKind::Default => "default",
            EdgeKind::Catch => "catch",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EdgeLabel {
    /// The full text (a condition, the caught errors, `Default`).
    pub text: String,
    /// Where the label is drawn; no node or other label overlaps it.
    #[serde(flatten)]
    pub rect: Rect,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_would_break_a_path_are_escaped() {
        assert_eq!(state_id("", "Fan"), "Fan");
        assert_eq!(state_id("Fan", "Work"), "Fan/Work");
        assert_eq!(state_id("Par/1", "a/b"), "Par/1/a%2Fb");
        assert_eq!(state_id("", ":start"), "%3Astart");
        assert_eq!(state_id("", "50%"), "50%25");
        assert_eq!(state_id("", "名字 x"), "名字 x");
        assert_eq!(state_id("", "a\nb\u{85}"), "a%0Ab%C2%85");
        assert_ne!(state_id("", ":start"), start_id(""));
        assert_eq!(end_id("Par/0"), "Par/0/:end");
    }
}
