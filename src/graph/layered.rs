//! The layered (Sugiyama) layout of one list of states, its markers and its transitions:
//! layers (`rank`), dummy vertices where edges cross a layer, order inside the layers
//! (`order`), horizontal positions (`place`), then rows and routes (`routing`).
//!
//! Every edge label is a vertex of the layer just below (or, for an edge that returns
//! upwards, just above) its source, so labels take room like nodes and never overlap them.

use super::model::Rect;
use super::place::{self, Extent};
use super::{order, rank, routing};

/// Vertical gap between layers, at least.
const LAYER_GAP: f64 = 16.0;
/// A gap is at least this share of the horizontal reach of the edges crossing it…
const GAP_PER_REACH: f64 = 0.12;
/// … up to this height.
const MAX_LAYER_GAP: f64 = 48.0;
/// Width of the lane an edge takes through a layer.
const BEND_WIDTH: f64 = 8.0;
/// Room around a label, on each side.
const LABEL_MARGIN: f64 = 4.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Size {
    pub w: f64,
    pub h: f64,
}

/// A transition between two items of the list.
#[derive(Debug, Clone, Copy)]
pub(super) struct Link {
    pub from: usize,
    pub to: usize,
    /// The label's size, when it has one.
    pub label: Option<Size>,
    /// The label's size when the edge is elided (it then names the target).
    pub stub_label: Size,
}

/// An edge as drawn, in the list's own coordinates.
#[derive(Debug, Clone)]
pub(super) struct Routed {
    pub points: Vec<(f64, f64)>,
    pub label: Option<Rect>,
    pub back_edge: bool,
    pub elided: bool,
}

pub(super) struct Layout {
    pub width: f64,
    pub height: f64,
    /// One per item, in the list's own coordinates.
    pub boxes: Vec<Rect>,
    /// One per link.
    pub edges: Vec<Routed>,
}

/// How an edge runs through the layers, top to bottom: item, bends…, item (or, when
/// elided, just its source and its label).
pub(super) struct Chain {
    pub vertices: Vec<usize>,
    /// Drawn bottom to top: the edge closes a loop.
    pub reversed: bool,
    pub elided: bool,
    /// The vertex holding the label.
    pub label: Option<usize>,
}

/// Everything routing needs once the vertices are placed.
pub(super) struct Placed<'a> {
    pub items: &'a [Size],
    pub rank: &'a [usize],
    pub x: &'a [f64],
    pub row_top: &'a [f64],
    pub row_height: &'a [f64],
    pub boxes: &'a [Rect],
    pub chains: &'a [Chain],
    pub links: &'a [Link],
}

/// Lays out the items (`first` is the start marker, `last` the end marker). `budget` is
/// how many edge bends the whole graph may still use: past it, the longest edges of this
/// list are elided, which keeps a huge definition's layout bounded in time and memory.
pub(super) fn layout(
    items: &[Size],
    links: &[Link],
    first: usize,
    last: usize,
    budget: &mut usize,
) -> Layout {
    let self_loops: Vec<usize> = (0..links.len())
        .filter(|&i| links[i].from == links[i].to)
        .collect();
    let others: Vec<usize> = (0..links.len())
        .filter(|&i| links[i].from != links[i].to)
        .collect();
    let pairs: Vec<(usize, usize)> = others
        .iter()
        .map(|&i| (links[i].from, links[i].to))
        .collect();
    let back = rank::back_edges(items.len(), &pairs, first);
    let dag: Vec<(usize, usize)> = pairs
        .iter()
        .zip(&back)
        .map(|(&(from, to), &back)| if back { (to, from) } else { (from, to) })
        .collect();
    let item_rank = rank::layers(items.len(), &dag, first, last);

    // Edges too long for the budget keep only their label's vertex, longest first.
    let span = |i: usize| item_rank[dag[i].1] - item_rank[dag[i].0] - 1;
    let mut needed: usize = (0..dag.len()).map(span).sum();
    let mut elided = vec![false; dag.len()];
    if needed > *budget {
        let mut longest: Vec<usize> = (0..dag.len()).collect();
        longest.sort_by_key(|&i| std::cmp::Reverse(span(i)));
        for i in longest {
            if needed <= *budget {
                break;
            }
            elided[i] = true;
            needed -= span(i) - 1;
        }
    }
    *budget = budget.saturating_sub(needed);

    let (mut extent, mut heights) = item_extents(items, links, &self_loops);
    let mut rank = item_rank.clone();
    let mut chains: Vec<Chain> = Vec::with_capacity(links.len());
    let mut bend = |rank_of: usize, label: Option<Size>| {
        let half = label.map_or(BEND_WIDTH / 2.0, |size| size.w / 2.0 + LABEL_MARGIN);
        extent.push(Extent {
            left: half,
            right: half,
            dummy: true,
        });
        heights.push(label.map_or(0.0, |size| size.h));
        rank.push(rank_of);
        rank.len() - 1
    };
    let mut next_other = 0;
    for (index, link) in links.iter().enumerate() {
        if link.from == link.to {
            chains.push(Chain {
                vertices: vec![link.from],
                reversed: false,
                elided: false,
                label: None,
            });
            continue;
        }
        let at = next_other;
        next_other += 1;
        debug_assert_eq!(others[at], index);
        let (upper, lower) = dag[at];
        let reversed = back[at];
        // The label sits next to the edge's source.
        let label_rank = if reversed {
            item_rank[lower] - 1
        } else {
            item_rank[upper] + 1
        };
        let mut vertices = vec![upper];
        let mut label = None;
        if elided[at] {
            let vertex = bend(label_rank, Some(link.stub_label));
            label = Some(vertex);
            vertices = if reversed {
                vec![vertex, lower]
            } else {
                vec![upper, vertex]
            };
        } else {
            for layer in item_rank[upper] + 1..item_rank[lower] {
                let carries = (layer == label_rank).then_some(link.label).flatten();
                let vertex = bend(layer, carries);
                if carries.is_some() {
                    label = Some(vertex);
                }
                vertices.push(vertex);
            }
            vertices.push(lower);
        }
        chains.push(Chain {
            vertices,
            reversed,
            elided: elided[at],
            label,
        });
    }

    let count = rank.len();
    let mut up: Vec<Vec<usize>> = vec![Vec::new(); count];
    let mut down: Vec<Vec<usize>> = vec![Vec::new(); count];
    for chain in &chains {
        for pair in chain.vertices.windows(2) {
            down[pair[0]].push(pair[1]);
            up[pair[1]].push(pair[0]);
        }
    }
    let layers = order::order(&rank, &up, &down, first);
    let x = place::positions(&layers, &extent, &up, &down);

    // Rows, top-aligned: a layer is as tall as its tallest vertex.
    let mut row_height = vec![0.0f64; layers.len()];
    for (vertex, &r) in rank.iter().enumerate() {
        row_height[r] = row_height[r].max(heights[vertex]);
    }
    // A gap a far-reaching edge crosses grows, so the edge does not run nearly flat.
    let mut gap = vec![LAYER_GAP; layers.len()];
    for (vertex, below) in down.iter().enumerate() {
        for &lower in below {
            let reach = (x[lower] - x[vertex]).abs() * GAP_PER_REACH;
            gap[rank[vertex]] = gap[rank[vertex]].max(reach.min(MAX_LAYER_GAP));
        }
    }
    let mut row_top = Vec::with_capacity(layers.len());
    let mut y = 0.0;
    for (r, &height) in row_height.iter().enumerate() {
        row_top.push(y);
        y += height + gap[r];
    }
    let height = (y - gap.last().copied().unwrap_or(0.0)).max(0.0);
    let width = layers
        .iter()
        .flatten()
        .map(|&v| x[v] + extent[v].right)
        .fold(0.0, f64::max);
    let boxes: Vec<Rect> = items
        .iter()
        .enumerate()
        .map(|(item, size)| Rect {
            x: x[item] - size.w / 2.0,
            y: row_top[rank[item]],
            w: size.w,
            h: size.h,
        })
        .collect();
    let edges = routing::route(&Placed {
        items,
        rank: &rank,
        x: &x,
        row_top: &row_top,
        row_height: &row_height,
        boxes: &boxes,
        chains: &chains,
        links,
    });
    Layout {
        width,
        height,
        boxes,
        edges,
    }
}

/// Extents and heights of the items: a node with loops onto itself keeps room on its right
/// for them and their labels.
fn item_extents(items: &[Size], links: &[Link], self_loops: &[usize]) -> (Vec<Extent>, Vec<f64>) {
    let mut extent: Vec<Extent> = items
        .iter()
        .map(|size| Extent {
            left: size.w / 2.0,
            right: size.w / 2.0,
            dummy: false,
        })
        .collect();
    let mut heights: Vec<f64> = items.iter().map(|size| size.h).collect();
    for item in 0..items.len() {
        let loops: Vec<&Link> = self_loops
            .iter()
            .map(|&i| &links[i])
            .filter(|link| link.from == item)
            .collect();
        if loops.is_empty() {
            continue;
        }
        let widest = loops
            .iter()
            .filter_map(|link| link.label.map(|label| label.w))
            .fold(0.0, f64::max);
        extent[item].right += routing::LOOP_REACH + widest;
        heights[item] = heights[item].max(loops.len() as f64 * routing::LOOP_BAND);
    }
    (extent, heights)
}
