//! Starting an execution from a form, prefilled from a previous execution's input.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::{
    Chrome, error_text, execution_url, flow_url, html, html_with_error, refuses_page, see_other,
    text,
};
use crate::api::Action;
use crate::console::Console;
use crate::console::error::ConsoleError;
use crate::console::model::events::pretty_text;
use crate::console::session::{Posted, Session};

#[derive(Template)]
#[template(path = "start.html")]
struct StartPage {
    chrome: Chrome,
    flow: String,
    flow_url: String,
    name: String,
    input: String,
    qualifier: String,
    from: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct StartQuery {
    /// The execution whose input fills the form.
    #[serde(default)]
    from: String,
}

pub async fn form(
    State(console): State<Console>,
    session: Session,
    Path(flow): Path<String>,
    Query(start): Query<StartQuery>,
) -> Result<Response, ConsoleError> {
    // The flow must exist (and be the caller's) before a form is offered.
    session
        .call(&console, Action::DescribeFlow, &[("Name", &flow)])
        .await?;
    let input = if start.from.is_empty() {
        "{}".to_string()
    } else {
        let previous = session
            .call(
                &console,
                Action::DescribeExecution,
                &[("FlowName", &flow), ("ExecutionName", &start.from)],
            )
            .await?;
        match text(&previous, "Input") {
            input if input.is_empty() => "{}".to_string(),
            input => pretty_text(&input),
        }
    };
    html(&StartPage {
        chrome: Chrome::of(&session),
        flow_url: flow_url(&flow),
        flow,
        name: String::new(),
        input,
        qualifier: String::new(),
        from: start.from,
        error: None,
    })
}

pub async fn submit(
    State(console): State<Console>,
    Path(flow): Path<String>,
    posted: Posted,
) -> Result<Response, ConsoleError> {
    let form = &posted.form;
    let (name, input, qualifier) = (
        form.text("name").trim(),
        form.text("input"),
        form.text("qualifier").trim(),
    );
    let started = posted
        .session
        .call(
            &console,
            Action::StartExecution,
            &[
                ("FlowName", &flow),
                ("ExecutionName", name),
                ("Input", input),
                ("Qualifier", qualifier),
            ],
        )
        .await;
    match started {
        Ok(execution) => Ok(see_other(&execution_url(&flow, &text(&execution, "Name")))),
        Err(error) if refuses_page(&error) => Err(error.into()),
        Err(error) => {
            let page = StartPage {
                chrome: Chrome::of(&posted.session),
                flow_url: flow_url(&flow),
                flow,
                name: name.to_string(),
                input: input.to_string(),
                qualifier: qualifier.to_string(),
                from: String::new(),
                error: Some(error_text(&error)),
            };
            html_with_error(&page, Some(&error))
        }
    }
}
