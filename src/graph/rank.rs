//! Layer assignment for one list of states: loops are broken by reversing the edges that
//! close them (found by a depth-first walk from the start, so the written order decides
//! which edge of a loop points back), then every node is put at least two layers below
//! each of its predecessors. The layer between two nodes holds the labels and bends of the
//! edges that cross it, as in dagre's layout.

/// Layers between the two ends of an edge, at least.
pub(super) const MIN_SPAN: usize = 2;

/// Which edges close a loop. `edges` are `(from, to)` item pairs without self-loops; the
/// walk starts at `first`, then at every item not reached, in order.
pub(super) fn back_edges(items: usize, edges: &[(usize, usize)], first: usize) -> Vec<bool> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); items];
    for (index, &(from, _)) in edges.iter().enumerate() {
        out[from].push(index);
    }
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; items];
    let mut back = vec![false; edges.len()];
    let roots = std::iter::once(first).chain(0..items);
    for root in roots {
        if mark[root] != Mark::New {
            continue;
        }
        // An explicit stack: a list may hold thousands of states.
        let mut stack = vec![(root, 0usize)];
        mark[root] = Mark::Open;
        while let Some((item, next)) = stack.last_mut() {
            let item = *item;
            if let Some(&edge) = out[item].get(*next) {
                *next += 1;
                let to = edges[edge].1;
                match mark[to] {
                    Mark::New => {
                        mark[to] = Mark::Open;
                        stack.push((to, 0));
                    }
                    Mark::Open => back[edge] = true,
                    Mark::Done => {}
                }
            } else {
                mark[item] = Mark::Done;
                stack.pop();
            }
        }
    }
    back
}

/// Layers of the items of an acyclic graph given as `(upper, lower)` pairs: `first` on
/// top, `last` alone at the bottom, everything else as high as its predecessors allow, and
/// nodes without predecessors just above their highest successor.
pub(super) fn layers(
    items: usize,
    edges: &[(usize, usize)],
    first: usize,
    last: usize,
) -> Vec<usize> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); items];
    let mut incoming = vec![0usize; items];
    for &(upper, lower) in edges {
        out[upper].push(lower);
        incoming[lower] += 1;
    }
    let sources: Vec<bool> = incoming.iter().map(|&count| count == 0).collect();
    let mut rank = vec![0usize; items];
    let mut ready: Vec<usize> = (0..items).filter(|&item| incoming[item] == 0).collect();
    let mut order = Vec::with_capacity(items);
    while let Some(item) = ready.pop() {
        order.push(item);
        for &lower in &out[item] {
            rank[lower] = rank[lower].max(rank[item] + MIN_SPAN);
            incoming[lower] -= 1;
            if incoming[lower] == 0 {
                ready.push(lower);
            }
        }
    }
    debug_assert_eq!(order.len(), items, "the graph must be acyclic");
    // Sources other than the start sink to just above their highest successor (whose layer
    // is final: successors come later in the order).
    for &item in order.iter().rev() {
        if item == first || !sources[item] {
            continue;
        }
        if let Some(lowest) = out[item].iter().map(|&lower| rank[lower]).min() {
            rank[item] = lowest.saturating_sub(MIN_SPAN);
        }
    }
    let bottom = (0..items)
        .filter(|&item| item != last)
        .map(|item| rank[item])
        .max()
        .unwrap_or(0);
    rank[last] = bottom + MIN_SPAN;
    rank
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loop_is_broken_at_the_edge_that_returns() {
        // 0 → 1 → 2 → 1, 2 → 3
        let edges = [(0, 1), (1, 2), (2, 1), (2, 3)];
        assert_eq!(back_edges(4, &edges, 0), vec![false, false, true, false]);
    }

    #[test]
    fn layers_keep_edges_downwards_and_the_end_last() {
        // 0 → 1 → 3, 0 → 2, 4 (unreached) → 3, 3 → 5 (end)
        let edges = [(0, 1), (1, 3), (0, 2), (4, 3), (3, 5)];
        let rank = layers(6, &edges, 0, 5);
        for &(upper, lower) in &edges {
            assert!(rank[lower] >= rank[upper] + MIN_SPAN, "{rank:?}");
        }
        assert_eq!(rank[0], 0);
        assert_eq!(rank[4], rank[3] - MIN_SPAN);
        assert!((0..5).all(|item| rank[item] < rank[5]));
    }
}
