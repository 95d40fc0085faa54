//! Where authentication keeps used nonces, per backend. Both write them through the group
//! commit ([`Batcher`]), so a nonce shares its transaction with whatever else is being
//! written at the time.
//!
//! * [`SharedNonces`]: several replicas share the store, so the store decides whether a
//!   nonce is new and the request waits for that answer.
//! * [`DurableNonces`]: one process owns the store (SQLite). Its memory decides at once; each
//!   accepted nonce is then written behind, and read back at the next start, so a restart
//!   does not forget them. Requests never wait for that write; a crash loses only the nonces
//!   of the last moments, still in flight (a clean stop writes them all).
//!
//! Expired nonces are pruned while nonces are being recorded, at most once a minute: a server
//! that receives no request writes nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::Notify;

use crate::auth::replay::{MemoryNonces, NonceLedger};
use crate::error::{ApiError, error_chain};
use crate::store::{Batcher, Store, StoreResult, UsedNonce, WriteOp, WriteResult};

/// How often expired nonces are pruned, at most.
const PRUNE_EVERY_MS: i64 = 60_000;

/// Nonces decided by a store that several replicas share.
pub struct SharedNonces {
    batcher: Batcher,
    retention: TimeDelta,
    pruner: Pruner,
}

impl SharedNonces {
    /// Keeps each nonce for `retention` (twice the accepted clock skew covers every replay
    /// the skew check lets in).
    pub fn new(store: Arc<dyn Store>, batcher: Batcher, retention: TimeDelta) -> Self {
        SharedNonces {
            batcher,
            retention,
            pruner: Pruner::new(store),
        }
    }
}

#[async_trait]
impl NonceLedger for SharedNonces {
    async fn first_use(
        &self,
        access_key_id: &str,
        nonce: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, ApiError> {
        self.pruner.prune_if_due(now);
        let op = WriteOp::Nonce(used_nonce(access_key_id, nonce, now, self.retention));
        Ok(self.batcher.write(op).await? == WriteResult::Nonce(true))
    }

    fn carried(&self, access_key_id: &str, nonce: &str, now: DateTime<Utc>) -> Option<UsedNonce> {
        self.pruner.prune_if_due(now);
        Some(used_nonce(access_key_id, nonce, now, self.retention))
    }
}

/// Nonces decided in this process's memory and written behind to its own store.
pub struct DurableNonces {
    window: MemoryNonces,
    batcher: Batcher,
    writes: Arc<WritesInFlight>,
    pruner: Pruner,
}

impl DurableNonces {
    /// A window that remembers, besides what it accepts from now on, every nonce the store
    /// still holds from earlier runs.
    pub async fn open(
        store: Arc<dyn Store>,
        batcher: Batcher,
        window: MemoryNonces,
        now: DateTime<Utc>,
    ) -> StoreResult<Self> {
        let retention = window.retention();
        let live = store
            .live_nonces(now.timestamp_millis(), window_capacity(&window))
            .await?;
        window.restore(live.iter().filter_map(|stored| {
            let expires = DateTime::<Utc>::from_timestamp_millis(stored.expires_at)?;
            let recorded = expires.checked_sub_signed(retention)?;
            Some((
                stored.access_key_id.as_str(),
                stored.nonce.as_str(),
                recorded,
            ))
        }));
        Ok(DurableNonces {
            window,
            batcher,
            writes: Arc::default(),
            pruner: Pruner::new(store),
        })
    }
}

fn window_capacity(window: &MemoryNonces) -> i64 {
    i64::try_from(window.capacity()).unwrap_or(i64::MAX)
}

#[async_trait]
impl NonceLedger for DurableNonces {
    async fn first_use(
        &self,
        access_key_id: &str,
        nonce: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, ApiError> {
        if !self.window.check_and_record(access_key_id, nonce, now) {
            return Ok(false);
        }
        self.pruner.prune_if_due(now);
        let op = WriteOp::Nonce(used_nonce(
            access_key_id,
            nonce,
            now,
            self.window.retention(),
        ));
        let batcher = self.batcher.clone();
        let writes = self.writes.clone();
        writes.started();
        tokio::spawn(async move {
            if let Err(error) = batcher.write(op).await {
                tracing::warn!(error = %error_chain(&error), "a used nonce could not be stored");
            }
            writes.finished();
        });
        Ok(true)
    }

    async fn flush(&self) {
        self.writes.idle().await;
    }
}

fn used_nonce(
    access_key_id: &str,
    nonce: &str,
    now: DateTime<Utc>,
    retention: TimeDelta,
) -> UsedNonce {
    let now = now.timestamp_millis();
    UsedNonce {
        access_key_id: access_key_id.to_string(),
        nonce: nonce.to_string(),
        now,
        expires_at: now.saturating_add(retention.num_milliseconds()),
    }
}

/// Deletes expired nonces now and then, in the background.
struct Pruner {
    store: Arc<dyn Store>,
    /// When the last prune started (epoch ms).
    last: AtomicI64,
}

impl Pruner {
    fn new(store: Arc<dyn Store>) -> Self {
        Pruner {
            store,
            last: AtomicI64::new(0),
        }
    }

    fn prune_if_due(&self, now: DateTime<Utc>) {
        let now = now.timestamp_millis();
        let last = self.last.load(Ordering::Relaxed);
        let due = now.saturating_sub(last) >= PRUNE_EVERY_MS;
        // One caller wins the minute; the others go on.
        if !due
            || self
                .last
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let store = self.store.clone();
        tokio::spawn(async move {
            if let Err(error) = store.prune_nonces(now).await {
                tracing::warn!(error = %error_chain(&error), "pruning nonces failed");
            }
        });
    }
}

/// Counts writes still in flight and wakes whoever waits for none.
#[derive(Default)]
struct WritesInFlight {
    count: AtomicUsize,
    idle: Notify,
}

impl WritesInFlight {
    fn started(&self) {
        self.count.fetch_add(1, Ordering::SeqCst);
    }

    fn finished(&self) {
        if self.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }

    async fn idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}
