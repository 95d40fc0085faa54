//! A flow's schedules: create, enable/disable, edit, delete, and their next fire times.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use super::flow::FlowHeader;
use super::{Chrome, Time, error_text, html_with_error, refuses_page, see_other, text};
use crate::api::Action;
use crate::console::Console;
use crate::console::error::ConsoleError;
use crate::console::model::fires::next_fires;
use crate::console::session::{Posted, Session};
use crate::error::ApiError;
use crate::time::{format_ms, now_ms};

/// Fire times shown per schedule.
const FIRES_SHOWN: usize = 3;

pub struct ScheduleRow {
    pub name: String,
    pub description: String,
    pub cron: String,
    pub payload: String,
    pub enabled: bool,
    pub next: Vec<Time>,
}

#[derive(Template)]
#[template(path = "schedules.html")]
struct SchedulesPage {
    chrome: Chrome,
    flow: FlowHeader,
    schedules: Vec<ScheduleRow>,
    error: Option<String>,
    can_create: bool,
    can_update: bool,
    can_delete: bool,
}

async fn render(
    console: &Console,
    session: &Session,
    flow: &str,
    error: Option<&ApiError>,
) -> Result<Response, ConsoleError> {
    let header = FlowHeader::load(console, session, flow, "schedules").await?;
    let listed = session
        .call(
            console,
            Action::ListSchedules,
            &[("FlowName", flow), ("Limit", "100")],
        )
        .await?;
    let now = now_ms();
    let schedules = listed["Schedules"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|schedule| {
            let enabled = schedule["Enable"].as_bool().unwrap_or(false);
            let cron = text(schedule, "CronExpression");
            let effective = Time::of(&text(schedule, "LastModifiedTime"))
                .ms()
                .unwrap_or(now);
            ScheduleRow {
                name: text(schedule, "ScheduleName"),
                description: text(schedule, "Description"),
                payload: text(schedule, "Payload"),
                next: if enabled {
                    next_fires(&cron, effective, now, FIRES_SHOWN)
                        .into_iter()
                        .map(|fire| Time::of(&format_ms(fire)))
                        .collect()
                } else {
                    Vec::new()
                },
                enabled,
                cron,
            }
        })
        .collect();
    let page = SchedulesPage {
        chrome: Chrome::of(session),
        can_create: session.may_on(Action::CreateSchedule, flow),
        can_update: session.may_on(Action::UpdateSchedule, flow),
        can_delete: session.may_on(Action::DeleteSchedule, flow),
        flow: header,
        schedules,
        error: error.map(error_text),
    };
    html_with_error(&page, error)
}

pub async fn page(
    State(console): State<Console>,
    session: Session,
    Path(flow): Path<String>,
) -> Result<Response, ConsoleError> {
    render(&console, &session, &flow, None).await
}

pub async fn change(
    State(console): State<Console>,
    Path(flow): Path<String>,
    posted: Posted,
) -> Result<Response, ConsoleError> {
    let (session, form) = (&posted.session, &posted.form);
    let flow_name = flow.as_str();
    let name = form.text("name").trim();
    let result = match form.text("op") {
        op @ ("create" | "update") => {
            let action = if op == "create" {
                Action::CreateSchedule
            } else {
                Action::UpdateSchedule
            };
            let enable = if form.get("enable").is_some() {
                "true"
            } else {
                "false"
            };
            session
                .call(
                    &console,
                    action,
                    &[
                        ("FlowName", flow_name),
                        ("ScheduleName", name),
                        ("CronExpression", form.text("cron").trim()),
                        ("Payload", form.text("payload")),
                        ("Description", form.text("description")),
                        ("Enable", enable),
                    ],
                )
                .await
        }
        op @ ("enable" | "disable") => {
            session
                .call(
                    &console,
                    Action::UpdateSchedule,
                    &[
                        ("FlowName", flow_name),
                        ("ScheduleName", name),
                        ("Enable", if op == "enable" { "true" } else { "false" }),
                    ],
                )
                .await
        }
        "delete" => {
            session
                .call(
                    &console,
                    Action::DeleteSchedule,
                    &[("FlowName", flow_name), ("ScheduleName", name)],
                )
                .await
        }
        other => Err(ApiError::invalid_argument(
            "op",
            format!("names no change: '{}'", crate::names::shorten(other)),
        )),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("{}/schedules", super::flow_url(&flow)))),
        Err(error) if refuses_page(&error) => Err(error.into()),
        Err(error) => render(&console, session, &flow, Some(&error)).await,
    }
}
