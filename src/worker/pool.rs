//! The worker pool, which finds due executions and advances them, and the heartbeat, which
//! renews this replica's leases and hands the calls of dead replicas over.
//!
//! Waiting costs nothing: an execution waiting on a timer, a callback, a child or a retry
//! delay is a stored wake-up time (or none), and the pool sleeps until the earliest one. It
//! wakes for hints (work this replica produced), for notices (work announced by the store or
//! another replica), when a commit of this replica stores an earlier wake-up, and for a
//! periodic look at the store's wake-ups — a read of two indexes. Nothing is written while
//! nothing is due, and the heartbeat writes only while this replica holds leases.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{Hint, Runtime};
use crate::error::error_chain;
use crate::store::{ClaimAttempt, StoreResult, Wakeups, WorkNotice};
use crate::time::now_ms;

/// The longest the pool sleeps without looking at the store, on a store of its own. Sleeps
/// run on the monotonic clock and wake-ups are wall-clock times, so a step of the wall clock
/// delays a timer by at most this. (A replica sharing its store looks once per lease period;
/// see `look_period`.)
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// After a look found something due that a claim did not get (a row being committed by
/// another transaction), the pause before the next try, doubling up to `MAX_RETRY_PAUSE`:
/// whatever the cause, the pool does not spin on it.
const FIRST_RETRY_PAUSE: Duration = Duration::from_millis(25);
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(1);

/// A failed advance gives its lease back due at once; it is retried after this pause, so a
/// failure that repeats (an outage) costs one try per pause, not a loop.
pub(super) const FAILED_ADVANCE_PAUSE: Duration = Duration::from_secs(1);

impl Runtime {
    /// Starts the pool, the heartbeat and the sweeper of deleted flows.
    pub fn spawn(self: &Arc<Self>) -> Vec<JoinHandle<()>> {
        let receiver = self
            .hint_receiver
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .expect("the runtime is spawned once");
        vec![
            tokio::spawn(self.clone().pool(receiver)),
            tokio::spawn(self.clone().heartbeat()),
            tokio::spawn(self.clone().sweep_deleted_flows()),
        ]
    }

    pub(super) fn hint(&self, hint: Hint) {
        let _ = self.hints.send((hint, tokio::time::Instant::now()));
    }

    /// Something is due at `at` (epoch ms): wakes the pool if it sleeps past it.
    pub(super) fn note_wake(&self, at: i64) {
        if self.next_wake.fetch_min(at, Ordering::SeqCst) > at {
            self.wake.notify_one();
        }
    }

    /// Asks the heartbeat to turn expired task-call leases into lost calls.
    pub(super) fn request_reap(&self) {
        self.reap_pending.store(true, Ordering::SeqCst);
        self.reap_wanted.notify_one();
    }

    /// Counts a lease this replica holds on an execution until the returned guard drops.
    pub(super) fn hold_lease(self: &Arc<Self>, lease_until: i64) -> LeaseHold {
        self.leases_held.fetch_add(1, Ordering::SeqCst);
        LeaseHold {
            runtime: self.clone(),
            lease_until,
        }
    }

    /// How often the pool looks at the store's wake-ups unasked. A replica sharing its store
    /// learns of other replicas' timers only by reading them (it needs them only if their
    /// replica dies), and of a dead replica's leases only as they expire: looking once per
    /// lease period takes a dead replica's work over within two lease periods.
    fn look_period(&self) -> Duration {
        if self.store.is_shared() {
            self.config.lease.min(MAX_SLEEP)
        } else {
            MAX_SLEEP
        }
    }

    async fn pool(
        self: Arc<Self>,
        mut hints: mpsc::UnboundedReceiver<(Hint, tokio::time::Instant)>,
    ) {
        let mut notices = self.store.subscribe();
        // At start: claim what a previous run left due.
        let mut claim = true;
        let mut look = false;
        let mut retry_pause = FIRST_RETRY_PAUSE;
        loop {
            if self.stopping.load(Ordering::SeqCst) {
                return;
            }
            if claim || look {
                let outcome = if claim {
                    self.scan().await
                } else {
                    self.look().await
                };
                (claim, look) = (false, false);
                match outcome {
                    Ok(Scan::Full | Scan::Due) => {
                        claim = true;
                        continue;
                    }
                    Ok(Scan::Missed) => {
                        // Due, yet nothing was claimed: try again after a pause.
                        self.note_wake(now_ms() + retry_pause.as_millis() as i64);
                        retry_pause = (retry_pause * 2).min(MAX_RETRY_PAUSE);
                    }
                    Ok(Scan::Planned) => retry_pause = FIRST_RETRY_PAUSE,
                    Err(error) => {
                        self.metrics.store_error(&error);
                        tracing::warn!(error = %error_chain(&error), "looking for due work failed");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        claim = true;
                        continue;
                    }
                }
            }
            let now = now_ms();
            let wake_at = self.next_wake.load(Ordering::SeqCst);
            let sleep = Duration::from_millis(u64::try_from(wake_at - now).unwrap_or(0))
                .min(self.look_period());
            tokio::select! {
                hint = hints.recv() => match hint {
                    Some((hint, since)) => self.dispatch(hint, since).await,
                    None => return,
                },
                notice = notices.recv() => match notice {
                    Ok(WorkNotice::Work) | Err(_) => claim = true,
                    Ok(WorkNotice::Ended(_) | WorkNotice::Schedules) => {}
                },
                _ = tokio::time::sleep(sleep) => look = true,
                // An earlier wake-up was noted: sleep again, until it.
                _ = self.wake.notified() => {}
            }
        }
    }

    /// Claims due executions (as many as there are free workers), then plans the next
    /// wake-up from the store's.
    async fn scan(self: &Arc<Self>) -> StoreResult<Scan> {
        let since = tokio::time::Instant::now();
        let free = self.permits.available_permits().max(1) as i64;
        self.next_wake.store(i64::MAX, Ordering::SeqCst);
        let claimed = self.store.claim_due(&self.claim(), free).await?;
        let count = claimed.len() as i64;
        for execution in claimed {
            self.dispatch(Hint::Claimed(Box::new(execution)), since)
                .await;
        }
        if count >= free {
            return Ok(Scan::Full);
        }
        let wakeups = self.store.next_wakeups().await?;
        Ok(self.plan(wakeups, Some(count > 0)))
    }

    /// Reads the store's wake-ups; claims only if something is due.
    async fn look(self: &Arc<Self>) -> StoreResult<Scan> {
        self.next_wake.store(i64::MAX, Ordering::SeqCst);
        let wakeups = self.store.next_wakeups().await?;
        Ok(self.plan(wakeups, None))
    }

    /// Notes the next wake-up; `Due` if something is due now. After a claim (`claimed_some`)
    /// that got something, more may have become due meanwhile: claim again; after one that
    /// got nothing, what the store calls due could not be claimed: `Missed`.
    fn plan(&self, wakeups: Wakeups, claimed_some: Option<bool>) -> Scan {
        let now = now_ms();
        let mut outcome = Scan::Planned;
        match wakeups.execution_due {
            Some(due) if due <= now => {
                outcome = match claimed_some {
                    Some(false) => Scan::Missed,
                    None | Some(true) => Scan::Due,
                };
            }
            Some(due) => self.note_wake(due),
            None => {}
        }
        match wakeups.call_lease_expiry {
            // Its replica stopped renewing it (`reap_lost_calls` takes `lease_until < now`).
            Some(expiry) if expiry < now => self.request_reap(),
            Some(expiry) => self.note_wake(expiry + 1),
            None => {}
        }
        outcome
    }

    pub(super) async fn dispatch(self: &Arc<Self>, hint: Hint, since: tokio::time::Instant) {
        let Ok(permit) = self.permits.clone().acquire_owned().await else {
            return;
        };
        self.metrics
            .claim_lag_seconds
            .observe(since.elapsed().as_secs_f64());
        let runtime = self.clone();
        tokio::spawn(async move {
            let claimed = match hint {
                Hint::Claimed(claimed) => Some(*claimed),
                Hint::Execution(id) => {
                    match runtime.store.claim_execution(&id, &runtime.claim()).await {
                        Ok(ClaimAttempt::Claimed(claimed)) => Some(*claimed),
                        // The holder commits soon and sees the signal then (or it is due again).
                        Ok(ClaimAttempt::Busy | ClaimAttempt::NotRunning) => None,
                        Err(error) => {
                            runtime.metrics.store_error(&error);
                            tracing::warn!(error = %error_chain(&error), execution_id = %id, "claiming an execution failed");
                            None
                        }
                    }
                }
            };
            if let Some(claimed) = claimed
                && let Err(error) = runtime.advance(claimed, None).await
            {
                runtime.metrics.store_error(&error);
                tracing::warn!(error = %error_chain(&error), "advancing an execution failed");
            }
            drop(permit);
        });
    }

    /// Renews this replica's leases (execution and task call) while it holds any, and turns
    /// other replicas' expired call leases into `CallLost` signals when the pool found some.
    /// A replica that holds nothing writes nothing.
    async fn heartbeat(self: Arc<Self>) {
        let period = (self.config.lease / 3).max(Duration::from_millis(100));
        loop {
            tokio::select! {
                _ = tokio::time::sleep(period) => {}
                _ = self.reap_wanted.notified() => {}
            }
            if self.stopping.load(Ordering::SeqCst) {
                return;
            }
            let now = now_ms();
            let holding = self.leases_held.load(Ordering::SeqCst) > 0
                || self.calls_in_flight.load(Ordering::SeqCst) > 0;
            if holding {
                if let Err(error) = self
                    .store
                    .heartbeat(&self.config.owner, now + self.lease_ms())
                    .await
                {
                    tracing::warn!(error = %error_chain(&error), "renewing leases failed");
                    // Our own call leases may have run out (the database was away): reaping
                    // now would take the calls we are making for lost ones. Renew first.
                    continue;
                }
                match self.store.due_count(now).await {
                    Ok(depth) => self.metrics.queue_depth.set(depth),
                    Err(error) => self.metrics.store_error(&error),
                }
            } else {
                self.metrics.queue_depth.set(0);
            }
            if !self.reap_pending.swap(false, Ordering::SeqCst) {
                continue;
            }
            match self.store.reap_lost_calls(now).await {
                Ok(0) => {}
                Ok(lost) => {
                    self.metrics.lease_takeovers.inc_by(lost);
                    tracing::warn!(lost, "task calls of a stopped replica are made again");
                    let _ = self.store.notify(WorkNotice::Work).await;
                }
                Err(error) => {
                    tracing::warn!(error = %error_chain(&error), "reaping lost calls failed");
                    self.reap_pending.store(true, Ordering::SeqCst);
                }
            }
        }
    }
}

/// What a scan or a look found.
enum Scan {
    /// A full batch was claimed: there may be more.
    Full,
    /// Something is due now: claim.
    Due,
    /// Something is due, and a claim got nothing.
    Missed,
    /// Nothing is due; the next wake-up is noted.
    Planned,
}

/// A lease on an execution held by this replica (an advance running), which the heartbeat
/// renews while any is held.
pub(super) struct LeaseHold {
    runtime: Arc<Runtime>,
    lease_until: i64,
}

impl Drop for LeaseHold {
    fn drop(&mut self) {
        self.runtime.leases_held.fetch_sub(1, Ordering::SeqCst);
        // An advance that panicked leaves its lease stored: the execution is due again when
        // the lease runs out, which the pool may not know of.
        if std::thread::panicking() {
            self.runtime.note_wake(self.lease_until + 1);
        }
    }
}
