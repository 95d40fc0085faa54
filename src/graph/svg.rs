//! The graph as a standalone SVG document. Styling is by classes (`STYLESHEET`); the
//! presentation attributes on shapes are neutral fallbacks any stylesheet overrides, so
//! the document needs no inline style and no script (a strict Content-Security-Policy
//! allows it). Every piece of text is escaped: state names, conditions and errors are
//! user data.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::layout::{
    HEADER_HEIGHT, LABEL_MAX_WIDTH, LANE_HEADER_HEIGHT, NODE_MAX_WIDTH, NODE_PADDING,
};
use super::model::{Edge, Graph, Node, NodeId, NodeKind, Point, Rect};
use super::status::{NodeStatus, Status};
use super::text::{self, NODE_FONT, SMALL_FONT};

/// The stylesheet the classes of `render_svg` expect (light and dark themes).
pub const STYLESHEET: &str = include_str!("graph.css");

/// The id of the arrowhead marker: fixed, so several copies of a graph on one page share it.
const ARROW: &str = "fnf-graph-arrow";

pub fn render_svg(graph: &Graph, statuses: Option<&BTreeMap<NodeId, NodeStatus>>) -> String {
    let mut svg = String::with_capacity(512 + 600 * (graph.nodes.len() + graph.edges.len()));
    let (w, h) = (number(graph.width), number(graph.height));
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="fnf-graph" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="group" aria-label="Flow graph" font-family="sans-serif">"##
    );
    let _ = write!(
        svg,
        r##"<defs><marker id="{ARROW}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto"><path class="arrowhead" d="M0,0L10,5L0,10z" fill="#666"/></marker></defs>"##
    );
    let status_of = |node: &Node| statuses.and_then(|all| all.get(&node.id));
    svg.push_str(r#"<g class="containers">"#);
    for node in graph.nodes.iter().filter(|node| node.kind.is_container()) {
        container(&mut svg, node, status_of(node), statuses.is_some());
    }
    svg.push_str(r#"</g><g class="edges">"#);
    for edge in &graph.edges {
        edge_group(&mut svg, edge);
    }
    svg.push_str(r#"</g><g class="nodes">"#);
    for node in graph.nodes.iter().filter(|node| !node.kind.is_container()) {
        if node.kind.is_marker() {
            marker(&mut svg, node);
        } else {
            leaf(&mut svg, node, status_of(node), statuses.is_some());
        }
    }
    svg.push_str("</g></svg>");
    svg
}

/// `<g class="node …" data-node=… tabindex="0" role="button" aria-label=…><title>…`.
fn open_node(svg: &mut String, node: &Node, status: Option<&NodeStatus>, colored: bool) {
    let shown = status.map_or(Status::NotReached, |status| status.status);
    let mut classes = format!("node kind-{}", node.kind.as_str());
    if node.kind.is_container() {
        classes.push_str(" container");
    }
    if colored {
        let _ = write!(classes, " status-{}", shown.as_str());
    }
    let description = describe(node, status.filter(|_| colored));
    let _ = write!(
        svg,
        r#"<g class="{classes}" data-node="{}" tabindex="0" role="button" aria-label="{}"><title>{}</title>"#,
        escape(&node.id),
        escape(&description),
        escape(&description),
    );
}

/// What a node is and what happened to it, for `aria-label` and the tooltip.
fn describe(node: &Node, status: Option<&NodeStatus>) -> String {
    let mut text = if node.type_label.is_empty() {
        node.label.clone()
    } else {
        format!("{} ({})", node.label, node.type_label)
    };
    let Some(status) = status else {
        return text;
    };
    let _ = write!(text, ": {}", status.status.as_str().replace('-', " "));
    if status.attempts > 1 {
        let _ = write!(text, ", {} attempts", status.attempts);
    }
    if status.visits > 1 {
        let _ = write!(text, ", entered {} times", status.visits);
    }
    if let Some(counts) = &status.children {
        let _ = write!(
            text,
            ", {} of {} succeeded, {} running, {} failed",
            counts.succeeded, counts.total, counts.running, counts.failed
        );
    }
    if let Some(error) = &status.error {
        let _ = write!(text, ", error {error}");
    }
    text
}

fn leaf(svg: &mut String, node: &Node, status: Option<&NodeStatus>, colored: bool) {
    open_node(svg, node, status, colored);
    let r = &node.rect;
    let rounding = if node.kind == NodeKind::Choice { 14 } else { 6 };
    box_shape(svg, r, rounding);
    let label = text::truncate(&node.label, NODE_FONT, NODE_MAX_WIDTH - 2.0 * NODE_PADDING);
    let cx = number(r.x + r.w / 2.0);
    let _ = write!(
        svg,
        r##"<text class="node-label" x="{cx}" y="{}" text-anchor="middle" font-size="{NODE_FONT}" fill="#222">{}</text>"##,
        number(r.y + 17.0),
        escape(&label),
    );
    let _ = write!(
        svg,
        r##"<text class="node-type" x="{cx}" y="{}" text-anchor="middle" font-size="{SMALL_FONT}" fill="#666">{}"##,
        number(r.y + 31.0),
        escape(&node.type_label),
    );
    if let Some(status) = status.filter(|status| colored && status.attempts > 1) {
        let _ = write!(
            svg,
            r#"<tspan class="node-attempts"> ×{}</tspan>"#,
            status.attempts
        );
    }
    svg.push_str("</text></g>");
}

fn container(svg: &mut String, node: &Node, status: Option<&NodeStatus>, colored: bool) {
    open_node(svg, node, status, colored);
    let r = &node.rect;
    box_shape(svg, r, 8);
    let lane = matches!(node.kind, NodeKind::Branch);
    let (font, baseline) = if lane {
        (SMALL_FONT, LANE_HEADER_HEIGHT - 6.0)
    } else {
        (NODE_FONT, HEADER_HEIGHT - 10.0)
    };
    let label = text::truncate(&node.label, font, NODE_MAX_WIDTH);
    let x = r.x + NODE_PADDING;
    let _ = write!(
        svg,
        r##"<text class="container-label" x="{}" y="{}" font-size="{font}" fill="#222">{}</text>"##,
        number(x),
        number(r.y + baseline),
        escape(&label),
    );
    if !node.type_label.is_empty() {
        let _ = write!(
            svg,
            r##"<text class="node-type" x="{}" y="{}" font-size="{SMALL_FONT}" fill="#666">{}</text>"##,
            number(x + text::width(&label, font) + NODE_PADDING),
            number(r.y + baseline),
            escape(&node.type_label),
        );
    }
    svg.push_str("</g>");
}

fn marker(svg: &mut String, node: &Node) {
    let r = &node.rect;
    let _ = write!(
        svg,
        r#"<g class="marker kind-{}" data-node="{}">"#,
        node.kind.as_str(),
        escape(&node.id)
    );
    if node.parent.is_some() {
        let _ = write!(
            svg,
            r##"<circle cx="{}" cy="{}" r="{}" fill="#999"/>"##,
            number(r.x + r.w / 2.0),
            number(r.y + r.h / 2.0),
            number(r.w / 2.0),
        );
    } else {
        box_shape(svg, r, (r.h / 2.0) as u32);
        let _ = write!(
            svg,
            r##"<text class="marker-label" x="{}" y="{}" text-anchor="middle" font-size="{SMALL_FONT}" fill="#222">{}</text>"##,
            number(r.x + r.w / 2.0),
            number(r.y + r.h / 2.0 + 3.5),
            escape(&node.label),
        );
    }
    svg.push_str("</g>");
}

fn box_shape(svg: &mut String, r: &Rect, rounding: u32) {
    let _ = write!(
        svg,
        r##"<rect x="{}" y="{}" width="{}" height="{}" rx="{rounding}" fill="#fff" stroke="#888"/>"##,
        number(r.x),
        number(r.y),
        number(r.w),
        number(r.h),
    );
}

fn edge_group(svg: &mut String, edge: &Edge) {
    let mut classes = format!("edge edge-{}", edge.kind.as_str());
    if edge.back_edge {
        classes.push_str(" back-edge");
    }
    if edge.elided {
        classes.push_str(" elided");
    }
    let _ = write!(
        svg,
        r#"<g class="{classes}" data-from="{}" data-to="{}">"#,
        escape(&edge.from),
        escape(&edge.to)
    );
    let dash = if edge.kind == super::model::EdgeKind::Catch {
        r#" stroke-dasharray="5 4""#
    } else {
        ""
    };
    let _ = write!(
        svg,
        r##"<path d="{}" fill="none" stroke="#777"{dash} marker-end="url(#{ARROW})"/>"##,
        path(&edge.points)
    );
    if let Some(label) = &edge.label {
        let r = &label.rect;
        let shown = text::truncate(&label.text, SMALL_FONT, LABEL_MAX_WIDTH);
        let _ = write!(
            svg,
            r##"<rect class="edge-label-bg" x="{}" y="{}" width="{}" height="{}" rx="3" fill="#fff"/><text class="edge-label" x="{}" y="{}" text-anchor="middle" font-size="{SMALL_FONT}" fill="#444"><title>{}</title>{}</text>"##,
            number(r.x),
            number(r.y),
            number(r.w),
            number(r.h),
            number(r.x + r.w / 2.0),
            number(r.y + 11.5),
            escape(&label.text),
            escape(&shown),
        );
    }
    svg.push_str("</g>");
}

fn path(points: &[Point]) -> String {
    let mut d = String::with_capacity(points.len() * 14);
    for (index, point) in points.iter().enumerate() {
        let command = if index == 0 { 'M' } else { 'L' };
        let _ = write!(d, "{command}{},{}", number(point.x), number(point.y));
    }
    d
}

/// Coordinates with at most one decimal.
fn number(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}

/// Text and attribute values: the five characters XML gives meaning to.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            // Not allowed in XML 1.0 at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => escaped.push('\u{FFFD}'),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            escape(r#"<script>"a" & 'b'</script>"#),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
        assert_eq!(escape("a\u{1}b"), "a\u{FFFD}b");
        assert_eq!(number(1.25), "1.3");
        assert_eq!(number(-0.0), "0");
        assert_eq!(number(12.0), "12");
    }
}
