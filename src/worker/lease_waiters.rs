//! Task reports waiting for an advance of this process to give an execution's lease back.
//!
//! A report often arrives while the execution is being advanced (the call that handed out
//! its token is still being recorded). Instead of polling the store on a timer, it waits
//! here and is woken the moment that advance ends; polling stays as the fallback for a
//! lease held by another replica.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

#[derive(Default)]
pub(super) struct LeaseWaiters {
    /// Waiters registered; lets an advance skip the lock when nobody waits (the usual case).
    waiting: AtomicUsize,
    by_execution: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    notify: Arc<Notify>,
    waiters: usize,
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
            });
        entry.waiters += 1;
        self.waiting.fetch_add(1, Ordering::SeqCst);
        LeaseWaiter {
            waiters: self,
            execution_id: execution_id.to_string(),
            notify: entry.notify.clone(),
        }
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

/// One report's registration; [`LeaseWaiter::notify`] is woken by each release.
pub(super) struct LeaseWaiter<'a> {
    waiters: &'a LeaseWaiters,
    execution_id: String,
    notify: Arc<Notify>,
}

impl LeaseWaiter<'_> {
    /// Woken (`notify_waiters`) when an advance of this process releases the lease. Enable
    /// the `notified()` future before looking at the lease, so a release in between counts.
    pub(super) fn notify(&self) -> &Notify {
        &self.notify
    }
}

impl Drop for LeaseWaiter<'_> {
    fn drop(&mut self) {
        let mut by_execution = self.waiters.locked();
        if let Some(entry) = by_execution.get_mut(&self.execution_id) {
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
