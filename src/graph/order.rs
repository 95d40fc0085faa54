//! The order of the vertices inside each layer: start from a depth-first walk (so the
//! written order of Next, Choice branches and Catch rules reads left to right), then sweep
//! down and up moving each vertex to the barycenter of its neighbours in the layer just
//! passed, keeping the order with the fewest crossings.

/// Down and up sweeps tried at most.
const SWEEPS: usize = 16;

/// The layers, each a list of vertices in drawing order. `up[v]` and `down[v]` are the
/// neighbours of `v` in the layers just above and below.
pub(super) fn order(
    rank: &[usize],
    up: &[Vec<usize>],
    down: &[Vec<usize>],
    first: usize,
) -> Vec<Vec<usize>> {
    let vertices = rank.len();
    let layer_count = rank.iter().max().map_or(0, |&top| top + 1);
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); layer_count];
    let mut seen = vec![false; vertices];
    for root in std::iter::once(first).chain(0..vertices) {
        if seen[root] {
            continue;
        }
        seen[root] = true;
        let mut stack = vec![root];
        while let Some(vertex) = stack.pop() {
            layers[rank[vertex]].push(vertex);
            // Reversed so that the first neighbour is visited first.
            for &next in down[vertex].iter().rev() {
                if !seen[next] {
                    seen[next] = true;
                    stack.push(next);
                }
            }
        }
    }
    let mut position = vec![0usize; vertices];
    for layer in &layers {
        place(layer, &mut position);
    }
    let mut best = layers.clone();
    let mut fewest = crossings(&layers, down, &position);
    for sweep in 0..SWEEPS {
        if fewest == 0 {
            break;
        }
        if sweep % 2 == 0 {
            for layer in layers.iter_mut().skip(1) {
                reorder(layer, up, &position);
                place(layer, &mut position);
            }
        } else {
            let below_top = layers.len().saturating_sub(1);
            for layer in layers[..below_top].iter_mut().rev() {
                reorder(layer, down, &position);
                place(layer, &mut position);
            }
        }
        let count = crossings(&layers, down, &position);
        if count < fewest {
            fewest = count;
            best = layers.clone();
        }
    }
    best
}

fn place(layer: &[usize], position: &mut [usize]) {
    for (index, &vertex) in layer.iter().enumerate() {
        position[vertex] = index;
    }
}

/// Sorts a layer by the mean position of each vertex's neighbours; a vertex without
/// neighbours keeps its place.
fn reorder(layer: &mut [usize], neighbours: &[Vec<usize>], position: &[usize]) {
    let mut keyed: Vec<(f64, usize)> = layer
        .iter()
        .map(|&vertex| {
            let around = &neighbours[vertex];
            let key = if around.is_empty() {
                position[vertex] as f64
            } else {
                around.iter().map(|&n| position[n] as f64).sum::<f64>() / around.len() as f64
            };
            (key, vertex)
        })
        .collect();
    // Stable: ties keep the current order.
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (slot, (_, vertex)) in layer.iter_mut().zip(keyed) {
        *slot = vertex;
    }
}

/// Edge crossings between all pairs of adjacent layers, counted as inversions with a
/// Fenwick tree (Barth, Mutzel and Jünger).
fn crossings(layers: &[Vec<usize>], down: &[Vec<usize>], position: &[usize]) -> usize {
    let mut total = 0;
    for pair in layers.windows(2) {
        let (upper, lower) = (&pair[0], &pair[1]);
        let mut links: Vec<(usize, usize)> = upper
            .iter()
            .flat_map(|&u| down[u].iter().map(move |&v| (u, v)))
            .map(|(u, v)| (position[u], position[v]))
            .collect();
        links.sort_unstable();
        let mut tree = vec![0usize; lower.len() + 1];
        for (inserted, &(_, at)) in links.iter().enumerate() {
            // Links inserted so far that end right of `at` cross this one.
            let mut not_right = 0;
            let mut index = at + 1;
            while index > 0 {
                not_right += tree[index];
                index -= index & index.wrapping_neg();
            }
            total += inserted - not_right;
            let mut index = at + 1;
            while index < tree.len() {
                tree[index] += 1;
                index += index & index.wrapping_neg();
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crossing_is_undone() {
        // Layer 0: 0, 1; layer 1: 2, 3 with 0 → 3 and 1 → 2 (one crossing if kept).
        let rank = [0, 0, 1, 1];
        let down = vec![vec![3], vec![2], vec![], vec![]];
        let up = vec![vec![], vec![], vec![1], vec![0]];
        let layers = order(&rank, &up, &down, 0);
        let position = |v: usize| layers[rank[v]].iter().position(|&x| x == v).unwrap();
        assert_eq!(position(0) < position(1), position(3) < position(2));
        let at_of = |layers: &[Vec<usize>]| {
            let mut at = vec![0; 4];
            for layer in layers {
                for (i, &v) in layer.iter().enumerate() {
                    at[v] = i;
                }
            }
            at
        };
        assert_eq!(crossings(&layers, &down, &at_of(&layers)), 0);
        let crossed = vec![vec![0, 1], vec![2, 3]];
        assert_eq!(crossings(&crossed, &down, &at_of(&crossed)), 1);
    }
}
