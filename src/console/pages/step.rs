//! One step of an execution, as the panel beside the graph shows it: what the graph knows of
//! the node (status, attempts, iterations or branches by status, its map run), and each time
//! the step was entered with its input, output, error and task attempts.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::execution::load;
use super::{Time, execution_url, html, segment, text};
use crate::console::Console;
use crate::console::diagram::{self, step_name};
use crate::console::error::ConsoleError;
use crate::console::model::events::{self, Event};
use crate::console::model::steps::{Occurrence, occurrences};
use crate::console::model::timeline::duration_text;
use crate::console::session::Session;
use crate::graph::NodeStatus;

/// Occurrences of one step shown at most.
const STEP_OCCURRENCES: usize = 20;

/// What happened to one step.
pub struct StepDetails {
    pub node: String,
    pub close_url: String,
    /// `running · attempt 2 · entered 3 times`
    pub summary: Option<String>,
    /// `5 iterations or branches: 3 succeeded, 1 failed, 1 running`
    pub children: Option<String>,
    /// The first failed iteration or branch, and the event that entered it.
    pub first_failed: Option<(usize, Option<i64>)>,
    pub map_run_url: Option<String>,
    pub total: usize,
    pub occurrences: Vec<OccurrenceView>,
}

pub struct OccurrenceView {
    pub entered_id: i64,
    pub status: &'static str,
    pub entered: Time,
    pub input: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub attempts: Vec<String>,
}

impl StepDetails {
    pub fn new(
        url: &str,
        events: &[Event],
        node: &str,
        status: Option<&NodeStatus>,
    ) -> StepDetails {
        let step = step_name(node);
        let found = occurrences(events, &step);
        StepDetails {
            node: node.to_string(),
            close_url: url.to_string(),
            summary: status.map(summary),
            children: status.and_then(|status| status.children.as_ref()).map(|counts| {
                format!(
                    "{} iterations or branches: {} succeeded, {} failed, {} running, {} not reached, {} cancelled",
                    counts.total,
                    counts.succeeded,
                    counts.failed,
                    counts.running,
                    counts.not_reached,
                    counts.cancelled
                )
            }),
            first_failed: status
                .and_then(|status| status.first_failed_child)
                .map(|index| (index, child_entered(events, &step, index))),
            map_run_url: status
                .and_then(|status| status.map_run.as_deref())
                .map(|run| format!("{url}/map-runs/{}", segment(run))),
            total: found.len(),
            occurrences: found
                .iter()
                .take(STEP_OCCURRENCES)
                .map(OccurrenceView::new)
                .collect(),
        }
    }
}

fn summary(status: &NodeStatus) -> String {
    let mut parts = vec![status.status.as_str().to_string()];
    if status.attempts > 1 {
        parts.push(format!("{} attempts", status.attempts));
    }
    if status.visits > 1 {
        parts.push(format!("entered {} times", status.visits));
    }
    if let Some(error) = &status.error {
        parts.push(format!("last error {error}"));
    }
    parts.join(" · ")
}

/// The event that entered iteration or branch `index` of `step` (its latest run).
fn child_entered(events: &[Event], step: &str, index: usize) -> Option<i64> {
    events
        .iter()
        .rev()
        .find(|event| {
            matches!(event.kind.as_str(), "IterationEntered" | "BranchEntered")
                && event.step == step
                && event.detail["index"].as_u64() == Some(index as u64)
        })
        .map(|event| event.id)
}

impl OccurrenceView {
    fn new(occurrence: &Occurrence) -> OccurrenceView {
        let ended = occurrence.ended.as_ref();
        let exited = ended.filter(|event| event.kind == "StepExited");
        let failed = ended.filter(|event| event.kind != "StepExited");
        OccurrenceView {
            entered_id: occurrence.entered.id,
            status: occurrence.status(),
            entered: Time::of(&occurrence.entered.time_text),
            input: occurrence.input().map(events::pretty).unwrap_or_default(),
            output: exited.map(|event| events::pretty(&event.detail["output"])),
            error: failed.map(|event| events::pretty(&event.detail)),
            attempts: occurrence
                .attempts
                .iter()
                .map(|attempt| {
                    let result = attempt.result.as_ref();
                    let took = result
                        .map(|result| {
                            format!(
                                " after {}",
                                duration_text(result.time - attempt.scheduled.time)
                            )
                        })
                        .unwrap_or_default();
                    let outcome = match result {
                        Some(result) if result.kind == "TaskSucceeded" => "succeeded".to_string(),
                        Some(result) => format!(
                            "{}: {} {}",
                            result.kind,
                            result.detail["error"].as_str().unwrap_or_default(),
                            result.detail["cause"].as_str().unwrap_or_default()
                        ),
                        None => "running".to_string(),
                    };
                    format!("Attempt {}: {outcome}{took}", attempt.number())
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "step.html")]
struct StepFragment {
    step: StepDetails,
}

#[derive(Deserialize)]
pub struct StepQuery {
    node: String,
}

/// The details of one step, as a fragment the page's script puts beside the graph.
pub async fn step(
    State(console): State<Console>,
    session: Session,
    Path((flow, name)): Path<(String, String)>,
    Query(step): Query<StepQuery>,
) -> Result<Response, ConsoleError> {
    let loaded = load(&console, &session, &flow, &name).await?;
    let url = execution_url(&flow, &name);
    let definition = text(&loaded.execution, "FlowDefinition");
    let statuses = diagram::parse(&flow, &definition, false)
        .map(|parsed| diagram::node_statuses(&parsed, &loaded.events));
    let status = statuses.as_ref().and_then(|all| all.get(&step.node));
    html(&StepFragment {
        step: StepDetails::new(&url, &loaded.events, &step.node, status),
    })
}
