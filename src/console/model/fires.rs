//! The next fire times of a schedule, for its page (the scheduler keeps its own; this is
//! the same rule computed for display).

use crate::schedule::cron::CronSchedule;

/// Up to `count` fires after `now` of an enabled schedule whose expression took effect at
/// `effective` (epoch ms); empty when the expression does not parse.
pub fn next_fires(expression: &str, effective: i64, now: i64, count: usize) -> Vec<i64> {
    let Ok(schedule) = CronSchedule::parse(expression) else {
        return Vec::new();
    };
    let mut after = match &schedule {
        // `@every` counts whole periods from when it took effect.
        CronSchedule::Every { period_ms } if *period_ms > 0 && now > effective => {
            effective + (now - effective) / period_ms * period_ms
        }
        CronSchedule::Every { .. } => effective,
        CronSchedule::Calendar { .. } => now,
    };
    let mut fires = Vec::with_capacity(count);
    while fires.len() < count {
        match schedule.next_after(after) {
            Some(next) => {
                if next > now {
                    fires.push(next);
                }
                after = next;
            }
            None => break,
        }
    }
    fires
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counts_from_when_it_took_effect() {
        let minute = 60_000;
        assert_eq!(
            next_fires("@every 5m", 0, 12 * minute, 2),
            [15 * minute, 20 * minute]
        );
    }

    #[test]
    fn calendar_fires_follow_now() {
        // 2024-05-01T12:00:30Z
        let now = 1_714_564_830_000;
        let fires = next_fires("0 * * * * *", 0, now, 3);
        assert_eq!(fires, [now + 30_000, now + 90_000, now + 150_000]);
        assert!(next_fires("not cron", 0, now, 3).is_empty());
    }
}
