//! The graph of a flow, drawn from its definition: laid out in Rust, sent as SVG, and
//! coloured from an execution's history. Pure functions over the engine's IR; no store, no
//! HTTP.
//!
//! # API
//!
//! * [`layout`]`(&FlowDefinition) -> Graph`: positioned [`Node`]s (id, label, kind, box,
//!   parent and children) and routed [`Edge`]s (from, to, kind, label with its box,
//!   polyline). Parse the definition with [`crate::engine::parse::parse_definition`]; both
//!   languages give the same kind of graph.
//! * [`statuses`]`(&FlowDefinition, events) -> BTreeMap<NodeId, NodeStatus>`: what
//!   happened to every node in one execution, from its history events ([`EventFacts`],
//!   built from the store's rows with `EventFacts::from`). Serializable: a live page sends
//!   it as JSON and recolours nodes without redrawing.
//! * [`render_svg`]`(&Graph, Option<&BTreeMap<NodeId, NodeStatus>>) -> String`: a
//!   standalone SVG document with a `viewBox`. Every state is
//!   `<g class="node kind-… status-…" data-node="ID" tabindex="0" role="button"
//!   aria-label="…">`; styling is by CSS classes only ([`STYLESHEET`] is the stylesheet
//!   to serve with it; neutral presentation attributes keep the SVG readable without it),
//!   there is no inline style or script, all text is escaped, and long names are cut with
//!   the full name in a `<title>`.
//!
//! # What is drawn
//!
//! One node per state (FDL step), with Start and End markers for every list of states (the
//! top level's are labelled pills, nested lists get small dots). Edges: `next` (the
//! following step, `Next`, `End`), `choice` (a Choice branch, labelled with its
//! condition), `default` (a Choice's `Default`, or an FDL choice's fall-through to the
//! next step), `catch` (dashed, labelled with the errors it catches). An edge that closes a
//! loop is a back edge: drawn upwards, against the flow. Containers: a Parallel holds one
//! lane per branch, side by side; a Map / foreach holds its body once; an FDL choice
//! option with `steps` becomes a box of its own between the choice and where the option
//! continues. Fail states have no outgoing edge.
//!
//! Each list is laid out in layers (a Sugiyama layout: loops broken at the edge that
//! returns, layers, crossing reduction, straight long edges); labels take room in the
//! layer below their source like nodes do, so no two boxes and no label and box overlap,
//! and edges never cross a node. Very large definitions stay bounded: past a fixed number
//! of edge bends, the longest edges are drawn as short stubs labelled with their target
//! (`elided`).
//!
//! # Node ids
//!
//! A node's id is its path from the top of the definition, segments joined by `/`:
//!
//! | node | id |
//! | --- | --- |
//! | a top-level state `Fan` | `Fan` |
//! | state `Work` in the body of Map / foreach `Fan` | `Fan/Work` |
//! | branch 1 of Parallel `Par` (a lane) | `Par/1` |
//! | state `Step` in branch 1 of `Par` | `Par/1/Step` |
//! | the steps of option 0 of FDL choice `route` / of its default | `route/0` / `route/default` |
//! | step `onReady` in option 0 of `route` | `route/0/onReady` |
//! | the start / end marker of a list | `:start`, `:end`, `Par/1/:start`, … |
//!
//! Branch and option indexes count from 0, as the history's `index` does. In a state's
//! name, `%`, `/`, `:` and control characters are percent-encoded (`a/b` → `a%2Fb`), so
//! ids are unambiguous and no state id begins with `:`. Ids are keys, not URLs: encode
//! them as a URL component when putting them in one.
//!
//! # Statuses
//!
//! See [`NodeStatus`]: `not-reached`, `running`, `succeeded`, `retried` (succeeded after
//! more than one attempt), `caught` (failed, and a Catch rule moved on), `failed`, and
//! `cancelled` (entered, but the execution or the enclosing Parallel / Map ended first).
//! A node entered several times (a loop, the body of a Map) shows the most telling of its
//! visits: running, else failed, caught, retried, succeeded, cancelled; its event ids are
//! that visit's.

mod build;
mod layered;
mod layout;
mod model;
mod order;
mod place;
mod rank;
mod replay;
mod routing;
mod status;
mod svg;
#[cfg(test)]
mod tests;
mod text;

pub use layout::layout;
pub use model::{Edge, EdgeKind, EdgeLabel, Graph, Node, NodeId, NodeKind, Point, Rect, state_id};
pub use status::{ChildCounts, EventFacts, NodeStatus, Status, statuses};
pub use svg::{STYLESHEET, render_svg};
