//! The per-account limits (flows, running executions), enforced atomically on both stores and
//! across replicas: a transaction that could take an account past a limit first locks the
//! account, then counts. Concurrent transactions of one account, on any replica, thus count
//! one after the other, each seeing what the previous one committed.
//!
//! The lock is always the first one such a transaction takes, so it never waits for it while
//! holding a row another transaction waits for (no deadlock with the commits and signals that
//! touch execution rows).

use sha2::{Digest, Sha256};
use sqlx::{Postgres, Transaction};

use super::StoreResult;

/// Flows of an account (uses the `(account_id, name)` unique index).
pub(super) const COUNT_FLOWS: &str = "SELECT COUNT(*) FROM flows WHERE account_id = $1";

/// Running executions of an account that count against its limit (every one but the children
/// of distributed Maps), counting no further than `$2` (uses `executions_running_by_account`).
pub(super) const COUNT_RUNNING: &str = "SELECT COUNT(*) FROM (SELECT 1 FROM executions \
     WHERE account_id = $1 AND status = 'Running' AND map_run IS NULL LIMIT $2) AS running";

/// Takes Postgres advisory locks on these accounts until the transaction ends.
pub(super) async fn lock_with_advisory_locks(
    tx: &mut Transaction<'static, Postgres>,
    accounts: &[&str],
) -> StoreResult<()> {
    // One order for every transaction, so two that lock the same accounts cannot each
    // hold one the other waits for.
    let mut keys: Vec<i64> = accounts.iter().map(|account| lock_key(account)).collect();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(key)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The advisory-lock key of an account: 64 bits of a hash, under a prefix of our own so the
/// keys do not meet other users of advisory locks in a shared database. Two accounts sharing
/// a key only share a lock.
fn lock_key(account_id: &str) -> i64 {
    let digest = Sha256::new()
        .chain_update(b"fnf-account-limits:")
        .chain_update(account_id.as_bytes())
        .finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_are_stable_and_distinct() {
        assert_eq!(lock_key("1234"), lock_key("1234"));
        assert_ne!(lock_key("1234"), lock_key("1235"));
    }
}
