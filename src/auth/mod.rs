//! Authentication (docs/COMPATIBILITY.md#authentication): pure signing for V1 (HMAC-SHA1) and V3 (ACS3-HMAC-SHA256),
//! the access-key table and its policies, replay protection (clock skew, nonces), and the
//! gate that applies them to a request.
//!
//! Nothing here depends on the API, the worker or the store: the gate's context (keys, nonce
//! ledger, clock) is handed in, so every check can be exercised alone.

pub mod clock;
pub mod credentials;
pub mod gate;
pub mod replay;
pub mod v1;
pub mod v3;
