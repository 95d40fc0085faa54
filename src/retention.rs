//! Retention: ended executions are deleted, with their history, once they are older than
//! `--retention-days`, and their names can be used again (as in the cloud, which keeps closed
//! executions for a limited time).
//!
//! A background task looks every tenth of the retention (between a second and an hour) and
//! deletes short batches until one comes back short, pausing between batches so that the
//! writes of starts and advances are never held up for long. On Postgres one replica deletes
//! at a time (the store's advisory lock); the others find nothing to do meanwhile. At most
//! once a minute after deleting, the store is asked to make the freed space reusable (on a
//! Postgres running without autovacuum, the replica that deleted vacuums, beside its next
//! deletes rather than before them).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::error::error_chain;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::time::now_ms;

/// Executions deleted per transaction.
const BATCH: i64 = 500;
/// The pause between two batches of one pass.
const BATCH_PAUSE: Duration = Duration::from_millis(5);
/// Bounds of the period between passes.
const MIN_PERIOD: Duration = Duration::from_secs(1);
const MAX_PERIOD: Duration = Duration::from_secs(3600);
const MS_PER_DAY: f64 = 86_400_000.0;
/// Space is reclaimed after passes that deleted something, at most this often.
const RECLAIM_EVERY: Duration = Duration::from_secs(60);

/// The background task deleting ended executions past their retention.
pub struct Retention {
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    /// How long an ended execution is kept, ms.
    keep_ms: i64,
    wake: Notify,
    stopping: AtomicBool,
}

impl Retention {
    /// The task for `--retention-days`; none when retention is 0 (everything is kept).
    pub fn new(store: Arc<dyn Store>, metrics: Arc<Metrics>, days: f64) -> Option<Arc<Retention>> {
        if days.is_nan() || days <= 0.0 {
            return None;
        }
        // A retention under a millisecond is one millisecond (the store's resolution).
        let keep_ms = (days * MS_PER_DAY).round().clamp(1.0, i64::MAX as f64) as i64;
        Some(Arc::new(Retention {
            store,
            metrics,
            keep_ms,
            wake: Notify::new(),
            stopping: AtomicBool::new(false),
        }))
    }

    /// A tenth of the retention, between a second and an hour.
    pub fn period(&self) -> Duration {
        let tenth = Duration::from_millis((self.keep_ms / 10) as u64);
        tenth.clamp(MIN_PERIOD, MAX_PERIOD)
    }

    pub fn spawn(self: &Arc<Self>) -> JoinHandle<()> {
        tokio::spawn(self.clone().run())
    }

    /// Stops the task (a batch being deleted commits first).
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    async fn run(self: Arc<Self>) {
        let mut unreclaimed = 0u64;
        let mut last_reclaim = Instant::now();
        // Reclaiming (a VACUUM of large tables) runs beside the deletes, one at a time: were
        // the deletes to wait for it, they would fall behind a busy server's inserts.
        let mut reclaiming: Option<JoinHandle<()>> = None;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(self.period()) => {}
                _ = self.wake.notified() => {}
            }
            if self.stopping.load(Ordering::SeqCst) {
                if let Some(reclaiming) = reclaiming {
                    reclaiming.abort();
                }
                return;
            }
            unreclaimed += self.pass().await;
            let idle = reclaiming.as_ref().is_none_or(JoinHandle::is_finished);
            if idle && unreclaimed > 0 && last_reclaim.elapsed() >= RECLAIM_EVERY {
                reclaiming = Some(tokio::spawn(self.clone().reclaim()));
                unreclaimed = 0;
                last_reclaim = Instant::now();
            }
        }
    }

    /// Lets the store reuse the deleted rows' space (see `RetentionStore::reclaim_space`).
    async fn reclaim(self: Arc<Self>) {
        if let Err(error) = self.store.reclaim_space().await {
            self.metrics.store_error(&error);
            tracing::warn!(error = %error_chain(&error), "reclaiming deleted rows' space failed");
        }
    }

    /// Deletes batches until one comes back short; returns how many executions it deleted.
    async fn pass(&self) -> u64 {
        let cutoff = now_ms().saturating_sub(self.keep_ms);
        let mut deleted = 0u64;
        while !self.stopping.load(Ordering::SeqCst) {
            match self.store.delete_ended_executions(cutoff, BATCH).await {
                Ok(count) => {
                    deleted += count;
                    self.metrics.retention_deleted.inc_by(count);
                    if count < BATCH as u64 {
                        break;
                    }
                    tokio::time::sleep(BATCH_PAUSE).await;
                }
                Err(error) => {
                    self.metrics.store_error(&error);
                    tracing::warn!(error = %error_chain(&error), "deleting ended executions failed");
                    break;
                }
            }
        }
        if deleted > 0 {
            tracing::info!(
                deleted,
                retention_days = self.keep_ms as f64 / MS_PER_DAY,
                "deleted ended executions past their retention"
            );
        }
        deleted
    }
}
