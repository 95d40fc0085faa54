//! Live updates of an execution page over server-sent events: new history rows, the graph's
//! node statuses, and the execution's end.
//!
//! The page's history is read once through the API (GetExecutionHistory: the key's policy
//! and account decide whether the stream opens); then the stream reads the new history
//! events from the store by their index (execution id, event id) about once a second, and
//! at once when this replica hears that the execution ended. The read is the store's, so a
//! page keeps updating while the execution runs on another replica; nothing runs while no
//! page is open. The session is checked again every half minute: signing out ends streams.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast;

use super::Console;
use super::diagram;
use super::error::ConsoleError;
use super::model::events::{Event, pretty_text};
use super::pages::Time;
use super::pages::execution::HistoryRow;
use super::session::Session;
use crate::api::Action;
use crate::engine::ir::FlowDefinition;
use crate::error::ApiError;
use crate::store::{HistoryEvent, WorkNotice};
use crate::time::{format_ms, now_ms};

/// How often an open page's stream looks for new events.
const POLL: Duration = Duration::from_secs(1);
/// Polls between checks that the session still holds.
const SESSION_CHECK_EVERY: u32 = 30;
/// Events sent in one message at most.
const BATCH: i64 = 200;
/// More events than an execution may have (it fails at its event limit).
const MAX_EVENTS: i64 = 10_000;

#[derive(Deserialize)]
pub struct LiveQuery {
    /// The last event the page has.
    #[serde(default)]
    after: i64,
}

#[derive(Template)]
#[template(path = "history_rows.html")]
struct Rows {
    rows: Vec<HistoryRow>,
}

/// What one stream remembers between polls.
struct Follow {
    console: Console,
    session: Session,
    execution_id: String,
    /// The definition the execution runs, to colour the graph's nodes.
    definition: Option<FlowDefinition>,
    /// Every event so far (the statuses are computed over all of them).
    events: Vec<Event>,
    next_event: i64,
    notices: broadcast::Receiver<WorkNotice>,
    polls: u32,
    done: bool,
}

pub async fn stream(
    State(console): State<Console>,
    session: Session,
    Path((flow, name)): Path<(String, String)>,
    Query(live): Query<LiveQuery>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ConsoleError> {
    // The stream shows history: the key must be allowed to read it.
    session
        .call(
            &console,
            Action::GetExecutionHistory,
            &[
                ("FlowName", &flow),
                ("ExecutionName", &name),
                ("Limit", "1"),
            ],
        )
        .await?;
    let store = &console.app.store;
    let account = session.key.account_id();
    let stored_flow = store
        .get_flow(account, &flow)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| ApiError::flow_not_exists(&flow))?;
    let execution = store
        .get_execution(&stored_flow.id, &name)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| ApiError::execution_not_exists(&name, &flow))?;
    // A reconnecting EventSource says where it stopped.
    let resumed = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok());
    let after = resumed.unwrap_or(live.after).clamp(0, MAX_EVENTS);
    let known = store
        .list_history(&execution.identity.id, 1, after)
        .await
        .map_err(ApiError::from)?;
    let follow = Follow {
        notices: store.subscribe(),
        console: console.clone(),
        session,
        definition: diagram::parse(&flow, &execution.definition, false),
        events: known.iter().map(from_store).collect(),
        execution_id: execution.identity.id,
        next_event: after + 1,
        polls: 0,
        done: false,
    };
    let events = futures_util::stream::unfold(follow, |mut follow| async move {
        let message = follow.next_message().await?;
        Some((Ok(message), follow))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

impl Follow {
    /// The next message, waiting for new events; `None` ends the stream.
    async fn next_message(&mut self) -> Option<SseEvent> {
        loop {
            if self.done {
                return None;
            }
            let store = &self.console.app.store;
            let new = match store
                .list_history(&self.execution_id, self.next_event, BATCH)
                .await
            {
                Ok(new) => new,
                Err(error) => {
                    tracing::warn!(error = %crate::error::error_chain(&error), "a live console stream cannot read the history");
                    Vec::new()
                }
            };
            if let Some(last) = new.last() {
                self.next_event = last.event_id + 1;
                return Some(self.message(&new).await);
            }
            self.wait().await;
            self.polls += 1;
            if self.polls.is_multiple_of(SESSION_CHECK_EVERY) && !self.session_holds().await {
                return None;
            }
        }
    }

    async fn wait(&mut self) {
        let sleep = tokio::time::sleep(POLL);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => return,
                notice = self.notices.recv() => match notice {
                    Ok(WorkNotice::Ended(id)) if id == self.execution_id => return,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => {
                        (&mut sleep).await;
                        return;
                    }
                },
            }
        }
    }

    async fn session_holds(&self) -> bool {
        let store = &self.console.app.store;
        match store.get_session(&self.session.token_hash).await {
            Ok(Some(stored)) => self.console.rules.is_live(&stored, now_ms()),
            Ok(None) => false,
            // The store is briefly away: keep the page; the next check decides.
            Err(_) => true,
        }
    }

    /// New history rows, and the execution's end when they contain it.
    async fn message(&mut self, new: &[HistoryEvent]) -> SseEvent {
        let events: Vec<Event> = new.iter().map(from_store).collect();
        let rows = Rows {
            rows: events.iter().map(HistoryRow::new).collect(),
        }
        .render()
        .unwrap_or_default();
        let last = self.next_event - 1;
        let ended = events
            .iter()
            .any(|event| event.kind.starts_with("Execution") && event.kind != "ExecutionStarted");
        self.events.extend(events);
        let statuses = self
            .definition
            .as_ref()
            .map(|definition| diagram::node_statuses(definition, &self.events));
        let mut payload = json!({ "last": last, "rows": rows, "statuses": statuses });
        if ended {
            self.done = true;
            if let Ok(Some(execution)) = self
                .console
                .app
                .store
                .get_execution_by_id(&self.execution_id)
                .await
            {
                payload["execution"] = json!({
                    "status": execution.status.as_str(),
                    "output": pretty_text(&execution.output),
                    "stopped": execution.stopped_at.map(format_ms).unwrap_or_default(),
                    "error": execution.error.unwrap_or_default(),
                    "cause": execution.cause.unwrap_or_default(),
                });
            }
        }
        SseEvent::default()
            .event("history")
            .id(last.to_string())
            .data(payload.to_string())
    }
}

/// A stored event as the pages show it (the API's view of it: UTC time text).
fn from_store(event: &HistoryEvent) -> Event {
    let time_text = format_ms(event.time);
    Event {
        id: event.event_id,
        kind: event.event_type.clone(),
        step: event.step_name.clone(),
        time: Time::of(&time_text).ms().unwrap_or(event.time),
        time_text,
        schedule_id: event.schedule_event_id,
        detail: crate::engine::json::parse_document(&event.detail).unwrap_or_default(),
        raw_detail: event.detail.clone(),
    }
}
