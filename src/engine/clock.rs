//! Virtual time. The interpreter reads an execution's own clock ("engine time") for every
//! timer it arms or checks: Wait states, retry delays, task and callback timeouts, the
//! execution's timeout. With a time scale F, engine time runs 1/F times as fast as the wall
//! clock while the execution waits for nothing but time (a timer, or a callback someone else
//! sends), so every such wait lasts F times its length; at F = 0 it jumps straight to the next
//! timer. While a call is in flight or a child execution runs, engine time follows the wall
//! clock, so real work is never cut short by a scaled timeout.
//!
//! Timers are stored in engine time; only the wake-up written to the store (and a call's own
//! deadline) are wall-clock instants, converted here. History events keep wall-clock times.
//! Each advance ends by recording where the two clocks stood (`ClockAnchor`), so the mapping
//! survives restarts and moves between replicas with the execution's state. At F = 1 engine
//! time is the wall clock.

use serde::{Deserialize, Serialize};

/// The factor every waited duration is multiplied by (≥ 0, finite).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeScale(f64);

impl TimeScale {
    pub const REAL: TimeScale = TimeScale(1.0);

    /// `None` for a negative, infinite or NaN factor.
    pub fn new(factor: f64) -> Option<TimeScale> {
        (factor.is_finite() && factor >= 0.0).then_some(TimeScale(factor))
    }

    pub fn factor(self) -> f64 {
        self.0
    }

    pub fn is_real(self) -> bool {
        self.0 == 1.0
    }
}

impl Default for TimeScale {
    fn default() -> Self {
        TimeScale::REAL
    }
}

/// Where the wall clock and the execution's engine clock stood at the end of its last
/// advance (epoch ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockAnchor {
    pub wall: i64,
    pub engine: i64,
}

/// What the execution was waiting for when its last advance ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    /// Its earliest timer in engine time, if any.
    pub next_timer: Option<i64>,
    /// A call in flight or a child execution running: time passes at the wall clock's pace.
    pub on_work: bool,
}

impl TimeScale {
    /// Engine time at wall time `wall`, for an execution whose last advance left `anchor`
    /// (`None`: a state from before virtual time, where engine time is the wall clock).
    pub fn engine_now(self, anchor: Option<ClockAnchor>, wall: i64, waiting: Waiting) -> i64 {
        let Some(anchor) = anchor else {
            return wall;
        };
        let elapsed = wall.saturating_sub(anchor.wall).max(0);
        if self.is_real() || waiting.on_work {
            return anchor.engine.saturating_add(elapsed);
        }
        let Some(timer) = waiting.next_timer else {
            // Nothing to skip to: a callback without a timeout, say.
            return anchor.engine.saturating_add(elapsed);
        };
        // Never past the next timer: each timer fires at its own instant, in order.
        let to_timer = timer.saturating_sub(anchor.engine).max(0);
        let skipped = if self.0 == 0.0 {
            to_timer
        } else {
            let scaled = elapsed as f64 / self.0;
            if scaled >= to_timer as f64 {
                to_timer
            } else {
                scaled as i64
            }
        };
        anchor.engine.saturating_add(skipped)
    }

    /// The wall-clock instant at which engine time `at` comes, seen from `anchor`.
    pub fn wall_time(self, anchor: ClockAnchor, at: i64, on_work: bool) -> i64 {
        let ahead = at.saturating_sub(anchor.engine).max(0);
        let factor = if on_work { 1.0 } else { self.0 };
        let wall_ahead = (ahead as f64 * factor).ceil();
        anchor
            .wall
            .saturating_add(if wall_ahead >= i64::MAX as f64 {
                i64::MAX
            } else {
                wall_ahead as i64
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANCHOR: ClockAnchor = ClockAnchor {
        wall: 1_000,
        engine: 50_000,
    };

    fn idle(next_timer: Option<i64>) -> Waiting {
        Waiting {
            next_timer,
            on_work: false,
        }
    }

    #[test]
    fn real_time_is_the_wall_clock_plus_the_offset() {
        let real = TimeScale::REAL;
        assert_eq!(real.engine_now(None, 7, idle(None)), 7);
        assert_eq!(
            real.engine_now(Some(ANCHOR), 1_500, idle(Some(50_100))),
            50_500
        );
        assert_eq!(real.wall_time(ANCHOR, 51_000, false), 2_000);
    }

    #[test]
    fn zero_jumps_to_the_next_timer_and_never_past_it() {
        let zero = TimeScale::new(0.0).unwrap();
        let day = 86_400_000;
        assert_eq!(
            zero.engine_now(Some(ANCHOR), 1_000, idle(Some(50_000 + day))),
            50_000 + day
        );
        assert_eq!(
            zero.engine_now(Some(ANCHOR), 1_002, idle(Some(49_000))),
            50_000
        );
        assert_eq!(zero.wall_time(ANCHOR, 50_000 + day, false), 1_000);
        // A call in flight: the wall clock's pace, both ways.
        let busy = Waiting {
            next_timer: Some(50_000 + day),
            on_work: true,
        };
        assert_eq!(zero.engine_now(Some(ANCHOR), 1_300, busy), 50_300);
        assert_eq!(zero.wall_time(ANCHOR, 60_000, true), 11_000);
        // Waiting for a callback without a timeout: nothing to skip to.
        assert_eq!(zero.engine_now(Some(ANCHOR), 1_300, idle(None)), 50_300);
    }

    #[test]
    fn a_factor_scales_waits() {
        let hundredth = TimeScale::new(0.01).unwrap();
        // A 100 s wait takes 1 s.
        assert_eq!(hundredth.wall_time(ANCHOR, 150_000, false), 2_000);
        assert_eq!(
            hundredth.engine_now(Some(ANCHOR), 1_500, idle(Some(150_000))),
            100_000
        );
        assert_eq!(
            hundredth.engine_now(Some(ANCHOR), 2_500, idle(Some(150_000))),
            150_000
        );
        // Rounding up: the wake-up is never before the timer.
        assert_eq!(hundredth.wall_time(ANCHOR, 50_150, false), 1_002);
        assert_eq!(
            hundredth.engine_now(Some(ANCHOR), 1_002, idle(Some(50_150))),
            50_150
        );
    }

    #[test]
    fn factors_are_checked() {
        assert!(TimeScale::new(-1.0).is_none());
        assert!(TimeScale::new(f64::NAN).is_none());
        assert!(TimeScale::new(f64::INFINITY).is_none());
        assert!(TimeScale::new(2.5).is_some());
        assert_eq!(
            TimeScale::new(0.0)
                .unwrap()
                .wall_time(ANCHOR, i64::MAX, false),
            1_000
        );
        assert_eq!(
            TimeScale::new(1e9)
                .unwrap()
                .wall_time(ANCHOR, i64::MAX, false),
            i64::MAX
        );
    }
}
