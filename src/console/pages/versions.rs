//! A flow's published versions and its aliases (publish, route weights, delete).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::flow::FlowHeader;
use super::{Chrome, Time, error_text, html_with_error, refuses_page, see_other, text};
use crate::api::Action;
use crate::console::Console;
use crate::console::error::ConsoleError;
use crate::console::session::{Posted, Session};
use crate::error::ApiError;

pub struct VersionRow {
    pub version: String,
    pub description: String,
    pub created: Time,
}

pub struct AliasRow {
    pub name: String,
    pub description: String,
    /// `2: 80 %, 1: 20 %`
    pub routing: String,
    pub first: (String, String),
    pub second: (String, String),
}

#[derive(Template)]
#[template(path = "versions.html")]
struct VersionsPage {
    chrome: Chrome,
    flow: FlowHeader,
    versions: Vec<VersionRow>,
    aliases: Vec<AliasRow>,
    error: Option<String>,
    can_publish: bool,
    can_delete_version: bool,
    can_create_alias: bool,
    can_update_alias: bool,
    can_delete_alias: bool,
}

async fn render(
    console: &Console,
    session: &Session,
    flow: &str,
    error: Option<&ApiError>,
) -> Result<Response, ConsoleError> {
    let header = FlowHeader::load(console, session, flow, "versions").await?;
    let listed = session
        .call(
            console,
            Action::ListFlowVersions,
            &[("FlowName", flow), ("Limit", "100")],
        )
        .await?;
    let versions = listed["FlowVersions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|version| VersionRow {
            version: text(version, "Version"),
            description: text(version, "Description"),
            created: Time::of(&text(version, "CreatedTime")),
        })
        .collect();
    let listed = session
        .call(
            console,
            Action::ListFlowAliases,
            &[("FlowName", flow), ("Limit", "100")],
        )
        .await?;
    let aliases = listed["Aliases"]
        .as_array()
        .into_iter()
        .flatten()
        .map(alias_row)
        .collect();
    let page = VersionsPage {
        chrome: Chrome::of(session),
        can_publish: session.may_on(Action::PublishFlowVersion, flow),
        can_delete_version: session.may_on(Action::DeleteFlowVersion, flow),
        can_create_alias: session.may_on(Action::CreateFlowAlias, flow),
        can_update_alias: session.may_on(Action::UpdateFlowAlias, flow),
        can_delete_alias: session.may_on(Action::DeleteFlowAlias, flow),
        flow: header,
        versions,
        aliases,
        error: error.map(error_text),
    };
    html_with_error(&page, error)
}

fn alias_row(alias: &Value) -> AliasRow {
    let routes: Vec<(String, String)> = alias["RoutingConfigurations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|route| (text(route, "Version"), text(route, "Weight")))
        .collect();
    let route = |index: usize| routes.get(index).cloned().unwrap_or_default();
    AliasRow {
        name: text(alias, "Name"),
        description: text(alias, "Description"),
        routing: routes
            .iter()
            .map(|(version, weight)| format!("version {version}: {weight} %"))
            .collect::<Vec<_>>()
            .join(", "),
        first: route(0),
        second: route(1),
    }
}

pub async fn page(
    State(console): State<Console>,
    session: Session,
    Path(flow): Path<String>,
) -> Result<Response, ConsoleError> {
    render(&console, &session, &flow, None).await
}

/// `[{"Version": "2", "Weight": 80}, …]` from the form's one or two routes.
fn routing(form: &crate::console::session::Form) -> String {
    let mut routes = Vec::new();
    for (version, weight) in [("version1", "weight1"), ("version2", "weight2")] {
        let version = form.text(version).trim();
        if version.is_empty() {
            continue;
        }
        let weight = form.text(weight).trim();
        let weight: Value = weight
            .parse::<i64>()
            .map_or_else(|_| Value::from(weight), Value::from);
        routes.push(json!({"Version": version, "Weight": weight}));
    }
    Value::from(routes).to_string()
}

pub async fn change(
    State(console): State<Console>,
    Path(flow): Path<String>,
    posted: Posted,
) -> Result<Response, ConsoleError> {
    let (session, form) = (&posted.session, &posted.form);
    let routes = routing(form);
    let flow_name = flow.as_str();
    let result = match form.text("op") {
        "publish" => {
            session
                .call(
                    &console,
                    Action::PublishFlowVersion,
                    &[
                        ("FlowName", flow_name),
                        ("Description", form.text("description")),
                    ],
                )
                .await
        }
        "delete-version" => {
            session
                .call(
                    &console,
                    Action::DeleteFlowVersion,
                    &[
                        ("FlowName", flow_name),
                        ("FlowVersion", form.text("version")),
                    ],
                )
                .await
        }
        op @ ("create-alias" | "update-alias") => {
            let action = if op == "create-alias" {
                Action::CreateFlowAlias
            } else {
                Action::UpdateFlowAlias
            };
            session
                .call(
                    &console,
                    action,
                    &[
                        ("FlowName", flow_name),
                        ("Name", form.text("name")),
                        ("Description", form.text("description")),
                        ("RoutingConfigurations", &routes),
                    ],
                )
                .await
        }
        "delete-alias" => {
            session
                .call(
                    &console,
                    Action::DeleteFlowAlias,
                    &[("FlowName", flow_name), ("Name", form.text("name"))],
                )
                .await
        }
        other => Err(ApiError::invalid_argument(
            "op",
            format!("names no change: '{}'", crate::names::shorten(other)),
        )),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("{}/versions", super::flow_url(&flow)))),
        Err(error) if refuses_page(&error) => Err(error.into()),
        Err(error) => render(&console, session, &flow, Some(&error)).await,
    }
}
