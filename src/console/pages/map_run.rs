//! A distributed Map's map run: its settings, its children by status, and their list.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::flow::ExecutionRow;
use super::{Chrome, execution_url, flow_url, html, query, text};
use crate::api::Action;
use crate::console::Console;
use crate::console::error::ConsoleError;
use crate::console::session::Session;

/// Children counted per status at most (one indexed page each).
const COUNT_LIMIT: usize = 100;
const STATUSES: [&str; 5] = ["Running", "Succeeded", "Failed", "TimedOut", "Stopped"];

#[derive(Deserialize)]
pub struct ChildrenQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    from: String,
}

pub struct Count {
    pub status: &'static str,
    pub count: String,
    pub url: String,
}

#[derive(Template)]
#[template(path = "map_run.html")]
struct MapRunPage {
    chrome: Chrome,
    flow: String,
    flow_url: String,
    execution: String,
    execution_url: String,
    name: String,
    concurrency: String,
    tolerated_count: String,
    tolerated_percentage: String,
    counts: Vec<Count>,
    status: String,
    children: Vec<ExecutionRow>,
    first_failed: Option<String>,
    next_url: Option<String>,
}

pub async fn page(
    State(console): State<Console>,
    session: Session,
    Path((flow, execution, name)): Path<(String, String, String)>,
    Query(children): Query<ChildrenQuery>,
) -> Result<Response, ConsoleError> {
    let map_run = session
        .call(
            &console,
            Action::DescribeMapRun,
            &[
                ("FlowName", &flow),
                ("ExecutionName", &execution),
                ("MapRunName", &name),
            ],
        )
        .await?;
    let url = format!(
        "{}/map-runs/{}",
        execution_url(&flow, &execution),
        super::segment(&name)
    );
    let limit = COUNT_LIMIT.to_string();
    let mut counts = Vec::new();
    let mut first_failed = None;
    for status in STATUSES {
        let page = session
            .call(
                &console,
                Action::ListExecutions,
                &[
                    ("FlowName", &flow),
                    ("MapRunName", &name),
                    ("Status", status),
                    ("Limit", &limit),
                    ("MetadataOnly", "true"),
                ],
            )
            .await?;
        let listed = page["Executions"].as_array().cloned().unwrap_or_default();
        if status == "Failed" {
            // Children are listed newest first: the first to fail is the last one.
            first_failed = listed
                .last()
                .map(|child| execution_url(&flow, &text(child, "Name")));
        }
        let more = !text(&page, "NextToken").is_empty();
        counts.push(Count {
            status,
            count: format!("{}{}", listed.len(), if more { "+" } else { "" }),
            url: format!("{url}{}", query(&[("status", status)])),
        });
    }
    let listed = session
        .call(
            &console,
            Action::ListExecutions,
            &[
                ("FlowName", &flow),
                ("MapRunName", &name),
                ("Status", &children.status),
                ("NextToken", &children.from),
                ("Limit", "50"),
                ("MetadataOnly", "true"),
            ],
        )
        .await?;
    let next = text(&listed, "NextToken");
    html(&MapRunPage {
        chrome: Chrome::of(&session),
        flow_url: flow_url(&flow),
        execution_url: execution_url(&flow, &execution),
        concurrency: text(&map_run, "Concurrency"),
        tolerated_count: text(&map_run, "ToleratedFailedCount"),
        tolerated_percentage: text(&map_run, "ToleratedFailedPercentage"),
        counts,
        children: listed["Executions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|child| ExecutionRow::new(&flow, child))
            .collect(),
        first_failed,
        next_url: (!next.is_empty()).then(|| {
            format!(
                "{url}{}",
                query(&[("status", &children.status), ("from", &next)])
            )
        }),
        status: children.status,
        flow,
        execution,
        name,
    })
}
