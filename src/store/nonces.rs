//! Where authentication keeps used nonces in a store several replicas share: the store
//! decides whether a nonce is new, group-committed ([`Batcher`]) with whatever else is being
//! written at the time.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use super::{Batcher, WriteOp, WriteResult};
use crate::auth::replay::NonceLedger;
use crate::error::ApiError;

/// Nonces decided by a store that several replicas share.
pub struct SharedNonces {
    batcher: Batcher,
    retention: TimeDelta,
}

impl SharedNonces {
    /// Keeps each nonce for `retention` (twice the accepted clock skew covers every replay
    /// the skew check lets in).
    pub fn new(batcher: Batcher, retention: TimeDelta) -> Self {
        SharedNonces { batcher, retention }
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
        let op = nonce_op(access_key_id, nonce, now, self.retention);
        Ok(self.batcher.write(op).await? == WriteResult::Nonce(true))
    }
}

fn nonce_op(access_key_id: &str, nonce: &str, now: DateTime<Utc>, retention: TimeDelta) -> WriteOp {
    let now = now.timestamp_millis();
    WriteOp::Nonce {
        access_key_id: access_key_id.to_string(),
        nonce: nonce.to_string(),
        now,
        expires_at: now.saturating_add(retention.num_milliseconds()),
    }
}
