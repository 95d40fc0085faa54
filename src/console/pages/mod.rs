//! The console's pages. Each handler reads like the page it serves: the API actions it
//! runs (as the signed-in key), then the page model, then the template.

pub mod editor;
pub mod execution;
pub mod flow;
pub mod flows;
pub mod map_run;
pub mod schedules;
pub mod start;
pub mod step;
pub mod versions;

use askama::Template;
use axum::response::{Html, IntoResponse, Redirect, Response};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use super::error::ConsoleError;
use super::session::Session;
use crate::api::Action;
use crate::error::ApiError;
use crate::time::parse_rfc3339_ms;

/// What every signed-in page shows around its content.
pub struct Chrome {
    pub access_key_id: String,
    pub account_id: String,
    pub csrf: String,
    /// The key may call no write action at all.
    pub read_only: bool,
}

/// The actions that change something; a key allowed none of them gets a read-only console.
const WRITE_ACTIONS: [Action; 16] = [
    Action::CreateFlow,
    Action::UpdateFlow,
    Action::DeleteFlow,
    Action::StartExecution,
    Action::StopExecution,
    Action::ReportTaskSucceeded,
    Action::ReportTaskFailed,
    Action::CreateSchedule,
    Action::UpdateSchedule,
    Action::DeleteSchedule,
    Action::PublishFlowVersion,
    Action::DeleteFlowVersion,
    Action::CreateFlowAlias,
    Action::UpdateFlowAlias,
    Action::DeleteFlowAlias,
    Action::UpdateMapRun,
];

impl Chrome {
    pub fn of(session: &Session) -> Chrome {
        Chrome {
            access_key_id: session.key.access_key_id().to_string(),
            account_id: session.key.account_id().to_string(),
            csrf: session.csrf.clone(),
            read_only: !WRITE_ACTIONS.iter().any(|action| session.may(*action)),
        }
    }
}

/// A rendered page.
pub fn html(page: &impl Template) -> Result<Response, ConsoleError> {
    Ok(Html(page.render()?).into_response())
}

/// A page showing the error a write got, answered with that error's status (200 without).
pub fn html_with_error(
    page: &impl Template,
    error: Option<&ApiError>,
) -> Result<Response, ConsoleError> {
    let status = error.map_or(axum::http::StatusCode::OK, |error| error.code.status());
    Ok((status, html(page)?).into_response())
}

/// How a page shows an API error next to the form that caused it.
pub fn error_text(error: &ApiError) -> String {
    format!("{}: {}", error.code.as_str(), error.message)
}

/// Whether a write's error replaces the page (the key may not do that at all) rather than
/// being shown next to its form.
pub fn refuses_page(error: &ApiError) -> bool {
    error.code == crate::error::ErrorCode::AccessDenied
}

/// After a write: to the page that shows its result (303, so reload does not repeat it).
pub fn see_other(url: &str) -> Response {
    Redirect::to(url).into_response()
}

/// Characters left as they are in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

pub fn segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

pub fn flow_url(flow: &str) -> String {
    format!("/console/flows/{}", segment(flow))
}

pub fn execution_url(flow: &str, execution: &str) -> String {
    format!(
        "/console/flows/{}/executions/{}",
        segment(flow),
        segment(execution)
    )
}

/// A query string from pairs, leaving out empty values.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let encoded: Vec<String> = pairs
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{name}={}", super::error::encode(value)))
        .collect();
    if encoded.is_empty() {
        String::new()
    } else {
        format!("?{}", encoded.join("&"))
    }
}

/// A time as the API writes it, for `<time>` elements: the script shows it in the viewer's
/// zone and keeps UTC on hover.
#[derive(Debug, Clone, Default)]
pub struct Time {
    /// RFC 3339, UTC; empty when there is none.
    pub utc: String,
}

impl Time {
    pub fn of(text: &str) -> Time {
        let utc = match parse_rfc3339_ms(text) {
            Some(ms) if ms > 0 => text.to_string(),
            _ => String::new(),
        };
        Time { utc }
    }

    pub fn ms(&self) -> Option<i64> {
        parse_rfc3339_ms(&self.utc)
    }
}

/// A string member of an API answer.
pub fn text(value: &Value, name: &str) -> String {
    match &value[name] {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_encode_names_and_skip_empty_filters() {
        assert_eq!(
            execution_url("a b", "x/y"),
            "/console/flows/a%20b/executions/x%2Fy"
        );
        assert_eq!(
            query(&[("status", "Failed"), ("prefix", ""), ("q", "a&b")]),
            "?status=Failed&q=a%26b"
        );
        assert_eq!(query(&[("prefix", "")]), "");
        assert_eq!(
            Time::of("1970-01-01T00:00:00Z").utc,
            "",
            "the API's not-stopped time is no time"
        );
        assert_eq!(
            Time::of("2024-05-01T12:00:00Z").ms(),
            Some(1_714_564_800_000)
        );
    }
}
