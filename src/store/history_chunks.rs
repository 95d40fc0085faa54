//! History is stored in chunks: the events one transaction writes for one execution make one
//! row (`history_chunks`), a JSON array keyed by the first and last event id it holds.
//!
//! A 3-step flow that ends inside its start writes eight events; as eight rows they were eight
//! of the ten rows a StartExecution inserted (each a heap tuple, an index entry and their WAL).
//! Events are only ever appended and read in order, so nothing is lost by keeping them packed:
//! a read starts at the chunk that holds its first event and unpacks from there.

use serde::{Deserialize, Serialize};

use super::{HistoryEvent, StoreError, StoreResult};

/// One row of `history_chunks`, ready to insert.
pub(super) struct HistoryChunk<'a> {
    pub execution_id: &'a str,
    pub first_event_id: i64,
    pub last_event_id: i64,
    /// JSON array of `PackedEvent`.
    pub events: String,
}

/// An event inside a chunk. The short keys are part of the stored format (migration 0012
/// writes the same ones from the rows it converts).
#[derive(Serialize, Deserialize)]
struct PackedEvent<'a> {
    id: i64,
    #[serde(borrow, rename = "type")]
    event_type: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    step: std::borrow::Cow<'a, str>,
    time: i64,
    schedule: i64,
    #[serde(borrow)]
    detail: std::borrow::Cow<'a, str>,
}

/// Events per chunk at most, so that a page read from the middle of a long run (a Map that
/// wrote hundreds of events in one commit) unpacks little more than the page.
const MAX_EVENTS_PER_CHUNK: usize = 64;

/// Groups events into chunks: a run of events of one execution with consecutive ids, in the
/// order given, is one chunk (up to `MAX_EVENTS_PER_CHUNK`).
pub(super) fn pack<'a>(events: &[(&'a str, &HistoryEvent)]) -> Vec<HistoryChunk<'a>> {
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < events.len() {
        let (execution_id, first) = events[start];
        let mut end = start + 1;
        while end < events.len()
            && end - start < MAX_EVENTS_PER_CHUNK
            && events[end].0 == execution_id
            && events[end].1.event_id == events[end - 1].1.event_id + 1
        {
            end += 1;
        }
        let packed: Vec<PackedEvent> = events[start..end]
            .iter()
            .map(|(_, event)| PackedEvent {
                id: event.event_id,
                event_type: event.event_type.as_str().into(),
                step: event.step_name.as_str().into(),
                time: event.time,
                schedule: event.schedule_event_id,
                detail: event.detail.as_str().into(),
            })
            .collect();
        chunks.push(HistoryChunk {
            execution_id,
            first_event_id: first.event_id,
            last_event_id: events[end - 1].1.event_id,
            events: serde_json::to_string(&packed).expect("history events serialize"),
        });
        start = end;
    }
    chunks
}

/// Unpacks chunks read in order into at most `limit` events whose id is `from_event_id` or
/// later.
pub(super) fn unpack<I>(chunks: I, from_event_id: i64, limit: i64) -> StoreResult<Vec<HistoryEvent>>
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let limit = usize::try_from(limit).unwrap_or(0);
    let mut events = Vec::new();
    for chunk in chunks {
        let packed: Vec<PackedEvent> = serde_json::from_str(chunk.as_ref())
            .map_err(|e| StoreError::internal(format!("unreadable history chunk: {e}")))?;
        for event in packed {
            if events.len() == limit {
                return Ok(events);
            }
            if event.id < from_event_id {
                continue;
            }
            events.push(HistoryEvent {
                event_id: event.id,
                event_type: event.event_type.into_owned(),
                step_name: event.step.into_owned(),
                time: event.time,
                schedule_event_id: event.schedule,
                detail: event.detail.into_owned(),
            });
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: i64, detail: &str) -> HistoryEvent {
        HistoryEvent {
            event_id: id,
            event_type: "StepEntered".into(),
            step_name: format!("s{id}"),
            time: 1_000 + id,
            schedule_event_id: id - 1,
            detail: detail.into(),
        }
    }

    #[test]
    fn runs_of_one_execution_with_consecutive_ids_share_a_chunk() {
        let (e1, e2, e3, e5) = (
            event(1, "{}"),
            event(2, "{}"),
            event(3, "{}"),
            event(5, "{}"),
        );
        let other = event(1, "{}");
        let chunks = pack(&[
            ("a", &e1),
            ("a", &e2),
            ("b", &other),
            ("a", &e3),
            ("a", &e5),
        ]);
        let shape: Vec<(&str, i64, i64)> = chunks
            .iter()
            .map(|c| (c.execution_id, c.first_event_id, c.last_event_id))
            .collect();
        assert_eq!(shape, [("a", 1, 2), ("b", 1, 1), ("a", 3, 3), ("a", 5, 5)]);
    }

    #[test]
    fn long_runs_are_split() {
        let written: Vec<HistoryEvent> = (1..=150).map(|id| event(id, "{}")).collect();
        let pairs: Vec<(&str, &HistoryEvent)> = written.iter().map(|e| ("x", e)).collect();
        let chunks = pack(&pairs);
        let ranges: Vec<(i64, i64)> = chunks
            .iter()
            .map(|c| (c.first_event_id, c.last_event_id))
            .collect();
        assert_eq!(ranges, [(1, 64), (65, 128), (129, 150)]);
        let stored: Vec<String> = chunks.into_iter().map(|c| c.events).collect();
        assert_eq!(unpack(&stored, 1, 1000).unwrap(), written);
    }

    #[test]
    fn unpacking_returns_what_was_packed_from_the_first_asked_id() {
        let written: Vec<HistoryEvent> = (1..=6)
            .map(|id| event(id, r#"{"input":"quote \" and \\ and \u00e9"}"#))
            .collect();
        let pairs: Vec<(&str, &HistoryEvent)> = written.iter().map(|e| ("x", e)).collect();
        let mut chunks: Vec<String> = pack(&pairs[..4]).into_iter().map(|c| c.events).collect();
        chunks.extend(pack(&pairs[4..]).into_iter().map(|c| c.events));
        assert_eq!(chunks.len(), 2);
        assert_eq!(unpack(&chunks, 0, i64::MAX).unwrap(), written);
        assert_eq!(unpack(&chunks, 3, 2).unwrap(), written[2..4]);
        assert_eq!(unpack(&chunks, 5, 10).unwrap(), written[4..]);
        assert!(unpack(&chunks, 7, 10).unwrap().is_empty());
        assert!(unpack(&chunks, 1, 0).unwrap().is_empty());
    }

    #[test]
    fn an_unreadable_chunk_is_an_error_not_a_panic() {
        assert!(unpack(&["not json".to_string()], 0, 10).is_err());
    }
}
