//! `CronExpression` (docs/COMPATIBILITY.md#schedules): `@every <N>m`, or six fields `Seconds Minutes Hours
//! Day-of-month Month Day-of-week` in UTC, optionally prefixed by `CRON_TZ=<IANA zone> `.
//!
//! croner accepts more than the spec allows (`L`, `W`, `#`, seven fields, steps in Seconds),
//! so every field is checked here first and handed to croner in a canonical form (numbers
//! only, `?` as `*`, `N/S` as `N-max/S`); croner then computes the occurrences.

use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};

const FIELD_ORDER: &str = "Seconds Minutes Hours Day-of-month Month Day-of-week";
const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// When a schedule fires.
#[derive(Debug, Clone)]
pub enum CronSchedule {
    /// `@every <N>m`: every N minutes, counted from when the expression took effect.
    Every { period_ms: i64 },
    /// Six fields, evaluated in `zone` (UTC unless `CRON_TZ=` names another).
    Calendar { cron: Box<Cron>, zone: Tz },
}

impl CronSchedule {
    /// Parses and validates an expression; the error is the reason, to follow
    /// "CronExpression " in an `InvalidArgument` message.
    pub fn parse(expression: &str) -> Result<CronSchedule, String> {
        let text = expression.trim();
        if let Some(rest) = text.strip_prefix("@every") {
            return parse_every(rest);
        }
        let (zone, fields) = match text.strip_prefix("CRON_TZ=") {
            Some(rest) => {
                let (name, fields) = rest
                    .split_once(char::is_whitespace)
                    .ok_or("CRON_TZ=<zone> must be followed by six fields")?;
                let zone = Tz::from_str(name)
                    .map_err(|_| format!("CRON_TZ names no IANA time zone: '{name}'"))?;
                (zone, fields.trim_start())
            }
            None => (Tz::UTC, text),
        };
        if fields.starts_with('@') {
            return Err("CRON_TZ applies to six-field expressions only".into());
        }
        let canonical = canonical_fields(fields)?;
        let cron = CronParser::builder()
            .seconds(Seconds::Required)
            .year(Year::Disallowed)
            .build()
            .parse(&canonical)
            .map_err(|error| format!("is not a valid cron expression: {error}"))?;
        Ok(CronSchedule::Calendar {
            cron: Box::new(cron),
            zone,
        })
    }

    /// The first fire strictly after `after` (epoch ms). For `@every` that is one period
    /// later: the interval counts from the moment the schedule (re)started or last fired.
    /// `None` when there is no later fire (croner's search horizon).
    pub fn next_after(&self, after: i64) -> Option<i64> {
        match self {
            CronSchedule::Every { period_ms } => after.checked_add(*period_ms),
            CronSchedule::Calendar { cron, zone } => {
                // Fires fall on whole seconds; searching from the whole second at or before
                // `after` finds the first one later than `after`.
                let start = zone
                    .timestamp_millis_opt(after.div_euclid(1000) * 1000)
                    .single()?;
                let next: DateTime<Tz> = cron.find_next_occurrence(&start, false).ok()?;
                Some(next.with_timezone(&Utc).timestamp_millis())
            }
        }
    }
}

/// `@every <N>m`, N a positive integer; the unit is minutes only.
fn parse_every(rest: &str) -> Result<CronSchedule, String> {
    let rule =
        "@every must be followed by a space and a positive number of minutes, e.g. @every 5m";
    let Some(amount) = rest
        .strip_prefix(char::is_whitespace)
        .map(str::trim)
        .and_then(|amount| amount.strip_suffix('m'))
    else {
        return Err(rule.into());
    };
    match amount.parse::<u32>() {
        Ok(minutes) if minutes > 0 && amount.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(CronSchedule::Every {
                period_ms: i64::from(minutes) * 60_000,
            })
        }
        _ => Err(rule.into()),
    }
}

/// What one field accepts (docs/COMPATIBILITY.md#schedules).
struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    /// Three-letter names for `min`, `min + 1`, … (any case).
    names: &'static [&'static str],
    step: bool,
    question: bool,
}

const MINUTES: Field = Field {
    name: "Minutes",
    min: 0,
    max: 59,
    names: &[],
    step: true,
    question: false,
};
const HOURS: Field = Field {
    name: "Hours",
    min: 0,
    max: 23,
    names: &[],
    step: true,
    question: false,
};
const DAY_OF_MONTH: Field = Field {
    name: "Day-of-month",
    min: 1,
    max: 31,
    names: &[],
    step: true,
    question: true,
};
// The spec lists no special characters for Month; we allow those of Minutes and Hours.
const MONTH: Field = Field {
    name: "Month",
    min: 1,
    max: 12,
    names: &MONTHS,
    step: true,
    question: false,
};
const DAY_OF_WEEK: Field = Field {
    name: "Day-of-week",
    min: 0,
    max: 6,
    names: &WEEKDAYS,
    step: false,
    question: true,
};

/// Checks the six fields and renders them the way croner reads them.
fn canonical_fields(text: &str) -> Result<String, String> {
    let fields: Vec<&str> = text.split_whitespace().collect();
    if fields.len() != 6 {
        return Err(format!(
            "must be @every <N>m or six fields ({FIELD_ORDER}), got {} field{}",
            fields.len(),
            if fields.len() == 1 { "" } else { "s" }
        ));
    }
    let seconds = seconds_field(fields[0])?;
    let mut canonical = vec![seconds.to_string()];
    let mut values = Vec::with_capacity(5);
    for (text, field) in
        fields[1..]
            .iter()
            .zip([&MINUTES, &HOURS, &DAY_OF_MONTH, &MONTH, &DAY_OF_WEEK])
    {
        let (rendered, selected) = parse_field(text, field)?;
        canonical.push(rendered);
        values.push(selected);
    }
    check_some_day_exists(
        values[2].as_deref(),
        values[3].as_deref(),
        values[4].as_deref(),
    )?;
    Ok(canonical.join(" "))
}

/// Seconds: one number 0–59. Anything else would fire more than once a minute (or be a
/// list, range or step the spec does not allow here).
fn seconds_field(text: &str) -> Result<u32, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        match text.parse::<u32>() {
            Ok(second) if second <= 59 => return Ok(second),
            _ => {}
        }
        return Err(format!("Seconds must be a number 0-59, got '{text}'"));
    }
    Err(format!(
        "Seconds must be a single number 0-59 (a schedule fires at most once a minute), got '{text}'"
    ))
}

/// One field: a list of `*`, `?`, `A`, `A-B`, with `/S` steps where allowed. Returns the
/// canonical text and the selected values (`None` for every value).
fn parse_field(text: &str, field: &Field) -> Result<(String, Option<Vec<u32>>), String> {
    let invalid = |reason: String| Err(format!("{} {reason}", field.name));
    if text == "?" {
        if field.question {
            return Ok(("*".into(), None));
        }
        return invalid("does not accept '?'".into());
    }
    let mut items = Vec::new();
    let mut selected = Vec::new();
    let mut every = false;
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some(_) if !field.step => return invalid(format!("does not accept '/', got '{text}'")),
            Some((range, step)) => (range, Some(number(step, field, "step")?)),
            None => (item, None),
        };
        if step == Some(0) {
            return invalid(format!("step must be positive, got '{item}'"));
        }
        let (low, high) = if range == "*" {
            (field.min, field.max)
        } else if let Some((low, high)) = range.split_once('-') {
            let (low, high) = (value(low, field)?, value(high, field)?);
            if low > high {
                return invalid(format!("range {range} runs backwards"));
            }
            (low, high)
        } else {
            let low = value(range, field)?;
            // `A/S` means from A to the end in steps of S.
            (low, if step.is_some() { field.max } else { low })
        };
        every |= range == "*" && step.is_none();
        items.push(match step {
            Some(step) => format!("{low}-{high}/{step}"),
            None if range == "*" => "*".to_string(),
            None if low == high => low.to_string(),
            None => format!("{low}-{high}"),
        });
        selected.extend((low..=high).step_by(step.unwrap_or(1) as usize));
    }
    if every {
        // `*` inside a list still means every value; croner reads a lone `*` as "any day".
        return Ok(("*".into(), None));
    }
    Ok((items.join(","), Some(selected)))
}

/// A value of the field: a number in range, or one of its names (any case).
fn value(text: &str, field: &Field) -> Result<u32, String> {
    if let Some(index) = field
        .names
        .iter()
        .position(|name| name.eq_ignore_ascii_case(text))
    {
        return Ok(field.min + index as u32);
    }
    let number = number(text, field, "value")?;
    if (field.min..=field.max).contains(&number) {
        Ok(number)
    } else {
        Err(format!(
            "{} value must be between {} and {}, got {number}",
            field.name, field.min, field.max
        ))
    }
}

fn number(text: &str, field: &Field, what: &str) -> Result<u32, String> {
    let names = if field.names.is_empty() {
        String::new()
    } else {
        format!(
            " or {}-{}",
            field.names[0],
            field.names[field.names.len() - 1]
        )
    };
    if !text.is_empty()
        && text.len() <= 4
        && text.bytes().all(|b| b.is_ascii_digit())
        && let Ok(number) = text.parse()
    {
        return Ok(number);
    }
    Err(format!(
        "{} {what} must be a number{names}, got '{text}'",
        field.name
    ))
}

/// A day-of-month list that no selected month has (e.g. 30 in FEB) never fires: reject it
/// rather than let the schedule sit silent. A restricted Day-of-week fires on its days
/// regardless (either field may match, as in Vixie cron).
fn check_some_day_exists(
    days: Option<&[u32]>,
    months: Option<&[u32]>,
    weekdays: Option<&[u32]>,
) -> Result<(), String> {
    let (Some(days), None) = (days, weekdays) else {
        return Ok(());
    };
    let longest = months.map_or(31, |months| {
        months
            .iter()
            .map(|&month| days_in_month(month))
            .max()
            .unwrap_or(31)
    });
    if days.iter().any(|&day| day <= longest) {
        Ok(())
    } else {
        Err("never fires: no selected month has the selected days".into())
    }
}

/// The most days month `month` can have (February: 29).
fn days_in_month(month: u32) -> u32 {
    match month {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{format_ms, parse_rfc3339_ms};

    fn at(text: &str) -> i64 {
        parse_rfc3339_ms(text).expect("a test time")
    }

    fn next(expression: &str, after: &str) -> String {
        let schedule = CronSchedule::parse(expression)
            .unwrap_or_else(|e| panic!("{expression} rejected: {e}"));
        format_ms(schedule.next_after(at(after)).expect("a next fire"))
    }

    fn reason(expression: &str) -> String {
        match CronSchedule::parse(expression) {
            Ok(_) => panic!("{expression} accepted"),
            Err(reason) => reason,
        }
    }

    #[test]
    fn every_n_minutes_counts_from_the_start() {
        assert_eq!(
            next("@every 5m", "2024-05-01T12:00:03.250Z"),
            "2024-05-01T12:05:03.250Z"
        );
        assert_eq!(
            next("@every 1m", "2024-05-01T12:00:00Z"),
            "2024-05-01T12:01:00.000Z"
        );
        assert_eq!(
            next("  @every  90m ", "2024-05-01T12:00:00Z"),
            "2024-05-01T13:30:00.000Z"
        );
    }

    #[test]
    fn every_rejects_other_units_and_non_positive_counts() {
        for bad in [
            "@every 0m",
            "@every 5",
            "@every m",
            "@every 5s",
            "@every 1h",
            "@every 1.5m",
            "@every -5m",
            "@every +5m",
            "@every5m",
            "@every 5M",
            "@every 99999999999m",
            "@daily",
            "@hourly",
        ] {
            assert!(CronSchedule::parse(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(
            reason("@every 5s"),
            "@every must be followed by a space and a positive number of minutes, e.g. @every 5m"
        );
    }

    #[test]
    fn six_fields_evaluate_in_utc() {
        assert_eq!(
            next("0 * * * * *", "2024-05-01T12:00:00Z"),
            "2024-05-01T12:01:00.000Z"
        );
        assert_eq!(
            next("30 * * * * *", "2024-05-01T12:00:00.999Z"),
            "2024-05-01T12:00:30.000Z"
        );
        assert_eq!(
            next("0 0 12 * * *", "2024-05-01T12:00:00Z"),
            "2024-05-02T12:00:00.000Z"
        );
        assert_eq!(
            next("0 0 12 * * ?", "2024-05-01T11:59:59.999Z"),
            "2024-05-01T12:00:00.000Z"
        );
    }

    #[test]
    fn every_accepted_form_of_each_field() {
        let after = "2024-05-01T00:00:00Z"; // a Wednesday
        // Minutes and Hours: , - * /
        assert_eq!(next("0 5,35 * * * *", after), "2024-05-01T00:05:00.000Z");
        assert_eq!(next("0 10-12 * * * *", after), "2024-05-01T00:10:00.000Z");
        assert_eq!(next("0 */15 * * * *", after), "2024-05-01T00:15:00.000Z");
        assert_eq!(next("0 7/20 * * * *", after), "2024-05-01T00:07:00.000Z");
        assert_eq!(next("0 40-50/5 * * * *", after), "2024-05-01T00:40:00.000Z");
        assert_eq!(next("0 0 3,9 * * *", after), "2024-05-01T03:00:00.000Z");
        assert_eq!(next("0 0 */6 * * *", after), "2024-05-01T06:00:00.000Z");
        assert_eq!(next("0 0 8-10 * * *", after), "2024-05-01T08:00:00.000Z");
        // Day-of-month: , - * ? /
        assert_eq!(next("0 0 0 15 * ?", after), "2024-05-15T00:00:00.000Z");
        assert_eq!(next("0 0 0 3,20 * ?", after), "2024-05-03T00:00:00.000Z");
        assert_eq!(next("0 0 0 10-12 * ?", after), "2024-05-10T00:00:00.000Z");
        assert_eq!(next("0 0 0 */10 * ?", after), "2024-05-11T00:00:00.000Z");
        assert_eq!(next("0 0 0 5/7 * ?", after), "2024-05-05T00:00:00.000Z");
        // Month: numbers or JAN–DEC, any case
        assert_eq!(next("0 0 0 1 JUN ?", after), "2024-06-01T00:00:00.000Z");
        assert_eq!(next("0 0 0 1 jul-aug ?", after), "2024-07-01T00:00:00.000Z");
        assert_eq!(next("0 0 0 1 2,9 ?", after), "2024-09-01T00:00:00.000Z");
        assert_eq!(next("0 0 0 1 */3 ?", after), "2024-07-01T00:00:00.000Z");
        // Day-of-week: 0–6 (0 = SUN) or SUN–SAT with , - * ?
        assert_eq!(next("0 0 0 ? * 0", after), "2024-05-05T00:00:00.000Z");
        assert_eq!(next("0 0 0 ? * SUN", after), "2024-05-05T00:00:00.000Z");
        assert_eq!(next("0 0 0 ? * MON-FRI", after), "2024-05-02T00:00:00.000Z");
        assert_eq!(next("0 0 0 ? * sat,1", after), "2024-05-04T00:00:00.000Z");
        assert_eq!(next("0 0 0 * * 3", after), "2024-05-08T00:00:00.000Z");
        assert_eq!(next("0 0 0 ? * *", after), "2024-05-02T00:00:00.000Z");
        // Leap day: fires only in leap years, but it does fire.
        assert_eq!(next("0 0 0 29 FEB ?", after), "2028-02-29T00:00:00.000Z");
    }

    #[test]
    fn cron_tz_evaluates_in_that_zone() {
        // Noon in Shanghai (UTC+8) is 04:00 UTC.
        assert_eq!(
            next("CRON_TZ=Asia/Shanghai 0 0 12 * * *", "2024-05-01T05:00:00Z"),
            "2024-05-02T04:00:00.000Z"
        );
        assert_eq!(
            next("CRON_TZ=Asia/Shanghai 0 0 12 * * *", "2024-05-01T03:59:59Z"),
            "2024-05-01T04:00:00.000Z"
        );
        // Daylight saving time follows the zone: 09:00 in New York is 13:00 UTC in summer.
        assert_eq!(
            next(
                "CRON_TZ=America/New_York 0 0 9 * * ?",
                "2024-07-01T00:00:00Z"
            ),
            "2024-07-01T13:00:00.000Z"
        );
        assert_eq!(
            reason("CRON_TZ=Mars/Olympus 0 0 12 * * *"),
            "CRON_TZ names no IANA time zone: 'Mars/Olympus'"
        );
        assert!(CronSchedule::parse("CRON_TZ=Asia/Shanghai").is_err());
        assert!(CronSchedule::parse("CRON_TZ=Asia/Shanghai @every 5m").is_err());
        assert!(CronSchedule::parse("CRON_TZ=Asia/Shanghai 0 0 12 * *").is_err());
    }

    #[test]
    fn field_count_must_be_six() {
        assert_eq!(
            reason("0 0 12 * * ? 2025"),
            "must be @every <N>m or six fields (Seconds Minutes Hours Day-of-month Month Day-of-week), got 7 fields"
        );
        assert!(reason("0 12 * * *").contains("got 5 fields"));
        assert!(reason("").contains("got 0 fields"));
        assert!(reason("*").contains("got 1 field"));
    }

    #[test]
    fn seconds_accept_one_number_only() {
        for bad in ["*", "*/10", "0,30", "0-59", "0/30", "?", "60", "x", "-1"] {
            let reason = reason(&format!("{bad} * * * * *"));
            assert!(reason.starts_with("Seconds "), "{bad}: {reason}");
        }
        assert_eq!(
            reason("*/10 * * * * *"),
            "Seconds must be a single number 0-59 (a schedule fires at most once a minute), got '*/10'"
        );
        assert_eq!(
            reason("60 * * * * *"),
            "Seconds must be a number 0-59, got '60'"
        );
        assert!(CronSchedule::parse("59 * * * * *").is_ok());
        assert!(CronSchedule::parse("00 * * * * *").is_ok());
    }

    #[test]
    fn too_frequent_expressions_are_rejected() {
        // Only Seconds could make a schedule fire more than once a minute.
        for bad in [
            "* * * * * *",
            "*/1 * * * * *",
            "0,1 * * * * *",
            "0-1 * * * * *",
        ] {
            assert!(
                reason(bad).contains("at most once a minute"),
                "{bad}: {}",
                reason(bad)
            );
        }
    }

    #[test]
    fn croner_extensions_are_rejected() {
        for bad in [
            "0 0 0 L * ?",
            "0 0 0 15W * ?",
            "0 0 0 LW * ?",
            "0 0 0 ? * 5L",
            "0 0 0 ? * 5#2",
            "0 0 0 ? * MON#1",
            "0 0 0 ? * +MON",
            "0 0 0 ? * 7",
            "0 0 0 ? * */2",
            "0 0 0 ? * 1/2",
            "0 ? * * * *",
            "0 * ? * * *",
            "0 * * * ? *",
            "0 0 0 1,? * *",
            "0 0 0 0 * ?",
            "0 0 0 32 * ?",
            "0 0 0 1 13 ?",
            "0 0 0 1 0 ?",
            "0 60 * * * *",
            "0 * 24 * * *",
            "0 10-5 * * * *",
            "0 */0 * * * *",
            "0 1,,2 * * * *",
            "0 MON * * * *",
            "0 0 0 1 JANUARY ?",
            "0 0 0 ? * MONDAY",
            "0 0 0 ? * MON-",
            "H * * * * *",
        ] {
            assert!(CronSchedule::parse(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(
            reason("0 0 0 L * ?"),
            "Day-of-month value must be a number, got 'L'"
        );
        assert_eq!(
            reason("0 0 0 ? * 5#2"),
            "Day-of-week value must be a number or SUN-SAT, got '5#2'"
        );
        assert_eq!(
            reason("0 0 0 ? * 1/2"),
            "Day-of-week does not accept '/', got '1/2'"
        );
        assert_eq!(
            reason("0 10-5 * * * *"),
            "Minutes range 10-5 runs backwards"
        );
        assert_eq!(
            reason("0 0 0 1 13 ?"),
            "Month value must be between 1 and 12, got 13"
        );
    }

    #[test]
    fn a_day_no_selected_month_has_is_rejected() {
        assert_eq!(
            reason("0 0 0 30 FEB ?"),
            "never fires: no selected month has the selected days"
        );
        assert!(CronSchedule::parse("0 0 0 31 4,6,9,11 ?").is_err());
        assert!(CronSchedule::parse("0 0 0 31 4,5 ?").is_ok());
        // A day of the week makes it fire anyway (either field may match).
        assert!(CronSchedule::parse("0 0 0 30 FEB MON").is_ok());
    }
}
