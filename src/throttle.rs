//! Request throttling (docs/COMPATIBILITY.md#limits): one token bucket per AccessKey, off unless configured.
//! Over the limit → `429 ResourceThrottled`, without `x-acs-retry-after` (docs/COMPATIBILITY.md#error-responses).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::error::ApiError;
use crate::store::Store;

pub struct Throttle {
    limit: Option<Limit>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Limit {
    /// Tokens added per second.
    rate: f64,
    /// Bucket size.
    burst: f64,
}

struct Bucket {
    tokens: f64,
    refilled: Instant,
}

impl Throttle {
    /// `rate` requests per second per key with bursts of `burst` (default: one second's
    /// worth); `None` turns throttling off.
    pub fn new(rate: Option<f64>, burst: Option<u32>) -> Self {
        let limit = rate.filter(|r| *r > 0.0).map(|rate| Limit {
            rate,
            burst: burst.map_or(rate.max(1.0), |b| f64::from(b.max(1))),
        });
        Throttle {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn disabled() -> Self {
        Throttle::new(None, None)
    }

    /// Takes one token for the key, or refuses the request. With a store shared by several
    /// replicas the buckets live in it, so the limit holds across them.
    pub async fn admit(&self, store: &dyn Store, access_key_id: &str) -> Result<(), ApiError> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        if store.is_shared() {
            let now = crate::time::now_ms();
            return if store
                .take_token(access_key_id, now, limit.rate, limit.burst)
                .await?
            {
                Ok(())
            } else {
                Err(limit.refusal(access_key_id))
            };
        }
        self.admit_locally(limit, access_key_id)
    }

    fn admit_locally(&self, limit: Limit, access_key_id: &str) -> Result<(), ApiError> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets.entry(access_key_id.to_string()).or_insert(Bucket {
            tokens: limit.burst,
            refilled: now,
        });
        let elapsed = now.duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * limit.rate).min(limit.burst);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(limit.refusal(access_key_id))
        }
    }
}

impl Limit {
    fn refusal(&self, access_key_id: &str) -> ApiError {
        ApiError::resource_throttled(&format!(
            "more than {} requests per second for AccessKey {access_key_id}",
            self.rate
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_and_refuses_past_the_burst() {
        let off = Throttle::disabled();
        assert!(off.limit.is_none());
        let throttle = Throttle::new(Some(1.0), Some(3));
        let limit = throttle.limit.unwrap();
        for _ in 0..3 {
            assert!(throttle.admit_locally(limit, "k").is_ok());
        }
        let refused = throttle.admit_locally(limit, "k").unwrap_err();
        assert_eq!(refused.code, crate::error::ErrorCode::ResourceThrottled);
        // Buckets are per key.
        assert!(throttle.admit_locally(limit, "other").is_ok());
    }
}
