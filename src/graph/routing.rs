//! Edge routes once the vertices are placed. An edge leaves the bottom of its source (the
//! top, when it returns upwards) at a port spread along that side in the order of where
//! the edges go, runs straight down through its own lane in every layer it crosses, bends
//! only in the gaps between layers, and enters the top of its target. Layers hold nothing
//! in an edge's lane but the edge, and the gaps hold no nodes, so an edge never crosses a
//! node or a label. A loop onto the same node is drawn on the node's right.

use super::layered::{Placed, Routed};
use super::model::Rect;

/// How far a loop onto the same node reaches right of it, label gap included.
pub(super) const LOOP_REACH: f64 = 18.0;
/// Height each such loop takes.
pub(super) const LOOP_BAND: f64 = 20.0;

pub(super) fn route(placed: &Placed<'_>) -> Vec<Routed> {
    let items = placed.items.len();
    let is_item = |vertex: usize| vertex < items;
    // Ports: per item and side, the chains attached there with the x they head to.
    let mut bottom: Vec<Vec<(f64, usize)>> = vec![Vec::new(); items];
    let mut top: Vec<Vec<(f64, usize)>> = vec![Vec::new(); items];
    for (index, chain) in placed.chains.iter().enumerate() {
        let vertices = &chain.vertices;
        if vertices.len() < 2 {
            continue;
        }
        let (first, last) = (vertices[0], vertices[vertices.len() - 1]);
        if is_item(first) {
            bottom[first].push((placed.x[vertices[1]], index));
        }
        if is_item(last) {
            top[last].push((placed.x[vertices[vertices.len() - 2]], index));
        }
    }
    let mut bottom_port = vec![0.0; placed.chains.len()];
    let mut top_port = vec![0.0; placed.chains.len()];
    for item in 0..items {
        spread(&mut bottom[item], &placed.boxes[item], &mut bottom_port);
        spread(&mut top[item], &placed.boxes[item], &mut top_port);
    }

    let mut loops_seen = vec![0usize; items];
    placed
        .chains
        .iter()
        .zip(placed.links)
        .enumerate()
        .map(|(index, (chain, link))| {
            let label_size = if chain.elided {
                Some(link.stub_label)
            } else {
                link.label
            };
            if chain.vertices.len() == 1 {
                let item = chain.vertices[0];
                let band = loops_seen[item] as f64 * LOOP_BAND;
                loops_seen[item] += 1;
                let b = &placed.boxes[item];
                let (right, y1, y2) = (b.right(), b.y + band + 6.0, b.y + band + 14.0);
                let reach = right + LOOP_REACH - 6.0;
                return Routed {
                    points: vec![(right, y1), (reach, y1), (reach, y2), (right, y2)],
                    label: label_size.map(|size| Rect {
                        x: right + LOOP_REACH,
                        y: b.y + band + 2.0,
                        w: size.w,
                        h: size.h,
                    }),
                    back_edge: true,
                    elided: false,
                };
            }
            let vertices = &chain.vertices;
            let row_bottom = |rank: usize| placed.row_top[rank] + placed.row_height[rank];
            let mut points = Vec::with_capacity(2 * vertices.len() + 2);
            let first = vertices[0];
            if is_item(first) {
                let port = bottom_port[index];
                points.push((port, placed.boxes[first].bottom()));
                points.push((port, row_bottom(placed.rank[first])));
            }
            for (position, &vertex) in vertices.iter().enumerate() {
                if is_item(vertex) {
                    continue;
                }
                let rank = placed.rank[vertex];
                let x = placed.x[vertex];
                let label_bottom = placed.row_top[rank] + label_size.map_or(0.0, |size| size.h);
                // An elided edge stops at its label: above it, or below it when it returns.
                let (enter, leave) = match (chain.elided, position) {
                    (true, 0) => (None, Some(label_bottom)),
                    (true, _) => (Some(placed.row_top[rank]), None),
                    _ => (Some(placed.row_top[rank]), Some(row_bottom(rank))),
                };
                points.extend(enter.map(|y| (x, y)));
                points.extend(leave.map(|y| (x, y)));
            }
            let last = vertices[vertices.len() - 1];
            if is_item(last) {
                let port = top_port[index];
                points.push((port, placed.row_top[placed.rank[last]]));
                points.push((port, placed.boxes[last].y));
            }
            if chain.reversed {
                points.reverse();
            }
            Routed {
                points: simplify(points),
                label: chain.label.zip(label_size).map(|(vertex, size)| Rect {
                    x: placed.x[vertex] - size.w / 2.0,
                    y: placed.row_top[placed.rank[vertex]],
                    w: size.w,
                    h: size.h,
                }),
                back_edge: chain.reversed,
                elided: chain.elided,
            }
        })
        .collect()
}

/// Room each port of a side takes, at most: on a wide container the ports stay near the
/// middle rather than spread over its whole width.
const PORT_SPACING: f64 = 36.0;

/// Spreads the ports of one side evenly around its middle, in the order of where their
/// edges go.
fn spread(attached: &mut [(f64, usize)], side: &Rect, port: &mut [f64]) {
    attached.sort_by(|a, b| a.0.total_cmp(&b.0));
    let count = attached.len() as f64;
    let band = side.w.min(PORT_SPACING * (count + 1.0));
    let left = side.x + (side.w - band) / 2.0;
    for (k, &(_, chain)) in attached.iter().enumerate() {
        port[chain] = left + band * (k as f64 + 1.0) / (count + 1.0);
    }
}

/// Drops repeated points and the middle of straight runs.
fn simplify(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    const EPSILON: f64 = 1e-6;
    let same = |a: f64, b: f64| (a - b).abs() < EPSILON;
    let mut kept: Vec<(f64, f64)> = Vec::with_capacity(points.len());
    for point in points {
        if let Some(&last) = kept.last()
            && same(last.0, point.0)
            && same(last.1, point.1)
        {
            continue;
        }
        if kept.len() >= 2 {
            let (a, b) = (kept[kept.len() - 2], kept[kept.len() - 1]);
            let vertical = same(a.0, b.0) && same(b.0, point.0);
            let horizontal = same(a.1, b.1) && same(b.1, point.1);
            if vertical || horizontal {
                kept.pop();
            }
        }
        kept.push(point);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn straight_runs_collapse() {
        let points = vec![(0.0, 0.0), (0.0, 5.0), (0.0, 5.0), (0.0, 9.0), (3.0, 12.0)];
        assert_eq!(simplify(points), vec![(0.0, 0.0), (0.0, 9.0), (3.0, 12.0)]);
    }
}
