//! The graph of a definition on the console's pages (drawn by `crate::graph`).

/// The SVG of a flow's definition, or `None` when it cannot be drawn.
pub fn flow_svg(_flow_name: &str, _definition: &str) -> Option<String> {
    None
}
