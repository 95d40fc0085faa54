//! Authentication (api.md §2): pure signing for V1 (HMAC-SHA1) and V3 (ACS3-HMAC-SHA256),
//! the access-key table, and replay protection (clock skew, nonces).
//!
//! These modules take plain strings and bytes; the HTTP middleware only gathers their inputs.

pub mod credentials;
pub mod gate;
pub mod replay;
pub mod v1;
pub mod v3;
