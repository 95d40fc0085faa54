//! Group commit for the hot writes: callers hand their write to a batcher and wait; writer
//! tasks take whatever has queued up (while the previous transaction was running) and write
//! it in one transaction. Under load, batches grow by themselves; alone, a write goes at once.

use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

use super::{Store, StoreError, StoreResult, WriteOp, WriteResult};
use crate::metrics::Metrics;

/// Writes per transaction at most.
const MAX_BATCH: usize = 256;

struct Pending {
    op: WriteOp,
    reply: oneshot::Sender<StoreResult<WriteResult>>,
}

#[derive(Clone)]
pub struct Batcher {
    sender: mpsc::UnboundedSender<Pending>,
}

impl Batcher {
    /// Starts `writers` writer tasks (transactions in flight at once).
    pub fn start(store: Arc<dyn Store>, writers: usize, metrics: Arc<Metrics>) -> Batcher {
        let (sender, receiver) = mpsc::unbounded_channel();
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..writers.max(1) {
            tokio::spawn(write_batches(
                store.clone(),
                receiver.clone(),
                metrics.clone(),
            ));
        }
        Batcher { sender }
    }

    pub async fn write(&self, op: WriteOp) -> StoreResult<WriteResult> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Pending { op, reply })
            .map_err(|_| StoreError::Unavailable("the store is shutting down".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the store writer stopped".into()))?
    }
}

async fn write_batches(
    store: Arc<dyn Store>,
    receiver: Arc<Mutex<mpsc::UnboundedReceiver<Pending>>>,
    metrics: Arc<Metrics>,
) {
    loop {
        let batch = {
            let mut receiver = receiver.lock().await;
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
                                .ok_or_else(|| StoreError::Internal("no write result".into()))
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
    writes > 1 && !matches!(error, StoreError::Unavailable(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_fails_the_whole_batch_at_once() {
        let down = StoreError::Unavailable("connection refused".into());
        assert!(!retry_one_by_one(&down, 10));
        let bad = StoreError::Internal("constraint".into());
        assert!(retry_one_by_one(&bad, 10));
        assert!(!retry_one_by_one(&bad, 1));
    }
}
