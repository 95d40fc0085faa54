//! An execution's page: status, input and output, error, the graph coloured by what
//! happened, step details, history (table and timeline), callbacks, children, and the
//! stop / report / start-again actions.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use super::flow::ExecutionRow;
use super::step::StepDetails;
use super::{Chrome, Time, execution_url, flow_url, html, query, see_other, text};
use crate::api::Action;
use crate::console::Console;
use crate::console::diagram;
use crate::console::error::ConsoleError;
use crate::console::model::events::{self, Event, Link, pretty_text};
use crate::console::model::sdk;
use crate::console::model::timeline;
use crate::console::session::{Posted, Session};
use crate::engine::tokens::TokenScope;
use crate::error::ApiError;

/// History rows and timeline rows per page.
const PAGE_ROWS: usize = 100;
/// Pages of GetExecutionHistory read at most (999 events each; executions stop at 5,000).
const HISTORY_CALLS: usize = 8;

#[derive(Deserialize, Default)]
pub struct PageQuery {
    /// Index of the first history row shown.
    #[serde(default)]
    rows: usize,
    /// "1": failed events only.
    #[serde(default)]
    failed: String,
    /// Index of the first timeline row shown.
    #[serde(default)]
    lanes: usize,
    /// The step (graph node) whose details are open.
    #[serde(default)]
    step: String,
}

/// Everything an execution page needs from the API.
pub struct Loaded {
    pub execution: Value,
    pub events: Vec<Event>,
    /// False when the key may not read the history (GetExecutionHistory).
    pub may_read_history: bool,
}

/// DescribeExecution and the whole history, through the API.
pub async fn load(
    console: &Console,
    session: &Session,
    flow: &str,
    execution: &str,
) -> Result<Loaded, ConsoleError> {
    let described = session
        .call(
            console,
            Action::DescribeExecution,
            &[("FlowName", flow), ("ExecutionName", execution)],
        )
        .await?;
    let mut events = Vec::new();
    let mut next = String::new();
    for _ in 0..HISTORY_CALLS {
        let Some(page) = session
            .call_if_allowed(
                console,
                Action::GetExecutionHistory,
                &[
                    ("FlowName", flow),
                    ("ExecutionName", execution),
                    ("Limit", "999"),
                    ("NextToken", &next),
                ],
            )
            .await?
        else {
            return Ok(Loaded {
                execution: described,
                events,
                may_read_history: false,
            });
        };
        events.extend(
            page["Events"]
                .as_array()
                .into_iter()
                .flatten()
                .map(Event::from_api),
        );
        next = text(&page, "NextToken");
        if next.is_empty() {
            break;
        }
    }
    Ok(Loaded {
        execution: described,
        events,
        may_read_history: true,
    })
}

/// A row of the history table.
pub struct HistoryRow {
    pub id: i64,
    pub kind: String,
    pub step: String,
    pub time: Time,
    pub detail: String,
    pub failure: bool,
}

impl HistoryRow {
    pub fn new(event: &Event) -> HistoryRow {
        HistoryRow {
            id: event.id,
            kind: event.kind.clone(),
            step: event.step.clone(),
            time: Time::of(&event.time_text),
            detail: event.detail_text(),
            failure: event.is_failure(),
        }
    }
}

/// A task waiting for a report, with its token.
pub struct Callback {
    pub step: String,
    pub token: String,
    pub masked: String,
}

/// A link to another execution or a map run.
pub struct LinkView {
    pub label: String,
    pub step: String,
    pub url: String,
}

#[derive(Template)]
#[template(path = "execution.html")]
struct ExecutionPage {
    chrome: Chrome,
    flow: String,
    flow_url: String,
    url: String,
    summary: ExecutionRow,
    running: bool,
    input: String,
    output: String,
    error: Option<(String, String)>,
    graph: Option<String>,
    step: Option<StepDetails>,
    history: Vec<HistoryRow>,
    failed_only: bool,
    history_pager: Pager,
    live: bool,
    last_event: i64,
    timeline: String,
    timeline_pager: Pager,
    callbacks: Vec<Callback>,
    can_report_succeeded: bool,
    can_report_failed: bool,
    links: Vec<LinkView>,
    can_stop: bool,
    can_start: bool,
    start_url: String,
    sdk_start: String,
    sdk_describe: String,
    may_read_history: bool,
}

/// Previous/next links of a paged section.
#[derive(Default)]
pub struct Pager {
    pub label: String,
    pub previous: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// Links to the page before and after rows `first..first + PAGE_ROWS` of `total`.
    fn new(total: usize, first: usize, link: impl Fn(usize) -> String) -> Pager {
        let last = (first + PAGE_ROWS).min(total);
        Pager {
            label: if total == 0 {
                String::new()
            } else {
                format!("{}–{} of {total}", first + 1, last)
            },
            previous: (first > 0).then(|| link(first.saturating_sub(PAGE_ROWS))),
            next: (last < total).then(|| link(last)),
        }
    }
}

pub async fn page(
    State(console): State<Console>,
    session: Session,
    Path((flow, name)): Path<(String, String)>,
    Query(at): Query<PageQuery>,
) -> Result<Response, ConsoleError> {
    let loaded = load(&console, &session, &flow, &name).await?;
    let execution = &loaded.execution;
    let events = &loaded.events;
    let summary = ExecutionRow::new(&flow, execution);
    let running = matches!(summary.status.as_str(), "Running" | "Starting");
    let url = execution_url(&flow, &name);
    let failed_only = at.failed == "1";
    let shown: Vec<&Event> = events
        .iter()
        .filter(|event| !failed_only || event.is_failure())
        .collect();
    let history_first = at
        .rows
        .min(shown.len().saturating_sub(1) / PAGE_ROWS * PAGE_ROWS);
    let page_link = |rows: usize, lanes: usize| {
        let rows = rows.to_string();
        let lanes = lanes.to_string();
        format!(
            "{url}{}",
            query(&[
                ("rows", if rows == "0" { "" } else { &rows }),
                ("failed", &at.failed),
                ("lanes", if lanes == "0" { "" } else { &lanes }),
                ("step", &at.step),
            ])
        )
    };
    let history_pager = Pager::new(shown.len(), history_first, |rows| {
        format!("{}#history", page_link(rows, at.lanes))
    });
    let history: Vec<HistoryRow> = shown
        .iter()
        .skip(history_first)
        .take(PAGE_ROWS)
        .map(|event| HistoryRow::new(event))
        .collect();
    // Live rows are appended only where the newest events are shown.
    let live = running && !failed_only && history_pager.next.is_none();
    let lanes = timeline::rows(events);
    let lanes_first = at
        .lanes
        .min(lanes.len().saturating_sub(1) / PAGE_ROWS * PAGE_ROWS);
    let timeline_pager = Pager::new(lanes.len(), lanes_first, |first| {
        format!("{}#timeline", page_link(history_first, first))
    });
    let from = events.first().map_or(0, |event| event.time);
    let to = if running {
        crate::time::now_ms()
    } else {
        events.last().map_or(from, |event| event.time)
    };
    let timeline = timeline::svg(
        &lanes[lanes_first..(lanes_first + PAGE_ROWS).min(lanes.len())],
        from,
        to,
    );
    let callbacks = callbacks(&console, &session, &flow, &name, events).await?;
    let input = text(execution, "Input");
    let drawn = diagram::execution_graph(&flow, &text(execution, "FlowDefinition"), events);
    let page = ExecutionPage {
        chrome: Chrome::of(&session),
        flow_url: flow_url(&flow),
        step: (!at.step.is_empty()).then(|| {
            let status = drawn
                .as_ref()
                .and_then(|drawn| drawn.statuses.get(&at.step));
            StepDetails::new(&url, events, &at.step, status)
        }),
        graph: drawn.map(|drawn| drawn.svg),
        failed_only,
        history_pager,
        history,
        live,
        last_event: events.last().map_or(0, |event| event.id),
        timeline,
        timeline_pager,
        can_report_succeeded: session.may_on(Action::ReportTaskSucceeded, &flow),
        can_report_failed: session.may_on(Action::ReportTaskFailed, &flow),
        callbacks,
        links: links(&flow, &url, events),
        can_stop: running && session.may_on(Action::StopExecution, &flow),
        can_start: session.may_on(Action::StartExecution, &flow),
        start_url: format!("{}/start{}", flow_url(&flow), query(&[("from", &name)])),
        sdk_start: sdk::start_execution_python(&flow, &name, &input),
        sdk_describe: sdk::describe_execution_python(&flow, &name),
        may_read_history: loaded.may_read_history,
        input: pretty_text(&input),
        output: pretty_text(&text(execution, "Output")),
        error: events::execution_error(events),
        running,
        summary,
        url,
        flow,
    };
    html(&page)
}

/// Tasks waiting for a callback, with the token a report needs (only for a key that may
/// report: the token is what lets a caller answer).
async fn callbacks(
    console: &Console,
    session: &Session,
    flow: &str,
    execution: &str,
    events: &[Event],
) -> Result<Vec<Callback>, ConsoleError> {
    let waiting = events::waiting_tasks(events);
    let may_report = session.may_on(Action::ReportTaskSucceeded, flow)
        || session.may_on(Action::ReportTaskFailed, flow);
    if waiting.is_empty() || !may_report {
        return Ok(Vec::new());
    }
    // The execution's id binds its tokens (the execution was just read through the API
    // with this key, so it is the caller's).
    let store = &console.app.store;
    let account = session.key.account_id();
    let Some(stored_flow) = store
        .get_flow(account, flow)
        .await
        .map_err(ApiError::from)?
    else {
        return Ok(Vec::new());
    };
    let Some(stored) = store
        .get_execution(&stored_flow.id, execution)
        .await
        .map_err(ApiError::from)?
    else {
        return Ok(Vec::new());
    };
    let scope = TokenScope {
        account_id: account,
        flow_name: flow,
        execution_name: execution,
        execution_id: &stored.identity.id,
    };
    Ok(waiting
        .into_iter()
        .map(|task| {
            let token = console
                .app
                .runtime
                .tokens()
                .issue(scope, task.entered_id, task.attempt);
            // Tokens are base64 (ASCII): the last characters tell two tokens apart.
            let tail = &token[token.len().saturating_sub(6)..];
            Callback {
                step: task.step,
                masked: format!("••••••••{tail}"),
                token,
            }
        })
        .collect())
}

fn links(flow: &str, url: &str, events: &[Event]) -> Vec<LinkView> {
    events::links(events)
        .into_iter()
        .map(|link| match link {
            Link::Child {
                step,
                flow: child_flow,
                execution,
            } => LinkView {
                label: format!("Child execution {child_flow} / {execution}"),
                step,
                url: execution_url(&child_flow, &execution),
            },
            Link::MapRun { step, name } => LinkView {
                label: format!("Map run {name}"),
                step,
                url: format!("{url}/map-runs/{}", super::segment(&name)),
            },
        })
        .filter(|link| !link.url.is_empty() && !flow.is_empty())
        .collect()
}

pub async fn stop(
    State(console): State<Console>,
    Path((flow, name)): Path<(String, String)>,
    posted: Posted,
) -> Result<Response, ConsoleError> {
    posted
        .session
        .call(
            &console,
            Action::StopExecution,
            &[
                ("FlowName", &flow),
                ("ExecutionName", &name),
                ("Error", posted.form.text("error")),
                ("Cause", posted.form.text("cause")),
            ],
        )
        .await?;
    Ok(see_other(&execution_url(&flow, &name)))
}

/// ReportTaskSucceeded / ReportTaskFailed with the token the page showed.
pub async fn report(
    State(console): State<Console>,
    Path((flow, name)): Path<(String, String)>,
    posted: Posted,
) -> Result<Response, ConsoleError> {
    let form = &posted.form;
    let token = form.text("token");
    if form.text("outcome") == "failed" {
        posted
            .session
            .call(
                &console,
                Action::ReportTaskFailed,
                &[
                    ("TaskToken", token),
                    ("Error", form.text("error")),
                    ("Cause", form.text("cause")),
                ],
            )
            .await?;
    } else {
        posted
            .session
            .call(
                &console,
                Action::ReportTaskSucceeded,
                &[("TaskToken", token), ("Output", form.text("output"))],
            )
            .await?;
    }
    Ok(see_other(&execution_url(&flow, &name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagers_link_the_neighbouring_pages() {
        let pager = Pager::new(250, 100, |first| format!("?rows={first}"));
        assert_eq!(pager.label, "101–200 of 250");
        assert_eq!(pager.previous.as_deref(), Some("?rows=0"));
        assert_eq!(pager.next.as_deref(), Some("?rows=200"));
        let last = Pager::new(250, 200, |first| format!("?rows={first}"));
        assert_eq!((last.label.as_str(), last.next), ("201–250 of 250", None));
        assert_eq!(Pager::new(0, 0, |_| String::new()).label, "");
    }
}
