//! Creating and updating a flow from the definition editor. Errors are CreateFlow's and
//! UpdateFlow's own, shown next to the line of the definition they name.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use super::{Chrome, error_text, flow_url, html, html_with_error, refuses_page, see_other, text};
use crate::api::Action;
use crate::console::Console;
use crate::console::error::ConsoleError;
use crate::console::model::lines::error_line;
use crate::console::session::{Form, Posted, Session};
use crate::error::{ApiError, ErrorCode};

/// A definition to start from.
const EXAMPLE: &str = "Type: StateMachine\nName: my-flow\nSpecVersion: v1\nStartAt: Hello\nStates:\n  - Type: Pass\n    Name: Hello\n    End: true\n";

/// One line of the definition, with the error that names it.
pub struct Line {
    pub number: usize,
    pub text: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "editor.html")]
struct EditorPage {
    chrome: Chrome,
    /// `None` when creating.
    existing: Option<String>,
    name: String,
    description: String,
    flow_type: String,
    mode: String,
    definition: String,
    error: Option<String>,
    /// The definition's lines, when an error names one of them.
    lines: Vec<Line>,
    action: String,
}

impl EditorPage {
    fn with_error(mut self, error: &ApiError) -> EditorPage {
        let message = error_text(error);
        let line = (error.code == ErrorCode::InvalidArgument
            && error.message.contains("Definition"))
        .then(|| error_line(&self.definition, &error.message))
        .flatten();
        if let Some(line) = line {
            self.lines = self
                .definition
                .lines()
                .enumerate()
                .map(|(index, text)| Line {
                    number: index + 1,
                    text: text.to_string(),
                    error: (index + 1 == line).then(|| message.clone()),
                })
                .collect();
        }
        self.error = Some(message);
        self
    }
}

pub async fn new_flow(session: Session) -> Result<Response, ConsoleError> {
    html(&EditorPage {
        chrome: Chrome::of(&session),
        existing: None,
        name: String::new(),
        description: String::new(),
        flow_type: "FDL".into(),
        mode: "Standard".into(),
        definition: EXAMPLE.into(),
        error: None,
        lines: Vec::new(),
        action: "/console/flows".into(),
    })
}

fn from_form(session: &Session, form: &Form, existing: Option<String>) -> EditorPage {
    let name = existing
        .clone()
        .unwrap_or_else(|| form.text("name").trim().to_string());
    EditorPage {
        chrome: Chrome::of(session),
        action: match &existing {
            Some(name) => format!("{}/edit", flow_url(name)),
            None => "/console/flows".into(),
        },
        existing,
        name,
        description: form.text("description").to_string(),
        flow_type: form.text("type").to_string(),
        mode: form.text("mode").to_string(),
        definition: form.text("definition").to_string(),
        error: None,
        lines: Vec::new(),
    }
}

pub async fn create(
    State(console): State<Console>,
    posted: Posted,
) -> Result<Response, ConsoleError> {
    let page = from_form(&posted.session, &posted.form, None);
    let created = posted
        .session
        .call(
            &console,
            Action::CreateFlow,
            &[
                ("Name", &page.name),
                ("Description", &page.description),
                ("Type", &page.flow_type),
                ("ExecutionMode", &page.mode),
                ("Definition", &page.definition),
            ],
        )
        .await;
    finish(page, created)
}

pub async fn edit(
    State(console): State<Console>,
    session: Session,
    Path(flow): Path<String>,
) -> Result<Response, ConsoleError> {
    let answer = session
        .call(&console, Action::DescribeFlow, &[("Name", &flow)])
        .await?;
    html(&EditorPage {
        chrome: Chrome::of(&session),
        action: format!("{}/edit", flow_url(&flow)),
        existing: Some(flow.clone()),
        name: flow,
        description: text(&answer, "Description"),
        flow_type: text(&answer, "Type"),
        mode: text(&answer, "ExecutionMode"),
        definition: text(&answer, "Definition"),
        error: None,
        lines: Vec::new(),
    })
}

pub async fn update(
    State(console): State<Console>,
    Path(flow): Path<String>,
    posted: Posted,
) -> Result<Response, ConsoleError> {
    let page = from_form(&posted.session, &posted.form, Some(flow.clone()));
    let updated = posted
        .session
        .call_keeping(
            &console,
            Action::UpdateFlow,
            &[
                ("Name", &flow),
                ("Description", &page.description),
                ("Type", &page.flow_type),
                ("Definition", &page.definition),
            ],
            &["Description"],
        )
        .await;
    finish(page, updated)
}

/// To the flow's page, or the editor again with the error (and the API's status).
fn finish(
    page: EditorPage,
    result: Result<serde_json::Value, ApiError>,
) -> Result<Response, ConsoleError> {
    match result {
        Ok(_) => Ok(see_other(&format!("{}/definition", flow_url(&page.name)))),
        Err(error) if refuses_page(&error) => Err(error.into()),
        Err(error) => {
            let page = page.with_error(&error);
            html_with_error(&page, Some(&error))
        }
    }
}
