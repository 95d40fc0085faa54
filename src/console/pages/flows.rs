//! The flows of the account: search by name prefix, paging.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::{Chrome, Time, flow_url, html, query, see_other, text};
use crate::api::Action;
use crate::console::Console;
use crate::console::error::ConsoleError;
use crate::console::session::Session;

const PAGE_SIZE: &str = "50";

pub async fn home(_session: Session) -> Response {
    see_other("/console/flows")
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    prefix: String,
    /// The first name of the page (ListFlows' `NextToken`).
    #[serde(default)]
    from: String,
}

pub struct FlowRow {
    pub name: String,
    pub url: String,
    pub description: String,
    pub mode: String,
    pub modified: Time,
}

#[derive(Template)]
#[template(path = "flows.html")]
struct FlowsPage {
    chrome: Chrome,
    prefix: String,
    flows: Vec<FlowRow>,
    next_url: Option<String>,
    first_url: Option<String>,
    can_create: bool,
    may_list: bool,
}

pub async fn list(
    State(console): State<Console>,
    session: Session,
    Query(list): Query<ListQuery>,
) -> Result<Response, ConsoleError> {
    // ListFlows pages by name from `NextToken`: a prefix search starts at the prefix and
    // ends at the first name that no longer has it.
    let start = if list.from.is_empty() {
        &list.prefix
    } else {
        &list.from
    };
    let answer = session
        .call_if_allowed(
            &console,
            Action::ListFlows,
            &[("Limit", PAGE_SIZE), ("NextToken", start)],
        )
        .await?;
    let may_list = answer.is_some();
    let answer = answer.unwrap_or_default();
    let mut flows = Vec::new();
    let mut past_prefix = false;
    for flow in answer["Flows"].as_array().into_iter().flatten() {
        let name = text(flow, "Name");
        if !name.starts_with(&list.prefix) {
            past_prefix = true;
            break;
        }
        flows.push(FlowRow {
            url: flow_url(&name),
            description: text(flow, "Description"),
            mode: text(flow, "ExecutionMode"),
            modified: Time::of(&text(flow, "LastModifiedTime")),
            name,
        });
    }
    let next = text(&answer, "NextToken");
    let next_url =
        (!past_prefix && !next.is_empty() && next.starts_with(&list.prefix)).then(|| {
            format!(
                "/console/flows{}",
                query(&[("prefix", &list.prefix), ("from", &next)])
            )
        });
    let page = FlowsPage {
        chrome: Chrome::of(&session),
        first_url: (!list.from.is_empty())
            .then(|| format!("/console/flows{}", query(&[("prefix", &list.prefix)]))),
        prefix: list.prefix,
        flows,
        next_url,
        can_create: session.may(Action::CreateFlow),
        may_list,
    };
    html(&page)
}

#[derive(Deserialize)]
pub struct OpenQuery {
    #[serde(default)]
    flow: String,
}

/// A flow by name, for keys that may describe flows but not list them.
pub async fn open(_session: Session, Query(open): Query<OpenQuery>) -> Response {
    see_other(&flow_url(open.flow.trim()))
}
