//! The authentication step of the gateway: gathers the inputs of the pure signers from the
//! request, looks up the key, and checks skew, signature and nonce in the documented order
//! (docs/COMPATIBILITY.md, "Order of checks"); then the key's policy.
//!
//! It works only with its own context ([`Authenticator`]: keys, nonce ledger, clock) and the
//! parts of the request the HTTP layer hands over ([`SignedRequest`]). Only signed bytes
//! select or guard the call: V1 signs its parameters and no header, so the action and version
//! of a V1 request come from its parameters alone; a V3 request must sign every header that
//! matters (see [`check_coverage`]).

use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use chrono::TimeDelta;

use super::clock::Clock;
use super::credentials::{Credentials, KeyEntry};
use super::replay::{NonceLedger, check_skew, parse_timestamp};
use super::{v1, v3};
use crate::error::ApiError;
use crate::store::UsedNonce;

/// What authentication reads of a request; nothing else of it may influence the call.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub headers: &'a HeaderMap,
    /// Query and form body merged (the body wins), sorted by name, names unique: what V1
    /// signs.
    pub params: &'a [(String, String)],
    /// The query alone, decoded: what V3's canonical query signs.
    pub query: &'a [(String, String)],
    /// The raw body: V3 signs its hash.
    pub body: &'a [u8],
}

/// An authenticated caller: the action chosen by the caller's `select` and the key.
pub struct Caller<'a, A> {
    pub action: A,
    pub key: &'a KeyEntry,
    /// The request's nonce when its check was left to the call's own write.
    pub nonce: PendingNonce,
}

impl<'a, A> Caller<'a, A> {
    /// A caller whose nonce needs no check (signed in otherwise, as the console's).
    pub fn without_nonce(action: A, key: &'a KeyEntry) -> Self {
        Caller {
            action,
            key,
            nonce: PendingNonce::default(),
        }
    }
}

/// A nonce not yet recorded: the write that carries it takes it and records it in its own
/// transaction (a replay then writes nothing); one nobody took is recorded by
/// [`Authenticator::settle_nonce`] once the call is answered.
#[derive(Debug, Default)]
pub struct PendingNonce(Mutex<Option<UsedNonce>>);

impl PendingNonce {
    /// The nonce, for a write that records it (at most once).
    pub fn take(&self) -> Option<UsedNonce> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }

    /// Gives back a nonce taken by a write that ended up not recording it, for
    /// [`Authenticator::settle_nonce`] to record.
    pub fn put_back(&self, nonce: Option<UsedNonce>) {
        if let Some(nonce) = nonce {
            *self
                .0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(nonce);
        }
    }
}

/// The common parameters every V1 request must carry (docs/COMPATIBILITY.md#parameters), in checking order.
const V1_REQUIRED: [&str; 6] = [
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
];

/// The headers every V3 request must carry (docs/COMPATIBILITY.md#v3-signatures step 8).
const V3_REQUIRED: [&str; 4] = [
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
];

/// Authentication's own context: the key table, where used nonces are kept, the clock and
/// the accepted clock difference.
pub struct Authenticator {
    credentials: Credentials,
    nonces: Arc<dyn NonceLedger>,
    clock: Arc<dyn Clock>,
    max_skew: TimeDelta,
}

impl Authenticator {
    pub fn new(
        credentials: Credentials,
        nonces: Arc<dyn NonceLedger>,
        clock: Arc<dyn Clock>,
        max_skew: TimeDelta,
    ) -> Self {
        Authenticator {
            credentials,
            nonces,
            clock,
            max_skew,
        }
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    pub fn nonces(&self) -> &dyn NonceLedger {
        self.nonces.as_ref()
    }

    /// Authenticates a request. `select` turns the (action, version) the request names into
    /// the caller's action type, or the error for an unknown action or version; it runs at
    /// its place in the order of checks (before the key is looked up).
    ///
    /// When `carries_nonce` says the action's write can carry the nonce and the ledger lets
    /// the store decide it in that write, the nonce is left pending in [`Caller::nonce`]
    /// (one transaction instead of two); the caller must then [`settle_nonce`] before
    /// answering. An action may carry it only if it records it before any effect of its own.
    ///
    /// [`settle_nonce`]: Authenticator::settle_nonce
    pub async fn authenticate<A>(
        &self,
        request: &SignedRequest<'_>,
        select: impl FnOnce(&str, &str) -> Result<A, ApiError>,
        carries_nonce: impl FnOnce(&A) -> bool,
    ) -> Result<Caller<'_, A>, ApiError> {
        let authorization =
            header(request.headers, "authorization").filter(|value| value.starts_with("ACS3-"));
        let (action, key, nonce) = match authorization {
            Some(authorization) => self.authenticate_v3(request, authorization, select).await?,
            None => self.authenticate_v1(request, select).await?,
        };
        let carried = if carries_nonce(&action) {
            self.nonces
                .carried(key.access_key_id(), nonce, self.clock.now())
        } else {
            None
        };
        let pending = match carried {
            Some(used) => PendingNonce(Mutex::new(Some(used))),
            None => {
                self.check_nonce(key, nonce).await?;
                PendingNonce::default()
            }
        };
        Ok(Caller {
            action,
            key,
            nonce: pending,
        })
    }

    /// Records a pending nonce that no write took; a replay's answer becomes
    /// `SignatureNonceUsed`, as if the nonce had been checked first.
    pub async fn settle_nonce<A>(&self, caller: &Caller<'_, A>) -> Result<(), ApiError> {
        match caller.nonce.take() {
            Some(used) => self.check_nonce(caller.key, &used.nonce).await,
            None => Ok(()),
        }
    }

    /// Checks a V1 request up to its nonce, which it returns.
    async fn authenticate_v1<'r, A>(
        &self,
        request: &SignedRequest<'r>,
        select: impl FnOnce(&str, &str) -> Result<A, ApiError>,
    ) -> Result<(A, &KeyEntry, &'r str), ApiError> {
        let required = |name: &str| {
            param(request.params, name)
                .filter(|value| !value.is_empty())
                .ok_or_else(|| ApiError::missing_required_params(name))
        };
        for name in V1_REQUIRED {
            required(name)?;
        }
        // Every SDK sends Action and Version as parameters; the x-acs-* headers a V1 request
        // may also carry are not signed, so they are not read.
        let action = select(required("Action")?, required("Version")?)?;
        let signature_method = required("SignatureMethod")?;
        if signature_method != "HMAC-SHA1" {
            return Err(ApiError::invalid_argument(
                "SignatureMethod",
                format!(
                    "must be HMAC-SHA1, got '{}'",
                    crate::names::shorten(signature_method)
                ),
            ));
        }
        let key = self.lookup(required("AccessKeyId")?)?;
        self.check_time("Timestamp", required("Timestamp")?)?;
        let string_to_sign = v1::string_to_sign(request.method, pairs(request.params));
        if !v1::verify(
            key.secret().expose(),
            &string_to_sign,
            required("Signature")?,
        ) {
            return Err(ApiError::signature_not_match(Some(&string_to_sign)));
        }
        Ok((action, key, required("SignatureNonce")?))
    }

    /// Checks a V3 request up to its nonce, which it returns.
    async fn authenticate_v3<'r, A>(
        &self,
        request: &SignedRequest<'r>,
        authorization: &str,
        select: impl FnOnce(&str, &str) -> Result<A, ApiError>,
    ) -> Result<(A, &KeyEntry, &'r str), ApiError> {
        let headers = request.headers;
        let required = |name: &str| {
            single_header(headers, name)?
                .filter(|value| !value.is_empty())
                .ok_or_else(|| ApiError::missing_required_header(name))
        };
        for name in V3_REQUIRED {
            required(name)?;
        }
        let parsed = v3::parse_authorization(authorization)?;
        check_coverage(headers, &parsed.signed_headers)?;
        for name in ["host", "content-type"] {
            single_header(headers, name)?;
        }
        // Parameters are signed too (the query in the canonical request, the body by its
        // hash), so one given as a parameter may name the action.
        let chosen = |name: &str, header_name: &str| {
            param(request.params, name)
                .filter(|value| !value.is_empty())
                .map_or_else(|| required(header_name), Ok)
        };
        let action = select(
            chosen("Action", "x-acs-action")?,
            chosen("Version", "x-acs-version")?,
        )?;
        let key = self.lookup(&parsed.access_key_id)?;
        self.check_time("x-acs-date", required("x-acs-date")?)?;
        let payload_hash = v3::checked_payload_hash(
            single_header(headers, "x-acs-content-sha256")?,
            request.body,
        )?;
        let all_headers: Vec<(&str, &str)> = headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
            .collect();
        let canonical = v3::canonical_request(
            request.method,
            request.query,
            &all_headers,
            &parsed.signed_headers,
            &payload_hash,
        )?;
        let string_to_sign = v3::string_to_sign(&canonical);
        if !v3::verify(key.secret().expose(), &string_to_sign, &parsed.signature) {
            return Err(ApiError::signature_not_match(Some(&canonical)));
        }
        Ok((action, key, required("x-acs-signature-nonce")?))
    }

    fn lookup(&self, access_key_id: &str) -> Result<&KeyEntry, ApiError> {
        self.credentials
            .lookup(access_key_id)
            .ok_or_else(|| ApiError::invalid_access_key_id(&crate::names::shorten(access_key_id)))
    }

    fn check_time(&self, name: &str, value: &str) -> Result<(), ApiError> {
        let timestamp = parse_timestamp(value).map_err(|e| ApiError::invalid_argument(name, e))?;
        check_skew(timestamp, self.clock.now(), self.max_skew)
            .map_err(|_| ApiError::request_time_too_skewed())
    }

    /// A nonce may be used once per key; recorded only after the signature held.
    async fn check_nonce(&self, key: &KeyEntry, nonce: &str) -> Result<(), ApiError> {
        let first_use = self
            .nonces
            .first_use(key.access_key_id(), nonce, self.clock.now())
            .await?;
        first_use
            .then_some(())
            .ok_or_else(ApiError::signature_nonce_used)
    }
}

/// The key's policy (credentials file): the action, and the flow it names if any.
pub fn authorize(key: &KeyEntry, action: &str, flow_name: Option<&str>) -> Result<(), ApiError> {
    if !key.allows_action(action) {
        return Err(ApiError::access_denied());
    }
    if let Some(flow_name) = flow_name
        && !key.allows_flow(flow_name)
    {
        return Err(ApiError::access_denied());
    }
    Ok(())
}

/// As in the cloud, a V3 signature must cover every request header that selects or guards
/// the call: `host`, each `x-acs-*` header sent (action, version, date, nonce, body hash…)
/// and `content-type` when sent (it decides whether the body holds parameters). Otherwise a
/// signed request could be replayed with a fresh nonce and date, or re-aimed at another
/// action. The first unsigned one, in name order, is named.
fn check_coverage(headers: &HeaderMap, signed: &[String]) -> Result<(), ApiError> {
    let is_signed = |name: &str| signed.iter().any(|s| s.eq_ignore_ascii_case(name));
    let mut must_be_signed: Vec<&str> = headers
        .keys()
        .map(|name| name.as_str())
        .filter(|name| name.starts_with("x-acs-") || *name == "content-type")
        .chain(["host"])
        .collect();
    must_be_signed.sort_unstable();
    match must_be_signed.into_iter().find(|name| !is_signed(name)) {
        Some(unsigned) => Err(ApiError::incomplete_signature(unsigned)),
        None => Ok(()),
    }
}

/// A header's value, if it is visible ASCII text.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// A header that selects or guards a V3 call. The canonical request joins repeated values,
/// so a signature over two values would let either be read: it must come once.
fn single_header<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(ApiError::invalid_argument(name, "must be given only once"));
    }
    Ok(first.and_then(|value| value.to_str().ok()))
}

/// A parameter of a list sorted by name with unique names.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .binary_search_by(|(key, _)| key.as_str().cmp(name))
        .ok()
        .map(|index| params[index].1.as_str())
}

fn pairs(params: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    params
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
}

#[cfg(test)]
mod tests;
