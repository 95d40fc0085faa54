//! Replay protection (docs/COMPATIBILITY.md#order-of-checks): the request timestamp must be close to the server clock,
//! and an (AccessKeyId, SignatureNonce) pair may be used once.
//!
//! The clock is always passed in (`now`), so everything here is testable without sleeping.

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use crate::error::ApiError;
use crate::store::UsedNonce;

/// The usual allowed clock difference for this API family (docs/COMPATIBILITY.md#order-of-checks).
pub const DEFAULT_MAX_SKEW: TimeDelta = TimeDelta::minutes(15);

/// Longest excerpt of a rejected timestamp quoted back in the error.
const MAX_QUOTED_CHARS: usize = 40;

/// The timestamp is not `YYYY-MM-DDThh:mm:ss[.fff]Z` / `…+00:00`. `Display` is phrased to
/// follow the field name (`Timestamp` or `x-acs-date`) in an `InvalidArgument` message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a UTC time like 2024-05-01T12:00:00Z, got '{excerpt}'")]
pub struct BadTimestamp {
    excerpt: String,
}

/// The request time is too far from the server time (`403 RequestTimeTooSkewed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("The difference between the request time and the server time is too large.")]
pub struct Skewed {
    /// Request time minus server time (negative: the request claims to be from the past).
    pub difference: TimeDelta,
}

/// Parses a request timestamp (docs/COMPATIBILITY.md#order-of-checks): `YYYY-MM-DDThh:mm:ssZ`, with an optional
/// fractional second (1–9 digits), and `+00:00` accepted in place of `Z`. Other offsets are
/// rejected: the contract says UTC, and every SDK sends `Z`.
pub fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, BadTimestamp> {
    parse_utc(text).ok_or_else(|| BadTimestamp {
        excerpt: text.chars().take(MAX_QUOTED_CHARS).collect(),
    })
}

fn parse_utc(text: &str) -> Option<DateTime<Utc>> {
    let bytes = text.as_bytes();
    // Fixed part: YYYY-MM-DDThh:mm:ss (19 bytes).
    let fixed = bytes.get(..19)?;
    let separators_ok = fixed[4] == b'-'
        && fixed[7] == b'-'
        && fixed[10] == b'T'
        && fixed[13] == b':'
        && fixed[16] == b':';
    if !separators_ok {
        return None;
    }
    let year = i32::try_from(digits(&fixed[0..4])?).ok()?;
    let month = digits(&fixed[5..7])?;
    let day = digits(&fixed[8..10])?;
    let hour = digits(&fixed[11..13])?;
    let minute = digits(&fixed[14..16])?;
    let second = digits(&fixed[17..19])?;

    let mut rest = &bytes[19..];
    let mut nanos = 0;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let length = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if !(1..=9).contains(&length) {
            return None;
        }
        let scale = 10_u32.pow(9 - u32::try_from(length).ok()?);
        nanos = digits(&fraction[..length])? * scale;
        rest = &fraction[length..];
    }
    if rest != b"Z" && rest != b"+00:00" {
        return None;
    }

    // `and_hms_nano_opt` also rejects second 60 and impossible dates such as 02-30.
    let time =
        NaiveDate::from_ymd_opt(year, month, day)?.and_hms_nano_opt(hour, minute, second, nanos)?;
    Some(time.and_utc())
}

/// Decimal value of a run of ASCII digits (at most 9, so it fits in `u32`).
fn digits(run: &[u8]) -> Option<u32> {
    run.iter().try_fold(0_u32, |value, &byte| {
        byte.is_ascii_digit()
            .then(|| value * 10 + u32::from(byte - b'0'))
    })
}

/// Accepts `timestamp` if it is within `max_skew` of `now`, in either direction.
pub fn check_skew(
    timestamp: DateTime<Utc>,
    now: DateTime<Utc>,
    max_skew: TimeDelta,
) -> Result<(), Skewed> {
    let difference = timestamp - now;
    if difference.abs() > max_skew {
        Err(Skewed { difference })
    } else {
        Ok(())
    }
}

/// Where accepted (AccessKeyId, nonce) pairs are remembered. Consulted only after the
/// signature verified, so forged requests cannot burn nonces.
#[async_trait]
pub trait NonceLedger: Send + Sync {
    /// Records the pair as used at `now`; `false` when it was already used within the
    /// window (a replay).
    async fn first_use(
        &self,
        access_key_id: &str,
        nonce: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, ApiError>;

    /// Returns once every pair accepted so far is stored durably (before a clean stop).
    async fn flush(&self) {}

    /// The pair as a write of the call can record it, when this ledger lets the store decide
    /// in that write whether it is new ([`crate::store::NewExecution::nonce`]); `None`: it
    /// must be checked with [`NonceLedger::first_use`].
    fn carried(
        &self,
        _access_key_id: &str,
        _nonce: &str,
        _now: DateTime<Utc>,
    ) -> Option<UsedNonce> {
        None
    }
}

/// Remembers accepted (AccessKeyId, nonce) pairs in this process (docs/COMPATIBILITY.md#order-of-checks).
///
/// Each pair is kept for `retention` after it was recorded. A request passes the skew check
/// until `timestamp + max_skew`, and its timestamp may be up to `max_skew` ahead of the
/// clock, so a replay can arrive up to `2 × max_skew` after the first use: use
/// [`MemoryNonces::for_skew`] or a retention of at least that.
///
/// Memory is bounded by `capacity` pairs. When full, the oldest pair is forgotten early:
/// that only weakens protection for nonces older than the eviction horizon (a replay of
/// such a nonce would pass this check, though its timestamp still has to pass the skew
/// check). Size the capacity for the peak request rate × retention.
///
/// Only suitable for a single replica; several replicas need a shared store.
#[derive(Debug)]
pub struct MemoryNonces {
    retention: TimeDelta,
    capacity: usize,
    /// Keyed per process: pairs are remembered by a 64-bit fingerprint (16 bytes in the
    /// window instead of the strings), and nobody outside can make two pairs collide.
    hasher: RandomState,
    window: Mutex<NonceWindow>,
}

#[derive(Debug, Default)]
struct NonceWindow {
    /// Recorded pairs in insertion order with the time they were recorded.
    by_age: VecDeque<(DateTime<Utc>, u64)>,
    seen: HashSet<u64>,
}

impl MemoryNonces {
    /// A store keeping pairs for `retention`, holding at most `capacity` pairs (at least 1).
    pub fn new(retention: TimeDelta, capacity: usize) -> Self {
        MemoryNonces {
            retention,
            capacity: capacity.max(1),
            hasher: RandomState::new(),
            window: Mutex::new(NonceWindow::default()),
        }
    }

    /// A store whose retention (2 × `max_skew`) covers every replay the skew check lets in.
    pub fn for_skew(max_skew: TimeDelta, capacity: usize) -> Self {
        let retention = max_skew.abs().checked_mul(2).unwrap_or(TimeDelta::MAX);
        Self::new(retention, capacity)
    }

    /// Records the pair and returns `true` the first time; `false` means a replay.
    /// Call it only after the signature verified, so forged requests cannot burn nonces.
    pub fn check_and_record(&self, access_key_id: &str, nonce: &str, now: DateTime<Utc>) -> bool {
        // Hashed before locking to keep the critical section to hash-set work. The tuple's
        // hash delimits each string, so no other split of the same characters matches.
        let pair = self.hasher.hash_one((access_key_id, nonce));
        let expired_before = now
            .checked_sub_signed(self.retention)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        // A poisoned lock only means another thread panicked mid-update; the set and queue
        // are still usable, so carry on rather than failing every later request.
        let mut window = self
            .window
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        window.expire(expired_before);
        if window.seen.contains(&pair) {
            return false;
        }
        if window.by_age.len() >= self.capacity {
            window.evict_oldest();
        }
        window.seen.insert(pair);
        window.by_age.push_back((now, pair));
        true
    }

    /// Remembers pairs accepted before this process started, given as (key id, nonce, the
    /// time it was recorded), oldest first; past the capacity the oldest are dropped.
    pub fn restore<'a>(&self, pairs: impl IntoIterator<Item = (&'a str, &'a str, DateTime<Utc>)>) {
        let mut window = self
            .window
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (access_key_id, nonce, recorded) in pairs {
            let pair = self.hasher.hash_one((access_key_id, nonce));
            if !window.seen.insert(pair) {
                continue;
            }
            if window.by_age.len() >= self.capacity {
                window.evict_oldest();
            }
            window.by_age.push_back((recorded, pair));
        }
    }

    /// How long a pair is remembered.
    pub fn retention(&self) -> TimeDelta {
        self.retention
    }

    /// The most pairs remembered at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Number of pairs currently remembered.
    pub fn len(&self) -> usize {
        self.window
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .by_age
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl NonceLedger for MemoryNonces {
    async fn first_use(
        &self,
        access_key_id: &str,
        nonce: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, ApiError> {
        Ok(self.check_and_record(access_key_id, nonce, now))
    }
}

impl NonceWindow {
    /// Drops pairs recorded at or before `cutoff`. Amortized O(1) per recorded pair. If the
    /// clock stepped back, entries may sit slightly out of order; they then expire late,
    /// never early.
    fn expire(&mut self, cutoff: DateTime<Utc>) {
        while self
            .by_age
            .front()
            .is_some_and(|(recorded, _)| *recorded <= cutoff)
        {
            self.evict_oldest();
        }
    }

    fn evict_oldest(&mut self) {
        if let Some((_, pair)) = self.by_age.pop_front() {
            self.seen.remove(&pair);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("valid test time")
            .with_timezone(&Utc)
    }

    #[test]
    fn parses_the_sdk_format_and_its_variants() {
        let expected = at("2024-05-01T12:00:00Z");
        assert_eq!(parse_timestamp("2024-05-01T12:00:00Z"), Ok(expected));
        assert_eq!(parse_timestamp("2024-05-01T12:00:00+00:00"), Ok(expected));
        assert_eq!(
            parse_timestamp("2024-05-01T12:00:00.5Z"),
            Ok(expected + TimeDelta::milliseconds(500))
        );
        assert_eq!(
            parse_timestamp("2024-05-01T12:00:00.123456789+00:00"),
            Ok(expected + TimeDelta::nanoseconds(123_456_789))
        );
        assert_eq!(
            parse_timestamp("2024-02-29T23:59:59Z"),
            Ok(at("2024-02-29T23:59:59Z"))
        );
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "2024-05-01",
            "2024-05-01T12:00:00",
            "2024-05-01 12:00:00Z",
            "2024-05-01t12:00:00Z",
            "2024-05-01T12:00:00z",
            "2024-05-01T12:00:00+08:00",
            "2024-05-01T12:00:00-00:00",
            "2024-05-01T12:00:00.Z",
            "2024-05-01T12:00:00.1234567890Z",
            "2024-05-01T12:00:00ZZ",
            "2024-5-01T12:00:00Z",
            "+024-05-01T12:00:00Z",
            "2024-13-01T12:00:00Z",
            "2023-02-29T12:00:00Z",
            "2024-05-01T24:00:00Z",
            "2024-05-01T12:00:60Z",
            "2024-05-01T12:00:00.1é",
            "２０２４-05-01T12:00:00Z",
            "1714564800",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn error_quotes_a_short_excerpt() {
        let long = "x".repeat(1000);
        let message = parse_timestamp(&long).unwrap_err().to_string();
        assert!(message.len() < 120, "{message}");
        assert_eq!(
            parse_timestamp("yesterday").unwrap_err().to_string(),
            "must be a UTC time like 2024-05-01T12:00:00Z, got 'yesterday'"
        );
    }

    #[test]
    fn skew_is_symmetric_and_inclusive() {
        let now = at("2024-05-01T12:00:00Z");
        let skew = DEFAULT_MAX_SKEW;
        assert!(check_skew(now, now, skew).is_ok());
        assert!(check_skew(now + skew, now, skew).is_ok());
        assert!(check_skew(now - skew, now, skew).is_ok());
        let late = check_skew(now - skew - TimeDelta::seconds(1), now, skew).unwrap_err();
        assert_eq!(late.difference, -(skew + TimeDelta::seconds(1)));
        assert!(check_skew(now + skew + TimeDelta::seconds(1), now, skew).is_err());
        assert_eq!(
            late.to_string(),
            "The difference between the request time and the server time is too large."
        );
    }

    #[test]
    fn a_nonce_is_accepted_once_per_access_key() {
        let nonces = MemoryNonces::for_skew(DEFAULT_MAX_SKEW, 100);
        let now = at("2024-05-01T12:00:00Z");
        assert!(nonces.check_and_record("key-a", "n1", now));
        assert!(!nonces.check_and_record("key-a", "n1", now + TimeDelta::seconds(1)));
        assert!(nonces.check_and_record("key-b", "n1", now));
        assert!(nonces.check_and_record("key-a", "n2", now));
        // Same characters, different split between id and nonce.
        assert!(nonces.check_and_record("key-a", "n1x", now));
        assert!(nonces.check_and_record("key-an", "1x", now));
        assert_eq!(nonces.len(), 5);
    }

    #[test]
    fn nonces_are_remembered_for_twice_the_skew_then_forgotten() {
        let nonces = MemoryNonces::for_skew(DEFAULT_MAX_SKEW, 100);
        let start = at("2024-05-01T12:00:00Z");
        assert!(nonces.check_and_record("k", "n", start));
        let just_inside = start + TimeDelta::minutes(30) - TimeDelta::seconds(1);
        assert!(!nonces.check_and_record("k", "n", just_inside));
        let after = start + TimeDelta::minutes(30);
        assert!(nonces.check_and_record("k", "n", after));
        assert_eq!(
            nonces.len(),
            1,
            "the first record expired, the second remains"
        );
    }

    #[test]
    fn expiry_is_amortized_across_calls() {
        let nonces = MemoryNonces::new(TimeDelta::seconds(10), 1000);
        let start = at("2024-05-01T12:00:00Z");
        for second in 0..100 {
            let now = start + TimeDelta::seconds(second);
            assert!(nonces.check_and_record("k", &second.to_string(), now));
            assert!(nonces.len() <= 11, "old entries are dropped as time passes");
        }
    }

    #[test]
    fn capacity_evicts_the_oldest() {
        let nonces = MemoryNonces::new(TimeDelta::minutes(30), 2);
        let now = at("2024-05-01T12:00:00Z");
        assert!(nonces.check_and_record("k", "1", now));
        assert!(nonces.check_and_record("k", "2", now));
        assert!(nonces.check_and_record("k", "3", now));
        assert_eq!(nonces.len(), 2);
        assert!(!nonces.check_and_record("k", "3", now));
        assert!(!nonces.check_and_record("k", "2", now));
        // "1" was evicted to make room: its replay is no longer detected.
        assert!(nonces.check_and_record("k", "1", now));
    }

    #[test]
    fn restored_pairs_are_replays_until_they_expire() {
        let nonces = MemoryNonces::new(TimeDelta::minutes(30), 2);
        let start = at("2024-05-01T12:00:00Z");
        // Recorded by an earlier run, oldest first; past the capacity the oldest is dropped.
        nonces.restore([
            ("k", "dropped", start - TimeDelta::minutes(20)),
            ("k", "old", start - TimeDelta::minutes(10)),
            ("k", "recent", start - TimeDelta::minutes(1)),
        ]);
        assert_eq!(nonces.len(), 2);
        assert!(!nonces.check_and_record("k", "recent", start));
        assert!(!nonces.check_and_record("k", "old", start));
        assert!(nonces.check_and_record("k", "dropped", start));

        // Recorded 10 minutes before the start, a pair expires 20 minutes after it.
        let nonces = MemoryNonces::new(TimeDelta::minutes(30), 10);
        nonces.restore([("k", "old", start - TimeDelta::minutes(10))]);
        assert!(!nonces.check_and_record("k", "old", start + TimeDelta::minutes(19)));
        assert!(nonces.check_and_record("k", "old", start + TimeDelta::minutes(20)));
    }

    #[test]
    fn zero_capacity_still_catches_an_immediate_replay() {
        let nonces = MemoryNonces::new(TimeDelta::minutes(30), 0);
        let now = at("2024-05-01T12:00:00Z");
        assert!(nonces.check_and_record("k", "1", now));
        assert!(!nonces.check_and_record("k", "1", now));
    }

    #[test]
    fn clock_stepping_back_never_expires_early() {
        let nonces = MemoryNonces::new(TimeDelta::seconds(10), 100);
        let start = at("2024-05-01T12:00:00Z");
        assert!(nonces.check_and_record("k", "late", start + TimeDelta::seconds(5)));
        assert!(nonces.check_and_record("k", "early", start));
        // 12 s after "early" but only 7 s after "late": "late" must still be remembered.
        let now = start + TimeDelta::seconds(12);
        assert!(!nonces.check_and_record("k", "late", now));
    }

    #[test]
    fn concurrent_use_accepts_each_pair_exactly_once() {
        let nonces = Arc::new(MemoryNonces::for_skew(DEFAULT_MAX_SKEW, 10_000));
        let now = at("2024-05-01T12:00:00Z");
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let nonces = Arc::clone(&nonces);
                std::thread::spawn(move || {
                    (0..200)
                        .filter(|n| nonces.check_and_record("k", &n.to_string(), now))
                        .count()
                })
            })
            .collect();
        let accepted: usize = threads
            .into_iter()
            .map(|thread| thread.join().expect("worker thread"))
            .sum();
        assert_eq!(accepted, 200);
    }
}
