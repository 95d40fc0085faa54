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
            // One bad write must not fail the others: write them one by one.
            Err(_) if ops.len() > 1 => {
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
