//! Group commit for the hot writes: callers hand their write to a batcher and wait; writer
//! tasks take whatever has queued up (while the previous transaction was running) and write
//! it in one transaction. Under load, batches grow by themselves; alone, a write goes at once.
//!
//! Each writer runs under a supervisor: a writer that panics fails the writes of the batch it
//! held (their callers hear the store is unavailable) and is started again after a pause,
//! counted in `fnf_batch_writer_restarts_total`. While a writer is down the replica reports
//! not ready.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Mutex, mpsc, oneshot};

use super::{Store, StoreError, StoreResult, WriteOp, WriteResult};
use crate::metrics::Metrics;

/// Writes per transaction at most.
const MAX_BATCH: usize = 256;

/// The pause before a failed writer starts again, doubling while it keeps failing soon after
/// starting: a writer that cannot run does not spin.
const FIRST_RESTART_PAUSE: Duration = Duration::from_millis(100);
const MAX_RESTART_PAUSE: Duration = Duration::from_secs(5);
/// A writer that ran this long before failing starts again after the first pause.
const HEALTHY_RUN: Duration = Duration::from_secs(60);

struct Pending {
    op: WriteOp,
    reply: oneshot::Sender<StoreResult<WriteResult>>,
}

type Queue = Arc<Mutex<mpsc::UnboundedReceiver<Pending>>>;

#[derive(Clone)]
pub struct Batcher {
    sender: mpsc::UnboundedSender<Pending>,
    writers: Arc<Writers>,
}

/// The state of the writer tasks, shared with their supervisors.
struct Writers {
    /// Writers not running (not started yet, or failed and waiting to start again).
    down: AtomicUsize,
    /// Test hook: while set, writers panic when they start or take a batch.
    #[cfg(debug_assertions)]
    failing: AtomicBool,
}

impl Writers {
    /// Panics while the test hook says so (never in release builds).
    fn failpoint(&self) {
        #[cfg(debug_assertions)]
        if self.failing.load(Ordering::SeqCst) {
            panic!("writer failure injected by a test");
        }
    }
}

impl Batcher {
    /// Starts `writers` supervised writer tasks (transactions in flight at once).
    pub fn start(store: Arc<dyn Store>, writers: usize, metrics: Arc<Metrics>) -> Batcher {
        let (sender, receiver) = mpsc::unbounded_channel();
        let queue: Queue = Arc::new(Mutex::new(receiver));
        let writers = writers.max(1);
        let state = Arc::new(Writers {
            down: AtomicUsize::new(writers),
            #[cfg(debug_assertions)]
            failing: AtomicBool::new(false),
        });
        for _ in 0..writers {
            tokio::spawn(supervise(
                store.clone(),
                queue.clone(),
                metrics.clone(),
                state.clone(),
            ));
        }
        Batcher {
            sender,
            writers: state,
        }
    }

    pub async fn write(&self, op: WriteOp) -> StoreResult<WriteResult> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Pending { op, reply })
            .map_err(|_| StoreError::unavailable("the store is shutting down"))?;
        answer
            .await
            .map_err(|_| StoreError::unavailable("the store writer stopped"))?
    }

    /// Whether every writer runs (`/readyz`).
    pub fn healthy(&self) -> bool {
        self.writers.down.load(Ordering::SeqCst) == 0
    }

    /// Test hook (debug builds only): while `failing`, writers panic as they start and as
    /// they take a batch, so a test can watch them fail and be restarted.
    #[cfg(debug_assertions)]
    pub fn fail_writers_for_tests(&self, failing: bool) {
        self.writers.failing.store(failing, Ordering::SeqCst);
    }
}

/// Runs a writer, and starts it again whenever it fails, until the queue closes (the batcher
/// is gone).
async fn supervise(
    store: Arc<dyn Store>,
    queue: Queue,
    metrics: Arc<Metrics>,
    writers: Arc<Writers>,
) {
    let slot = Arc::new(AtomicBool::new(false));
    let mut pause = FIRST_RESTART_PAUSE;
    loop {
        let started = tokio::time::Instant::now();
        let writer = tokio::spawn(write_batches(
            store.clone(),
            queue.clone(),
            metrics.clone(),
            writers.clone(),
            slot.clone(),
        ));
        let error = match writer.await {
            Ok(()) => return,
            Err(error) => error,
        };
        if slot.swap(false, Ordering::SeqCst) {
            writers.down.fetch_add(1, Ordering::SeqCst);
        }
        metrics.batch_writer_restarts.inc();
        if started.elapsed() >= HEALTHY_RUN {
            pause = FIRST_RESTART_PAUSE;
        }
        tracing::error!(%error, restart_in = ?pause, "a store writer failed; starting it again");
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_RESTART_PAUSE);
    }
}

/// A writer: takes batches off the queue and writes them. `up` is its slot's state, set once
/// it runs.
async fn write_batches(
    store: Arc<dyn Store>,
    queue: Queue,
    metrics: Arc<Metrics>,
    writers: Arc<Writers>,
    up: Arc<AtomicBool>,
) {
    writers.failpoint();
    if !up.swap(true, Ordering::SeqCst) {
        writers.down.fetch_sub(1, Ordering::SeqCst);
    }
    loop {
        let batch = {
            let mut receiver = queue.lock().await;
            let Some(first) = receiver.recv().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(pending) => batch.push(pending),
                    Err(_) => break,
                }
            }
            batch
        };
        writers.failpoint();
        metrics.batch_writes.observe(batch.len() as f64);
        let (ops, replies): (Vec<WriteOp>, Vec<_>) =
            batch.into_iter().map(|p| (p.op, p.reply)).unzip();
        match store.write_batch(&ops).await {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(Ok(result));
                }
            }
            Err(error) if retry_one_by_one(&error, ops.len()) => {
                for (op, reply) in ops.into_iter().zip(replies) {
                    let result = store.write_batch(std::slice::from_ref(&op)).await.and_then(
                        |mut results| {
                            results
                                .pop()
                                .ok_or_else(|| StoreError::internal("no write result"))
                        },
                    );
                    let _ = reply.send(result);
                }
            }
            Err(error) => {
                for reply in replies {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}

/// One bad write must not fail the others: after a failed batch, its writes are made one by
/// one. Not when the database is unreachable: each would fail the same way, after as many
/// more timeouts, multiplying load and latency during an outage.
fn retry_one_by_one(error: &StoreError, writes: usize) -> bool {
    writes > 1 && !error.is_unavailable()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_fails_the_whole_batch_at_once() {
        let down = StoreError::unavailable("connection refused");
        assert!(!retry_one_by_one(&down, 10));
        let bad = StoreError::internal("constraint");
        assert!(retry_one_by_one(&bad, 10));
        assert!(!retry_one_by_one(&bad, 1));
    }
}
