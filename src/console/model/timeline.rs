//! The timeline (waterfall) of an execution: one row per step entry, with its task attempts
//! inside it and the retry delays between them; waits show as the step's own length. Drawn
//! as SVG (attributes only: the console's CSP allows no inline styles).

use std::fmt::Write as _;

use super::events::Event;
use super::steps::occurrences;

/// One row of the waterfall.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub step: String,
    pub entered_id: i64,
    pub start: i64,
    /// `None` while running.
    pub end: Option<i64>,
    pub status: &'static str,
    pub attempts: Vec<Span>,
    pub retry_delays: Vec<Span>,
}

/// A stretch of time inside a row.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub start: i64,
    pub end: Option<i64>,
    pub label: String,
}

/// The rows of every step entry, in the order they were entered.
pub fn rows(events: &[Event]) -> Vec<Row> {
    let mut steps: Vec<&str> = events
        .iter()
        .filter(|event| event.kind == "StepEntered")
        .map(|event| event.step.as_str())
        .collect();
    steps.sort_unstable();
    steps.dedup();
    let mut rows: Vec<Row> = steps
        .into_iter()
        .flat_map(|step| occurrences(events, step))
        .map(|occurrence| {
            let attempts: Vec<Span> = occurrence
                .attempts
                .iter()
                .map(|attempt| Span {
                    start: attempt.scheduled.time,
                    end: attempt.result.as_ref().map(|result| result.time),
                    label: format!(
                        "attempt {}{}",
                        attempt.number(),
                        attempt
                            .result
                            .as_ref()
                            .map(|result| format!(": {}", result.kind))
                            .unwrap_or_default()
                    ),
                })
                .collect();
            let retry_delays = attempts
                .windows(2)
                .filter_map(|pair| {
                    let failed_at = pair[0].end?;
                    (pair[1].start > failed_at).then(|| Span {
                        start: failed_at,
                        end: Some(pair[1].start),
                        label: "retry delay".into(),
                    })
                })
                .collect();
            Row {
                step: occurrence.entered.step.clone(),
                entered_id: occurrence.entered.id,
                start: occurrence.entered.time,
                end: occurrence.ended.as_ref().map(|event| event.time),
                status: occurrence.status(),
                attempts,
                retry_delays,
            }
        })
        .collect();
    rows.sort_by_key(|row| row.entered_id);
    rows
}

const WIDTH: f64 = 1000.0;
const LABEL_WIDTH: f64 = 230.0;
const ROW_HEIGHT: f64 = 22.0;

/// The SVG of `rows` on a time axis from `from` to `to` (epoch ms).
pub fn svg(rows: &[Row], from: i64, to: i64) -> String {
    let span = (to - from).max(1) as f64;
    let x = |time: i64| {
        LABEL_WIDTH + (time - from).clamp(0, to - from) as f64 / span * (WIDTH - LABEL_WIDTH - 10.0)
    };
    let height = ROW_HEIGHT * rows.len().max(1) as f64 + 20.0;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="timeline" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="Timeline of the steps">"#
    );
    let _ = write!(
        out,
        r#"<text class="axis" x="{LABEL_WIDTH}" y="12">0 s</text><text class="axis" x="{}" y="12" text-anchor="end">{}</text>"#,
        WIDTH - 10.0,
        duration_text(to - from)
    );
    for (index, row) in rows.iter().enumerate() {
        let y = 20.0 + ROW_HEIGHT * index as f64;
        let end = row.end.unwrap_or(to);
        let _ = write!(
            out,
            r##"<g class="row"><a href="#event-{id}"><text class="label" x="4" y="{ty}">{name}</text></a><rect class="bar status-{status}" x="{x0:.1}" y="{by}" width="{w:.1}" height="14"><title>{name}: {status}, {duration}</title></rect>"##,
            id = row.entered_id,
            ty = y + 12.0,
            name = escape(&shorten(&row.step)),
            status = row.status,
            x0 = x(row.start),
            by = y + 2.0,
            w = (x(end) - x(row.start)).max(2.0),
            duration = duration_text(end - row.start),
        );
        for (class, spans) in [
            ("attempt", &row.attempts),
            ("retry-delay", &row.retry_delays),
        ] {
            for span in spans {
                let end = span.end.unwrap_or(to);
                let _ = write!(
                    out,
                    r#"<rect class="{class}" x="{x0:.1}" y="{by}" width="{w:.1}" height="8"><title>{label}, {duration}</title></rect>"#,
                    x0 = x(span.start),
                    by = y + 5.0,
                    w = (x(end) - x(span.start)).max(1.5),
                    label = escape(&span.label),
                    duration = duration_text(end - span.start),
                );
            }
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

/// `850 ms`, `12.3 s`, `4 min 2 s`, `3 h 1 min`.
pub fn duration_text(ms: i64) -> String {
    let ms = ms.max(0);
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        60_000..3_600_000 => format!("{} min {} s", ms / 60_000, ms % 60_000 / 1000),
        _ => format!("{} h {} min", ms / 3_600_000, ms % 3_600_000 / 60_000),
    }
}

fn shorten(name: &str) -> String {
    if name.chars().count() > 30 {
        format!("{}…", name.chars().take(29).collect::<String>())
    } else {
        name.to_string()
    }
}

/// Text for SVG/HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn event(id: i64, time: i64, kind: &str, step: &str, schedule_id: i64, detail: Value) -> Event {
        Event {
            id,
            kind: kind.into(),
            step: step.into(),
            time,
            time_text: String::new(),
            schedule_id,
            raw_detail: detail.to_string(),
            detail,
        }
    }

    #[test]
    fn retries_show_their_delay() {
        let events = vec![
            event(2, 0, "StepEntered", "t<1>", 0, json!({})),
            event(3, 10, "TaskScheduled", "t<1>", 2, json!({"attempt": 1})),
            event(4, 20, "TaskFailed", "t<1>", 3, json!({})),
            event(5, 1020, "TaskScheduled", "t<1>", 2, json!({"attempt": 2})),
            event(6, 1030, "TaskSucceeded", "t<1>", 5, json!({})),
            event(7, 1040, "StepExited", "t<1>", 2, json!({})),
            event(8, 1040, "StepEntered", "nap", 0, json!({})),
        ];
        let rows = rows(&events);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].attempts.len(), 2);
        assert_eq!(
            rows[0].retry_delays,
            [Span {
                start: 20,
                end: Some(1020),
                label: "retry delay".into()
            }]
        );
        assert_eq!(rows[1].end, None, "the wait still runs");
        let drawn = svg(&rows, 0, 2000);
        assert!(drawn.contains("t&lt;1&gt;"), "names are escaped");
        assert!(!drawn.contains("t<1>"));
        assert!(drawn.contains(r#"class="retry-delay""#));
        assert!(drawn.contains("status-running"));
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration_text(850), "850 ms");
        assert_eq!(duration_text(12_300), "12.3 s");
        assert_eq!(duration_text(242_000), "4 min 2 s");
        assert_eq!(duration_text(10_860_000), "3 h 1 min");
    }
}
