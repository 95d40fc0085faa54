//! Console sessions: an opaque random token in an `HttpOnly; SameSite=Strict` cookie, its
//! SHA-256 in the store with the key it signed in with, a CSRF token, and two expiries
//! (idle and absolute). The extractors here are the only way a page gets a session, so no
//! handler can forget the checks.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{COOKIE, HOST};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Console;
use super::error::ConsoleError;
use super::security::{constant_time_eq, same_origin};
use crate::api::Action;
use crate::api::params::Params;
use crate::auth::credentials::KeyEntry;
use crate::config::Config;
use crate::error::ApiError;
use crate::store::ConsoleSession;
use crate::time::now_ms;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "fnf_console";
/// Activity is recorded at most this often, so page views do not each write to the store.
const TOUCH_EVERY_MS: i64 = 60_000;
/// The form field carrying the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionRules {
    pub idle_ms: i64,
    pub absolute_ms: i64,
}

impl SessionRules {
    pub fn from_config(config: &Config) -> SessionRules {
        SessionRules {
            idle_ms: (config.console_idle_minutes.max(1) * 60_000) as i64,
            absolute_ms: (config.console_session_hours.max(1) * 3_600_000) as i64,
        }
    }

    /// Whether a stored session may still be used at `now`.
    pub fn is_live(&self, session: &ConsoleSession, now: i64) -> bool {
        now < session.expires_at && now - session.last_seen_at < self.idle_ms
    }

    /// A new session for `access_key_id`, and the cookie token that designates it.
    pub fn open(&self, access_key_id: &str, now: i64) -> (String, ConsoleSession) {
        let token = random_token();
        let session = ConsoleSession {
            token_hash: token_hash(&token),
            access_key_id: access_key_id.to_string(),
            csrf_token: random_token(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + self.absolute_ms,
        };
        (token, session)
    }
}

/// 256 random bits, URL-safe.
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// What the store keeps instead of the token.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A cookie's value from the `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// `Set-Cookie` for the session (or its removal with an empty token).
pub fn session_cookie(token: &str, max_age_seconds: i64) -> String {
    format!(
        "{COOKIE_NAME}={token}; Path=/console/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}"
    )
}

/// A signed-in caller.
#[derive(Clone)]
pub struct Session {
    pub key: KeyEntry,
    pub csrf: String,
    pub token_hash: String,
    /// The `Host` of the request (DescribeRegions-style answers name it).
    pub host: String,
}

impl Session {
    /// Runs an API action with this session's key, through the API's own pipeline. Empty
    /// form fields are left out (an absent parameter), except those named in `keep_empty`.
    pub async fn call(
        &self,
        console: &Console,
        action: Action,
        params: &[(&str, &str)],
    ) -> Result<Value, ApiError> {
        self.call_keeping(console, action, params, &[]).await
    }

    /// `call`, sending the parameters named in `keep_empty` even when empty (UpdateFlow's
    /// empty `Description` clears it).
    pub async fn call_keeping(
        &self,
        console: &Console,
        action: Action,
        params: &[(&str, &str)],
        keep_empty: &[&str],
    ) -> Result<Value, ApiError> {
        let pairs = params
            .iter()
            .filter(|(name, value)| !value.is_empty() || keep_empty.contains(name))
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        let params = Params::from_pairs(pairs)?;
        crate::api::call_as(&console.app, &self.key, action, &params, &self.host).await
    }

    /// `call` for a part of a page the key's policy may not allow: `None` when the API
    /// answers `AccessDenied`, and the page says so instead of failing whole.
    pub async fn call_if_allowed(
        &self,
        console: &Console,
        action: Action,
        params: &[(&str, &str)],
    ) -> Result<Option<Value>, ApiError> {
        match self.call(console, action, params).await {
            Ok(answer) => Ok(Some(answer)),
            Err(error) if error.code == crate::error::ErrorCode::AccessDenied => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Whether the key's policy allows `action` (pages render only the controls it allows).
    pub fn may(&self, action: Action) -> bool {
        self.key.allows_action(action.name())
    }

    /// `may`, for a flow the key's flow patterns must allow too.
    pub fn may_on(&self, action: Action, flow: &str) -> bool {
        self.may(action) && self.key.allows_flow(flow)
    }
}

impl FromRequestParts<Console> for Session {
    type Rejection = ConsoleError;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Console,
    ) -> Result<Self, Self::Rejection> {
        let sign_in = || ConsoleError::SignIn {
            next: (parts.method == Method::GET).then(|| parts.uri.to_string()),
        };
        let Some(token) = cookie(&parts.headers, COOKIE_NAME).filter(|t| !t.is_empty()) else {
            return Err(sign_in());
        };
        let hash = token_hash(token);
        let store = &console.app.store;
        let Some(stored) = store.get_session(&hash).await.map_err(ApiError::from)? else {
            return Err(sign_in());
        };
        let now = now_ms();
        // A key removed from the configuration ends its sessions.
        let key = console.app.auth.credentials().lookup(&stored.access_key_id);
        let (true, Some(key)) = (console.rules.is_live(&stored, now), key) else {
            store.delete_session(&hash).await.map_err(ApiError::from)?;
            return Err(sign_in());
        };
        if now - stored.last_seen_at >= TOUCH_EVERY_MS {
            store
                .touch_session(&hash, now)
                .await
                .map_err(ApiError::from)?;
        }
        Ok(Session {
            key: key.clone(),
            csrf: stored.csrf_token,
            token_hash: hash,
            host: parts
                .headers
                .get(HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string(),
        })
    }
}

/// A state-changing request: a session, a same-origin request and the session's CSRF token
/// in the form. Every POST handler takes one.
pub struct Posted {
    pub session: Session,
    pub form: Form,
}

impl FromRequest<Console> for Posted {
    type Rejection = ConsoleError;

    async fn from_request(request: Request, console: &Console) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let session = Session::from_request_parts(&mut parts, console).await?;
        if !same_origin(&parts.headers) {
            return Err(ConsoleError::Forbidden(
                "the request comes from another origin",
            ));
        }
        let request = Request::from_parts(parts, body);
        let form = Form::from_request(request, console).await?;
        let sent = form.get(CSRF_FIELD).unwrap_or_default();
        if !constant_time_eq(sent, &session.csrf) {
            return Err(ConsoleError::Forbidden(
                "the form's CSRF token is missing or wrong (reload the page and try again)",
            ));
        }
        Ok(Posted { session, form })
    }
}

/// A URL-encoded form body, decoded with the API's own form rules.
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A field's value, or "" when absent.
    pub fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or_default()
    }
}

impl FromRequest<Console> for Form {
    type Rejection = ConsoleError;

    async fn from_request(request: Request, _: &Console) -> Result<Self, Self::Rejection> {
        let body = axum::body::to_bytes(request.into_body(), crate::error::REQUEST_SIZE_LIMIT)
            .await
            .map_err(|_| ApiError::entity_too_large(crate::error::REQUEST_SIZE_LIMIT))?;
        let pairs = crate::api::params::parse_form(&body).map_err(ApiError::from)?;
        Ok(Form(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn rules() -> SessionRules {
        SessionRules {
            idle_ms: 30 * 60_000,
            absolute_ms: 12 * 3_600_000,
        }
    }

    #[test]
    fn sessions_end_when_idle_or_old() {
        let (token, session) = rules().open("key", 1_000);
        assert_eq!(session.token_hash, token_hash(&token));
        assert_ne!(
            session.token_hash, token,
            "the token itself is never stored"
        );
        assert_ne!(session.csrf_token, token);
        assert!(rules().is_live(&session, 1_000));
        assert!(rules().is_live(&session, 1_000 + 29 * 60_000));
        assert!(!rules().is_live(&session, 1_000 + 30 * 60_000), "idle");
        let active = ConsoleSession {
            last_seen_at: session.expires_at - 1,
            ..session.clone()
        };
        assert!(!rules().is_live(&active, session.expires_at), "absolute");
    }

    #[test]
    fn tokens_are_random_and_long() {
        let (first, second) = (random_token(), random_token());
        assert_ne!(first, second);
        assert_eq!(first.len(), 43, "256 bits in unpadded base64");
        assert!(
            first
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("a=1; fnf_console=tok; b=2"),
        );
        assert_eq!(cookie(&headers, COOKIE_NAME), Some("tok"));
        assert_eq!(cookie(&headers, "b"), Some("2"));
        assert_eq!(cookie(&headers, "c"), None);
        let set = session_cookie("tok", 60);
        for part in [
            "HttpOnly",
            "SameSite=Strict",
            "Path=/console/",
            "Max-Age=60",
        ] {
            assert!(set.contains(part), "{set}");
        }
    }
}
