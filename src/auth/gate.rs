//! The authentication step of the gateway (api.md §2.1–2.5): gathers the inputs of the pure
//! signers from the request, looks up the key, and checks skew, signature, nonce and policy
//! in the order of §2.4.

use axum::http::{HeaderMap, Method};
use chrono::{TimeDelta, Utc};

use super::credentials::KeyEntry;
use super::replay::{check_skew, parse_timestamp};
use super::{v1, v3};
use crate::api::params::Params;
use crate::api::{Action, AppState};
use crate::error::ApiError;
use crate::store::{WriteOp, WriteResult};

/// An authenticated caller.
pub struct Caller<'a> {
    pub action: Action,
    pub key: &'a KeyEntry,
}

/// The common parameters every V1 request must carry (api.md §1.5), in checking order.
const V1_REQUIRED: [&str; 6] = [
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
];

/// The headers every V3 request must carry (api.md §2.6 step 8).
const V3_REQUIRED: [&str; 4] = [
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
];

pub async fn authenticate<'a>(
    state: &'a AppState,
    method: &Method,
    headers: &HeaderMap,
    params: &Params,
    body: &[u8],
) -> Result<Caller<'a>, ApiError> {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.starts_with("ACS3-"));
    match authorization {
        Some(authorization) => {
            authenticate_v3(state, method, headers, params, body, authorization).await
        }
        None => authenticate_v1(state, method, headers, params).await,
    }
}

async fn authenticate_v1<'a>(
    state: &'a AppState,
    method: &Method,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Caller<'a>, ApiError> {
    for name in V1_REQUIRED {
        params.required(name)?;
    }
    let action = crate::api::action_and_version(params, headers)?;
    let signature_method = params.required("SignatureMethod")?;
    if signature_method != "HMAC-SHA1" {
        return Err(ApiError::invalid_argument(
            "SignatureMethod",
            format!(
                "must be HMAC-SHA1, got '{}'",
                crate::names::shorten(signature_method)
            ),
        ));
    }
    let key = lookup(state, params.required("AccessKeyId")?)?;
    check_time(state, "Timestamp", params.required("Timestamp")?)?;
    let string_to_sign = v1::string_to_sign(method.as_str(), params.iter());
    if !v1::verify(
        key.secret().expose(),
        &string_to_sign,
        params.required("Signature")?,
    ) {
        return Err(ApiError::signature_not_match(Some(&string_to_sign)));
    }
    check_nonce(state, key, params.required("SignatureNonce")?).await?;
    Ok(Caller { action, key })
}

async fn authenticate_v3<'a>(
    state: &'a AppState,
    method: &Method,
    headers: &HeaderMap,
    params: &Params,
    body: &[u8],
    authorization: &str,
) -> Result<Caller<'a>, ApiError> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
    };
    for name in V3_REQUIRED {
        header(name).ok_or_else(|| ApiError::missing_required_header(name))?;
    }
    let parsed = v3::parse_authorization(authorization)?;
    let action = crate::api::action_and_version(params, headers)?;
    let key = lookup(state, &parsed.access_key_id)?;
    check_time(
        state,
        "x-acs-date",
        header("x-acs-date").unwrap_or_default(),
    )?;
    let payload_hash = v3::checked_payload_hash(header("x-acs-content-sha256"), body)?;
    let all_headers: Vec<(&str, &str)> = headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let canonical = v3::canonical_request(
        method.as_str(),
        params.query_pairs(),
        &all_headers,
        &parsed.signed_headers,
        &payload_hash,
    )?;
    let string_to_sign = v3::string_to_sign(&canonical);
    if !v3::verify(key.secret().expose(), &string_to_sign, &parsed.signature) {
        return Err(ApiError::signature_not_match(Some(&canonical)));
    }
    check_nonce(
        state,
        key,
        header("x-acs-signature-nonce").unwrap_or_default(),
    )
    .await?;
    Ok(Caller { action, key })
}

fn lookup<'a>(state: &'a AppState, access_key_id: &str) -> Result<&'a KeyEntry, ApiError> {
    state
        .credentials
        .lookup(access_key_id)
        .ok_or_else(|| ApiError::invalid_access_key_id(&crate::names::shorten(access_key_id)))
}

fn check_time(state: &AppState, name: &str, value: &str) -> Result<(), ApiError> {
    let timestamp = parse_timestamp(value).map_err(|e| ApiError::invalid_argument(name, e))?;
    let max_skew = TimeDelta::seconds(state.config.max_clock_skew_seconds as i64);
    check_skew(timestamp, Utc::now(), max_skew).map_err(|_| ApiError::request_time_too_skewed())
}

/// A nonce may be used once per key (api.md §2.4); recorded only after the signature held.
/// With a store shared by several replicas the store decides (and keeps them, so a replica's
/// memory does not grow with the request rate); otherwise this process's memory does.
async fn check_nonce(state: &AppState, key: &KeyEntry, nonce: &str) -> Result<(), ApiError> {
    let now = Utc::now();
    if !state.store.is_shared() {
        let first_use = state
            .nonces
            .check_and_record(key.access_key_id(), nonce, now);
        return first_use
            .then_some(())
            .ok_or_else(ApiError::signature_nonce_used);
    }
    let now_ms = now.timestamp_millis();
    // Kept for twice the skew window: a request older than that is refused by its time.
    let expires = now_ms + 2 * 1000 * state.config.max_clock_skew_seconds as i64;
    let op = WriteOp::Nonce {
        access_key_id: key.access_key_id().to_string(),
        nonce: nonce.to_string(),
        now: now_ms,
        expires_at: expires,
    };
    // Group-committed with other requests' nonces and writes.
    if state.runtime.batcher().write(op).await? != WriteResult::Nonce(true) {
        return Err(ApiError::signature_nonce_used());
    }
    Ok(())
}

/// The key's policy (credentials file): the action, and the flow it names if any.
pub fn authorize(caller: &Caller<'_>, flow_name: Option<&str>) -> Result<(), ApiError> {
    if !caller.key.allows_action(caller.action.name()) {
        return Err(ApiError::access_denied());
    }
    if let Some(flow_name) = flow_name
        && !caller.key.allows_flow(flow_name)
    {
        return Err(ApiError::access_denied());
    }
    Ok(())
}
