//! Schedules (docs/COMPATIBILITY.md#schedules): cron expressions, and the scheduler that fires enabled schedules.
//!
//! Every fire starts exactly once across replicas:
//! 1. a replica claims due schedules with a lease (Postgres: `FOR UPDATE SKIP LOCKED`; SQLite
//!    has one writer), so no two replicas hold one schedule at once;
//! 2. it starts the execution under a name derived from the schedule id and the fire time
//!    (a UUID v5, like the UUIDs StartExecution generates), so starting the same fire again —
//!    by a replica that took over the claim after the first died between 2 and 3 — finds that
//!    execution and starts nothing;
//! 3. it moves `next_fire_at` on, guarded by the fire time it claimed.
//!
//! Fires missed while no replica ran are not replayed: one catch-up run stands for all of them,
//! and the next fire counts from now **[our choice]**.

pub mod cron;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::error::error_chain;
use crate::store::{Claim, Schedule, StartOutcome, Store, StoreResult, WorkNotice};
use crate::time::{format_ms, now_ms};
use crate::worker::{Runtime, StartRequest};
use cron::CronSchedule;

/// Longest sleep between looks at the schedules. Sleeps are measured on the monotonic clock
/// and fires on the wall clock, so a step of the wall clock delays a fire by at most this.
/// Changes on other replicas are announced (`WorkNotice::Schedules`), not waited for.
const MAX_SLEEP: Duration = Duration::from_secs(60);
/// The pause after a failed look, and after a due schedule could not be claimed (a claim
/// being committed elsewhere), so neither turns into a busy loop.
const RETRY_PAUSE: Duration = Duration::from_millis(200);
/// Schedules claimed per round trip.
const BATCH: i64 = 16;
/// A fire started later than this after its time was missed (no replica was running), not
/// merely delayed: it runs as a catch-up.
const LATE_AFTER_MS: i64 = 60_000;
/// The namespace of fire execution names (UUID v5).
const FIRE_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x5c2e_8f4a_93d1_4b7e_a6f0_2d18_c7b3_e941);

/// What a look at the schedules found.
enum Look {
    /// Some were fired: look again at once (more may be due).
    Again,
    /// Nothing is due before this long.
    Sleep(Duration),
}

/// Whether a claim of due schedules got any.
enum Claimed {
    None,
    Some,
}

/// The background task that fires this replica's share of due schedules.
pub struct Scheduler {
    store: Arc<dyn Store>,
    runtime: Arc<Runtime>,
    /// This replica's identity in claims.
    owner: String,
    lease: Duration,
    wake: Notify,
    stopping: AtomicBool,
}

impl Scheduler {
    pub fn new(
        store: Arc<dyn Store>,
        runtime: Arc<Runtime>,
        owner: String,
        lease: Duration,
    ) -> Arc<Scheduler> {
        Arc::new(Scheduler {
            store,
            runtime,
            owner,
            lease,
            wake: Notify::new(),
            stopping: AtomicBool::new(false),
        })
    }

    pub fn spawn(self: &Arc<Self>) -> JoinHandle<()> {
        tokio::spawn(self.clone().run())
    }

    /// A schedule was created, changed or deleted here: this scheduler looks again now, and
    /// the other replicas' schedulers are told.
    pub async fn changed(&self) {
        self.wake.notify_one();
        if let Err(error) = self.store.notify(WorkNotice::Schedules).await {
            // They look again at their next wake-up at the latest.
            tracing::warn!(error = %error_chain(&error), "announcing a schedule change failed");
        }
    }

    /// Fires nothing more; a fire under way is abandoned to its claim's expiry.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Sleeps until a schedule can be claimed (read from the store), fires what is due, and
    /// looks again when a schedule changes here or elsewhere. Idle, it reads the store once
    /// per `MAX_SLEEP` and writes nothing.
    async fn run(self: Arc<Self>) {
        let mut notices = self.store.subscribe();
        while !self.stopping.load(Ordering::SeqCst) {
            let sleep = match self.look().await {
                Ok(Look::Again) => continue,
                Ok(Look::Sleep(sleep)) => sleep,
                Err(error) => {
                    tracing::warn!(error = %error_chain(&error), "looking at the schedules failed");
                    RETRY_PAUSE
                }
            };
            let deadline = tokio::time::Instant::now() + sleep;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(deadline) => break,
                    _ = self.wake.notified() => break,
                    notice = notices.recv() => match notice {
                        Ok(WorkNotice::Schedules) | Err(_) => break,
                        Ok(WorkNotice::Work | WorkNotice::Ended(_)) => {}
                    },
                }
            }
        }
    }

    /// Fires the due schedules, if any; says how long to sleep then.
    async fn look(&self) -> StoreResult<Look> {
        let now = now_ms();
        match self.store.next_schedule_wake().await? {
            Some(at) if at <= now => Ok(match self.fire_due().await? {
                Claimed::Some => Look::Again,
                // Due, but held by a claim being committed elsewhere.
                Claimed::None => Look::Sleep(RETRY_PAUSE),
            }),
            Some(at) => Ok(Look::Sleep(
                Duration::from_millis(u64::try_from(at - now).unwrap_or(0)).min(MAX_SLEEP),
            )),
            None => Ok(Look::Sleep(MAX_SLEEP)),
        }
    }

    /// Claims due schedules and fires them.
    async fn fire_due(&self) -> StoreResult<Claimed> {
        let now = now_ms();
        let claim = Claim {
            owner: self.owner.clone(),
            now,
            lease_until: now + self.lease.as_millis() as i64,
        };
        let claimed = self.store.claim_due_schedules(&claim, BATCH).await?;
        let outcome = if claimed.is_empty() {
            Claimed::None
        } else {
            Claimed::Some
        };
        for schedule in claimed {
            if self.stopping.load(Ordering::SeqCst) {
                break;
            }
            self.fire(&schedule, now).await;
        }
        Ok(outcome)
    }

    /// Fires one claimed schedule and moves it to its next fire.
    async fn fire(&self, schedule: &Schedule, now: i64) {
        let Some(fire_at) = schedule.next_fire_at else {
            return; // claims select scheduled rows only
        };
        let next = match CronSchedule::parse(&schedule.cron_expression) {
            Ok(cron) => {
                let following = cron.next_after(fire_at);
                let missed = now - fire_at > LATE_AFTER_MS || following.is_some_and(|at| at <= now);
                self.start(schedule, fire_at, missed).await;
                if missed {
                    cron.next_after(now)
                } else {
                    following
                }
            }
            Err(reason) => {
                // Validated when written; a stored expression that no longer parses stops.
                tracing::error!(schedule_id = %schedule.id, %reason, "a schedule's cron expression is invalid");
                None
            }
        };
        match self.store.finish_fire(&schedule.id, fire_at, next).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!(schedule_id = %schedule.id, "the schedule changed while it fired")
            }
            // The claim expires and the fire is looked at again (its execution name keeps
            // it from starting twice).
            Err(error) => {
                tracing::warn!(error = %error_chain(&error), schedule_id = %schedule.id, "advancing a schedule failed")
            }
        }
    }

    /// Starts the execution of one fire; a fire that cannot start is skipped (docs/COMPATIBILITY.md#schedules).
    async fn start(&self, schedule: &Schedule, fire_at: i64, catch_up: bool) {
        let skip = |reason: &str| {
            tracing::warn!(schedule_id = %schedule.id, schedule = %schedule.name, fire_time = %format_ms(fire_at), reason, "a schedule's fire is skipped");
        };
        // Read on every fire (StartExecution's flow cache is the API's): fires are rare.
        let flow = match self.store.schedule_flow(&schedule.flow_id).await {
            Ok(Some(flow)) => flow,
            Ok(None) => return skip("its flow was deleted"),
            Err(error) => return skip(&error.to_string()),
        };
        if flow.execution_mode == "Express" {
            return skip("Express flows run only with StartSyncExecution");
        }
        let request = StartRequest {
            flow,
            name: Some(fire_execution_name(&schedule.id, fire_at)),
            input: schedule.payload.clone(),
            callback_token: None,
            qualifier: None,
            flow_version: None,
            started_by: Some(json!({
                "schedule": {
                    "name": schedule.name,
                    "fireTime": format_ms(fire_at),
                    "catchUp": catch_up,
                }
            })),
            test_case: None,
            flow_from_cache: false,
            nonce: None,
        };
        match self.runtime.start_execution(request).await {
            Ok(StartOutcome::Started(execution)) => tracing::info!(
                schedule_id = %schedule.id,
                execution = %execution.identity.name,
                catch_up,
                "a schedule fired"
            ),
            Ok(StartOutcome::Running(_) | StartOutcome::AlreadyEnded(_)) => tracing::info!(
                schedule_id = %schedule.id,
                fire_time = %format_ms(fire_at),
                "this fire had already started"
            ),
            Ok(StartOutcome::Throttled) => {
                skip("the account has the most running executions it may have")
            }
            // Not asked for: the flow was just read, not cached.
            Ok(StartOutcome::StaleFlow) => skip("the flow changed while it fired"),
            // Not asked for: no request's nonce guards a fire.
            Ok(StartOutcome::NonceUsed) => skip("refused as a replay"),
            Err(error) => skip(&error.to_string()),
        }
    }
}

/// The execution name of one fire: a UUID v5 of the schedule id and the fire time, so every
/// replica that starts this fire names the same execution.
pub fn fire_execution_name(schedule_id: &str, fire_at: i64) -> String {
    uuid::Uuid::new_v5(
        &FIRE_NAMESPACE,
        format!("{schedule_id}@{fire_at}").as_bytes(),
    )
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fire_names_are_stable_across_releases() {
        // Replicas of different versions must name a fire alike: pinned to the value the
        // hand-written UUID v5 produced (also Python's uuid5 of the same namespace and name).
        assert_eq!(
            fire_execution_name("5f0c", 1_714_564_800_000),
            "7f14ee86-8895-57da-926f-2acfae796056"
        );
    }

    #[test]
    fn a_fire_has_one_name() {
        let name = fire_execution_name("5f0c", 1_714_564_800_000);
        assert_eq!(name, fire_execution_name("5f0c", 1_714_564_800_000));
        assert_ne!(name, fire_execution_name("5f0c", 1_714_564_860_000));
        assert_ne!(name, fire_execution_name("5f0d", 1_714_564_800_000));
        assert_eq!(
            uuid::Uuid::parse_str(&name).map(|u| u.get_version_num()),
            Ok(5)
        );
    }
}
