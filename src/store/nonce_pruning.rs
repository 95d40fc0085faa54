//! When expired nonces may need deleting. The pruner runs on a timer; without this it would
//! send a DELETE every period even to an idle store. A store remembers the expiries of the
//! nonces it recorded and prunes only once one of them has passed, and then each period until
//! the last one has: an idle replica sends nothing. Each replica prunes what it recorded (and
//! whatever else has expired by then); an expired nonce left behind by a replica that stopped
//! is harmless, as recording treats it as absent.

use std::sync::atomic::{AtomicI64, Ordering};

/// No prune pending.
const NONE: i64 = i64::MAX;
/// While recorded nonces remain, a prune at most this often: the table holds at most this
/// much more than the live nonces.
const PRUNE_AGAIN_AFTER_MS: i64 = 60_000;

#[derive(Debug)]
pub(super) struct NonceExpiries {
    /// The earliest expiry recorded and not yet pruned (an upper bound after a prune), epoch
    /// ms; `NONE` when nothing recorded waits.
    next_prune_at: AtomicI64,
    /// The latest expiry ever recorded, epoch ms.
    last_expiry: AtomicI64,
}

impl Default for NonceExpiries {
    fn default() -> Self {
        NonceExpiries {
            next_prune_at: AtomicI64::new(NONE),
            last_expiry: AtomicI64::new(i64::MIN),
        }
    }
}

impl NonceExpiries {
    /// Nonces expiring at these times were recorded.
    pub fn recorded(&self, expiries: impl IntoIterator<Item = i64>) {
        for expires_at in expiries {
            // The latest first: `pruned` reads it after replacing the due time.
            self.last_expiry.fetch_max(expires_at, Ordering::SeqCst);
            self.next_prune_at.fetch_min(expires_at, Ordering::SeqCst);
        }
    }

    /// Whether a recorded nonce has expired and may still be stored.
    pub fn prune_due(&self, now: i64) -> bool {
        self.next_prune_at.load(Ordering::SeqCst) <= now
    }

    /// Everything that expired before `now` is deleted. Nonces recorded since expire later,
    /// at the latest at `last_expiry`: prune again then, or a period later if that is sooner.
    pub fn pruned(&self, now: i64) {
        let after = |last: i64| {
            if last >= now {
                last.min(now.saturating_add(PRUNE_AGAIN_AFTER_MS))
            } else {
                NONE
            }
        };
        let last = self.last_expiry.load(Ordering::SeqCst);
        self.next_prune_at.store(after(last), Ordering::SeqCst);
        // A nonce recorded meanwhile may have lowered the due time before the store above
        // replaced it; its expiry shows in `last_expiry`.
        let latest = self.last_expiry.load(Ordering::SeqCst);
        if latest != last {
            self.next_prune_at
                .fetch_min(after(latest), Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_due_until_a_recorded_nonce_expires() {
        let expiries = NonceExpiries::default();
        assert!(!expiries.prune_due(i64::MAX - 1));
        expiries.recorded([5_000, 6_000]);
        assert!(!expiries.prune_due(4_999));
        assert!(expiries.prune_due(5_000));
        // Pruned at 5 500: 6 000 is left, so another prune follows when it expires.
        expiries.pruned(5_500);
        assert!(!expiries.prune_due(5_999));
        assert!(expiries.prune_due(6_000));
        // Pruned after the last expiry: nothing more until something is recorded.
        expiries.pruned(7_000);
        assert!(!expiries.prune_due(i64::MAX - 1));
        expiries.recorded([90_000, 500_000]);
        assert!(expiries.prune_due(90_000));
        // Nonces expire over a long window: pruned once a minute meanwhile.
        expiries.pruned(100_000);
        assert!(!expiries.prune_due(159_999));
        assert!(expiries.prune_due(160_000));
    }
}
