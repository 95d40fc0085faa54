//! Horizontal positions inside the ordered layers: each vertex is pulled towards its
//! neighbours in the adjacent layers (long edges more strongly, so they run straight), and
//! each layer is then packed as close to those wishes as the spacing allows, by a
//! least-squares fit solved exactly with pool-adjacent-violators.

/// Down and up passes.
const PASSES: usize = 12;

/// A vertex's horizontal extent around its anchor (the box centre, or the line of an edge
/// passing through), and its role.
#[derive(Debug, Clone, Copy)]
pub(super) struct Extent {
    pub left: f64,
    pub right: f64,
    /// A bend of an edge rather than a node.
    pub dummy: bool,
}

/// Gap between neighbours in a layer.
fn gap(a: &Extent, b: &Extent) -> f64 {
    match (a.dummy, b.dummy) {
        (true, true) => 4.0,
        (false, false) => 28.0,
        _ => 12.0,
    }
}

/// Pull of a link: long edges (dummy to dummy) weigh most, as in Gansner et al.'s layout.
fn pull(a: &Extent, b: &Extent) -> f64 {
    match (a.dummy, b.dummy) {
        (true, true) => 8.0,
        (false, false) => 1.0,
        _ => 2.0,
    }
}

/// Anchor x of every vertex; the leftmost extent is at 0.
pub(super) fn positions(
    layers: &[Vec<usize>],
    extent: &[Extent],
    up: &[Vec<usize>],
    down: &[Vec<usize>],
) -> Vec<f64> {
    let mut x = vec![0.0; extent.len()];
    for layer in layers {
        let desired = vec![0.0; layer.len()];
        pack(layer, &desired, extent, &mut x);
    }
    let wish = |vertex: usize, neighbours: &[&[usize]], x: &[f64]| {
        let (mut sum, mut weight) = (0.0, 0.0);
        for &n in neighbours.iter().flat_map(|list| list.iter()) {
            let w = pull(&extent[vertex], &extent[n]);
            sum += w * x[n];
            weight += w;
        }
        if weight > 0.0 {
            sum / weight
        } else {
            x[vertex]
        }
    };
    for pass in 0..=PASSES {
        let indices: Vec<usize> = if pass % 2 == 0 {
            (1..layers.len()).collect()
        } else {
            (0..layers.len().saturating_sub(1)).rev().collect()
        };
        for index in indices {
            let layer = &layers[index];
            let desired: Vec<f64> = layer
                .iter()
                .map(|&v| match (pass, pass % 2) {
                    // The last pass balances both sides.
                    (PASSES, _) => wish(v, &[&up[v], &down[v]], &x),
                    (_, 0) => wish(v, &[&up[v]], &x),
                    _ => wish(v, &[&down[v]], &x),
                })
                .collect();
            pack(layer, &desired, extent, &mut x);
        }
    }
    let min = layers
        .iter()
        .flatten()
        .map(|&v| x[v] - extent[v].left)
        .fold(f64::INFINITY, f64::min);
    if min.is_finite() {
        x.iter_mut().for_each(|value| *value -= min);
    }
    x
}

/// Places one layer's vertices, in order and without overlap, minimising the weighted
/// squared distance to `desired`. With `c_i` the least offset of vertex `i` from the first,
/// `y_i = x_i - c_i` must not decrease: an isotonic regression.
fn pack(layer: &[usize], desired: &[f64], extent: &[Extent], x: &mut [f64]) {
    let mut offset = Vec::with_capacity(layer.len());
    let mut total = 0.0;
    for (index, &vertex) in layer.iter().enumerate() {
        if index > 0 {
            let previous = &extent[layer[index - 1]];
            let current = &extent[vertex];
            total += previous.right + gap(previous, current) + current.left;
        }
        offset.push(total);
    }
    // Blocks of pooled vertices: (weight, mean target, count).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
    for (index, &vertex) in layer.iter().enumerate() {
        // Nodes hold their place more firmly than edge bends.
        let weight = if extent[vertex].dummy { 1.0 } else { 4.0 };
        blocks.push((weight, desired[index] - offset[index], 1));
        while blocks.len() >= 2 {
            let (w2, m2, n2) = blocks[blocks.len() - 1];
            let (w1, m1, n1) = blocks[blocks.len() - 2];
            if m1 <= m2 {
                break;
            }
            blocks.pop();
            let merged = blocks.len() - 1;
            blocks[merged] = (w1 + w2, (w1 * m1 + w2 * m2) / (w1 + w2), n1 + n2);
        }
    }
    let mut index = 0;
    for (_, mean, count) in blocks {
        for _ in 0..count {
            x[layer[index]] = mean + offset[index];
            index += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(w: f64) -> Extent {
        Extent {
            left: w / 2.0,
            right: w / 2.0,
            dummy: false,
        }
    }

    #[test]
    fn packing_keeps_order_and_spacing_and_meets_wishes_when_it_can() {
        let extent = vec![node(100.0), node(100.0), node(50.0)];
        let mut x = vec![0.0; 3];
        pack(&[0, 1, 2], &[0.0, 0.0, 500.0], &extent, &mut x);
        assert!(x[1] - x[0] >= 100.0 + 28.0 - 1e-9);
        assert_eq!(x[2], 500.0);
        // Symmetric wishes pool around their mean.
        assert!((x[0] + x[1]) / 2.0 - 0.0 < 1e-9);
    }

    #[test]
    fn a_chain_lines_up() {
        let extent = vec![node(100.0), node(60.0), node(80.0)];
        let layers = vec![vec![0], vec![1], vec![2]];
        let up = vec![vec![], vec![0], vec![1]];
        let down = vec![vec![1], vec![2], vec![]];
        let x = positions(&layers, &extent, &up, &down);
        assert_eq!(x[0], x[1]);
        assert_eq!(x[1], x[2]);
        assert_eq!(x[0] - extent[0].left, 0.0);
    }
}
