//! A flow's page: its executions (filters, paging), its definition, and deleting it.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use super::{Chrome, Time, execution_url, flow_url, html, query, see_other, text};
use crate::api::Action;
use crate::console::Console;
use crate::console::error::ConsoleError;
use crate::console::model::timeline::duration_text;
use crate::console::session::{Posted, Session};

const PAGE_SIZE: &str = "50";
const STATUSES: [&str; 6] = [
    "Running",
    "Succeeded",
    "Failed",
    "TimedOut",
    "Stopped",
    "Starting",
];

/// The top of every page of a flow: what it is, its tabs and what the key may do with it.
pub struct FlowHeader {
    pub name: String,
    pub url: String,
    pub description: String,
    pub mode: String,
    pub flow_type: String,
    pub created: Time,
    pub modified: Time,
    pub tab: &'static str,
    pub can_start: bool,
    pub can_edit: bool,
    pub can_delete: bool,
    pub definition: String,
}

impl FlowHeader {
    pub async fn load(
        console: &Console,
        session: &Session,
        name: &str,
        tab: &'static str,
    ) -> Result<FlowHeader, ConsoleError> {
        let flow = session
            .call(console, Action::DescribeFlow, &[("Name", name)])
            .await?;
        Ok(FlowHeader::new(session, &flow, tab))
    }

    pub fn new(session: &Session, flow: &Value, tab: &'static str) -> FlowHeader {
        let name = text(flow, "Name");
        FlowHeader {
            url: flow_url(&name),
            description: text(flow, "Description"),
            mode: text(flow, "ExecutionMode"),
            flow_type: text(flow, "Type"),
            created: Time::of(&text(flow, "CreatedTime")),
            modified: Time::of(&text(flow, "LastModifiedTime")),
            tab,
            can_start: session.may_on(Action::StartExecution, &name)
                && text(flow, "ExecutionMode") != "Express",
            can_edit: session.may_on(Action::UpdateFlow, &name),
            can_delete: session.may_on(Action::DeleteFlow, &name),
            definition: text(flow, "Definition"),
            name,
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ExecutionFilters {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub prefix: String,
    /// `datetime-local` values, read as UTC.
    #[serde(default)]
    pub after: String,
    #[serde(default)]
    pub before: String,
    #[serde(default)]
    pub from: String,
}

pub struct ExecutionRow {
    pub name: String,
    pub url: String,
    pub status: String,
    pub started: Time,
    pub stopped: Time,
    pub duration: String,
}

impl ExecutionRow {
    pub fn new(flow: &str, execution: &Value) -> ExecutionRow {
        let name = text(execution, "Name");
        let started = Time::of(&text(execution, "StartedTime"));
        let stopped = Time::of(&text(execution, "StoppedTime"));
        let duration = match (started.ms(), stopped.ms()) {
            (Some(start), Some(stop)) if !stopped.utc.is_empty() => duration_text(stop - start),
            _ => String::new(),
        };
        ExecutionRow {
            url: execution_url(flow, &name),
            status: text(execution, "Status"),
            started,
            stopped,
            duration,
            name,
        }
    }
}

#[derive(Template)]
#[template(path = "flow_executions.html")]
struct ExecutionsPage {
    chrome: Chrome,
    flow: FlowHeader,
    filters: ExecutionFilters,
    statuses: [&'static str; 6],
    executions: Vec<ExecutionRow>,
    next_url: Option<String>,
    first_url: Option<String>,
    may_list: bool,
}

/// `2024-05-01T12:00` (a `datetime-local` value, taken as UTC) → RFC 3339.
fn utc(local: &str) -> String {
    match local.len() {
        0 => String::new(),
        16 => format!("{local}:00Z"),
        _ => format!("{local}Z"),
    }
}

pub async fn executions(
    State(console): State<Console>,
    session: Session,
    Path(flow): Path<String>,
    Query(filters): Query<ExecutionFilters>,
) -> Result<Response, ConsoleError> {
    let header = FlowHeader::load(&console, &session, &flow, "executions").await?;
    let (after, before) = (utc(&filters.after), utc(&filters.before));
    let answer = session
        .call_if_allowed(
            &console,
            Action::ListExecutions,
            &[
                ("FlowName", &flow),
                ("Limit", PAGE_SIZE),
                ("Status", &filters.status),
                ("ExecutionNamePrefix", &filters.prefix),
                ("StartedTimeBegin", &after),
                ("StartedTimeEnd", &before),
                ("NextToken", &filters.from),
                ("MetadataOnly", "true"),
            ],
        )
        .await?;
    let may_list = answer.is_some();
    let answer = answer.unwrap_or_default();
    let executions = answer["Executions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|execution| ExecutionRow::new(&flow, execution))
        .collect();
    let filter_pairs = |from: &str| {
        query(&[
            ("status", &filters.status),
            ("prefix", &filters.prefix),
            ("after", &filters.after),
            ("before", &filters.before),
            ("from", from),
        ])
    };
    let next = text(&answer, "NextToken");
    let page = ExecutionsPage {
        chrome: Chrome::of(&session),
        next_url: (!next.is_empty()).then(|| format!("{}{}", header.url, filter_pairs(&next))),
        first_url: (!filters.from.is_empty())
            .then(|| format!("{}{}", header.url, filter_pairs(""))),
        flow: header,
        statuses: STATUSES,
        executions,
        filters,
        may_list,
    };
    html(&page)
}

#[derive(Template)]
#[template(path = "flow_definition.html")]
struct DefinitionPage {
    chrome: Chrome,
    flow: FlowHeader,
    graph: Option<String>,
}

pub async fn definition(
    State(console): State<Console>,
    session: Session,
    Path(flow): Path<String>,
) -> Result<Response, ConsoleError> {
    let header = FlowHeader::load(&console, &session, &flow, "definition").await?;
    let express = header.mode == "Express";
    let graph = crate::console::diagram::flow_svg(&header.name, &header.definition, express);
    html(&DefinitionPage {
        chrome: Chrome::of(&session),
        flow: header,
        graph,
    })
}

#[derive(Template)]
#[template(path = "flow_delete.html")]
struct DeletePage {
    chrome: Chrome,
    flow: FlowHeader,
    error: Option<String>,
}

pub async fn confirm_delete(
    State(console): State<Console>,
    session: Session,
    Path(flow): Path<String>,
) -> Result<Response, ConsoleError> {
    let header = FlowHeader::load(&console, &session, &flow, "delete").await?;
    html(&DeletePage {
        chrome: Chrome::of(&session),
        flow: header,
        error: None,
    })
}

pub async fn delete(
    State(console): State<Console>,
    Path(flow): Path<String>,
    posted: Posted,
) -> Result<Response, ConsoleError> {
    let session = &posted.session;
    if posted.form.text("confirm") != flow {
        let header = FlowHeader::load(&console, session, &flow, "delete").await?;
        return html(&DeletePage {
            chrome: Chrome::of(session),
            flow: header,
            error: Some("Type the flow's name exactly to delete it.".into()),
        });
    }
    match session
        .call(&console, Action::DeleteFlow, &[("Name", &flow)])
        .await
    {
        Ok(_) => Ok(see_other("/console/flows")),
        Err(error) => Err(ConsoleError::from(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_inputs_are_read_as_utc() {
        assert_eq!(utc(""), "");
        assert_eq!(utc("2024-05-01T12:00"), "2024-05-01T12:00:00Z");
        assert_eq!(utc("2024-05-01T12:00:30"), "2024-05-01T12:00:30Z");
    }
}
