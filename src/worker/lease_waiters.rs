//! Task reports meeting an execution that an advance of this process holds.
//!
//! A report often arrives while the execution is being advanced (the call that handed out
//! its token is still being recorded). Rather than wait for that advance to end and then
//! claim and commit on its own, the report hands its signal over: an advance that has not
//! yet run the engine takes it, applies it with the signals it read, and answers the report
//! once its commit is stored. A report nobody took is withdrawn when the holder gives the
//! lease back (it is woken then, not on a timer) and makes its own advance; polling stays
//! the fallback for a lease held by another replica.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, oneshot};

use crate::engine::state::SignalPayload;

/// What the advance that took a report tells it once its commit is stored: the report's
/// event id, or `None` when the report no longer applied (the attempt was not waiting).
/// A dropped sender means the advance did not commit: the report goes on by itself.
pub(super) type HandoffReply = Option<i64>;

#[derive(Default)]
pub(super) struct LeaseWaiters {
    /// Waiters registered; lets an advance skip the lock when nobody waits (the usual case).
    waiting: AtomicUsize,
    next_ticket: AtomicU64,
    by_execution: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    notify: Arc<Notify>,
    waiters: usize,
    handed: Vec<Handed>,
}

/// A report's signal, waiting for an advance to take it.
pub(super) struct Handed {
    ticket: u64,
    pub(super) signal: SignalPayload,
    pub(super) reply: oneshot::Sender<HandoffReply>,
}

impl LeaseWaiters {
    /// Registers a wait on `execution_id` until the returned guard drops.
    pub(super) fn register(&self, execution_id: &str) -> LeaseWaiter<'_> {
        let mut by_execution = self.locked();
        let entry = by_execution
            .entry(execution_id.to_string())
            .or_insert_with(|| Entry {
                notify: Arc::new(Notify::new()),
                waiters: 0,
                handed: Vec::new(),
            });
        entry.waiters += 1;
        self.waiting.fetch_add(1, Ordering::SeqCst);
        LeaseWaiter {
            waiters: self,
            execution_id: execution_id.to_string(),
            notify: entry.notify.clone(),
            handed: AtomicU64::new(NO_TICKET),
        }
    }

    /// The reports handed over for `execution_id`, taken by an advance about to run the
    /// engine; it must answer each through its `reply` once its commit is stored.
    pub(super) fn take(&self, execution_id: &str) -> Vec<Handed> {
        if self.waiting.load(Ordering::SeqCst) == 0 {
            return Vec::new();
        }
        self.locked()
            .get_mut(execution_id)
            .map(|entry| std::mem::take(&mut entry.handed))
            .unwrap_or_default()
    }

    /// An advance of this process on `execution_id` has ended: its lease is back in the store.
    pub(super) fn released(&self, execution_id: &str) {
        if self.waiting.load(Ordering::SeqCst) == 0 {
            return;
        }
        if let Some(entry) = self.locked().get(execution_id) {
            entry.notify.notify_waiters();
        }
    }

    fn locked(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.by_execution.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One report's registration.
pub(super) struct LeaseWaiter<'a> {
    waiters: &'a LeaseWaiters,
    execution_id: String,
    notify: Arc<Notify>,
    /// The ticket of its signal while handed over (`NO_TICKET`: none), withdrawn on drop: a
    /// report whose request went away is not applied later.
    handed: AtomicU64,
}

const NO_TICKET: u64 = 0;

impl LeaseWaiter<'_> {
    /// Woken (`notify_waiters`) when an advance of this process releases the lease. Enable
    /// the `notified()` future before looking at the lease, so a release in between counts.
    pub(super) fn notify(&self) -> &Notify {
        &self.notify
    }

    /// Hands `signal` to the next advance of this execution in this process; returns the
    /// ticket to withdraw it with and where the answer comes.
    pub(super) fn hand_over(
        &self,
        signal: SignalPayload,
    ) -> (u64, oneshot::Receiver<HandoffReply>) {
        let ticket = self.waiters.next_ticket.fetch_add(1, Ordering::Relaxed) + 1;
        self.handed.store(ticket, Ordering::SeqCst);
        let (reply, answer) = oneshot::channel();
        if let Some(entry) = self.waiters.locked().get_mut(&self.execution_id) {
            entry.handed.push(Handed {
                ticket,
                signal,
                reply,
            });
        }
        (ticket, answer)
    }

    /// Takes a handed-over signal back; false when an advance has already taken it (its
    /// answer, or the drop of its sender, is then on the way).
    pub(super) fn withdraw(&self, ticket: u64) -> bool {
        let mut by_execution = self.waiters.locked();
        let Some(entry) = by_execution.get_mut(&self.execution_id) else {
            return false;
        };
        let before = entry.handed.len();
        entry.handed.retain(|handed| handed.ticket != ticket);
        entry.handed.len() < before
    }
}

impl Drop for LeaseWaiter<'_> {
    fn drop(&mut self) {
        let handed = self.handed.load(Ordering::SeqCst);
        let mut by_execution = self.waiters.locked();
        if let Some(entry) = by_execution.get_mut(&self.execution_id) {
            entry.handed.retain(|other| other.ticket != handed);
            entry.waiters -= 1;
            if entry.waiters == 0 {
                by_execution.remove(&self.execution_id);
            }
        }
        self.waiters.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::engine::state::TaskOutcome;

    fn callback(entered_id: i64) -> SignalPayload {
        SignalPayload::Callback {
            entered_id,
            attempt: 0,
            outcome: TaskOutcome::Success(serde_json::json!({})),
            submitted: None,
        }
    }

    #[tokio::test]
    async fn a_release_wakes_the_waiters_of_its_execution_only() {
        let waiters = LeaseWaiters::default();
        let mine = waiters.register("a");
        let other = waiters.register("b");
        let woken = mine.notify().notified();
        let not_woken = other.notify().notified();
        tokio::pin!(woken, not_woken);
        woken.as_mut().enable();
        not_woken.as_mut().enable();
        waiters.released("a");
        tokio::time::timeout(Duration::from_secs(5), woken)
            .await
            .expect("the waiter on the released execution wakes");
        assert!(
            tokio::time::timeout(Duration::from_millis(20), not_woken)
                .await
                .is_err(),
            "a release wakes no other execution's waiter"
        );
    }

    #[tokio::test]
    async fn a_handed_report_is_taken_once_and_answered_through_its_reply() {
        let waiters = LeaseWaiters::default();
        let waiter = waiters.register("a");
        let (ticket, answer) = waiter.hand_over(callback(7));
        assert!(waiters.take("b").is_empty(), "another execution's advance");
        let taken = waiters.take("a");
        assert_eq!(taken.len(), 1);
        assert!(waiters.take("a").is_empty(), "taken once");
        assert!(!waiter.withdraw(ticket), "too late to withdraw");
        let Handed { signal, reply, .. } = taken.into_iter().next().unwrap();
        assert!(matches!(
            signal,
            SignalPayload::Callback { entered_id: 7, .. }
        ));
        reply.send(Some(12)).unwrap();
        assert_eq!(answer.await.unwrap(), Some(12));
    }

    #[tokio::test]
    async fn a_withdrawn_report_is_not_taken_and_a_dropped_taker_says_so() {
        let waiters = LeaseWaiters::default();
        let waiter = waiters.register("a");
        let (ticket, _answer) = waiter.hand_over(callback(1));
        assert!(waiter.withdraw(ticket));
        assert!(waiters.take("a").is_empty());
        let (_, answer) = waiter.hand_over(callback(2));
        drop(waiters.take("a"));
        assert!(
            answer.await.is_err(),
            "an advance that did not commit drops the reply"
        );
    }

    #[test]
    fn a_waiter_that_goes_takes_its_handed_report_along() {
        let waiters = LeaseWaiters::default();
        let staying = waiters.register("a");
        let leaving = waiters.register("a");
        let (_, _staying_answer) = staying.hand_over(callback(1));
        let (_, _leaving_answer) = leaving.hand_over(callback(2));
        drop(leaving);
        let taken = waiters.take("a");
        assert_eq!(taken.len(), 1);
        assert!(matches!(
            taken[0].signal,
            SignalPayload::Callback { entered_id: 1, .. }
        ));
    }

    #[test]
    fn the_last_waiter_leaves_nothing_behind() {
        let waiters = LeaseWaiters::default();
        let first = waiters.register("a");
        let second = waiters.register("a");
        drop(first);
        assert_eq!(waiters.locked().len(), 1);
        drop(second);
        assert!(waiters.locked().is_empty());
        assert_eq!(waiters.waiting.load(Ordering::SeqCst), 0);
    }
}
