//! The engine's history events become the store's rows here, as they are written.

use crate::engine::history;
use crate::store::HistoryEvent;

impl From<history::Event> for HistoryEvent {
    fn from(event: history::Event) -> Self {
        HistoryEvent {
            event_id: event.event_id,
            event_type: event.event_type.as_str().to_string(),
            step_name: event.step_name,
            time: event.time,
            schedule_event_id: event.schedule_event_id,
            detail: event.detail.to_string(),
        }
    }
}

/// The rows of an advance's events, in order.
pub(super) fn history_rows(events: Vec<history::Event>) -> Vec<HistoryEvent> {
    events.into_iter().map(HistoryEvent::from).collect()
}
