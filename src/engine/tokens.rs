//! Task tokens (docs/COMPATIBILITY.md#fdl-steps rule 7): base64 of
//! `v1#<flow>#<execution>#<eventId>#<attempt>.<signature>`, where the signature is an HMAC
//! over the ids the token designates, so tokens cannot be forged or moved between executions.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// What a task token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenParts {
    pub flow_name: String,
    pub execution_name: String,
    /// The `StepEntered` event id of the task.
    pub entered_id: i64,
    pub attempt: u32,
    signature: String,
}

/// Issues and checks tokens with the server-wide key every replica shares.
#[derive(Clone)]
pub struct TokenCodec {
    key: Vec<u8>,
}

impl std::fmt::Debug for TokenCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCodec(***)")
    }
}

/// The ids a token is bound to.
#[derive(Debug, Clone, Copy)]
pub struct TokenScope<'a> {
    pub account_id: &'a str,
    pub flow_name: &'a str,
    pub execution_name: &'a str,
    pub execution_id: &'a str,
}

impl TokenCodec {
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        TokenCodec { key: key.into() }
    }

    pub fn issue(&self, scope: TokenScope<'_>, entered_id: i64, attempt: u32) -> String {
        let signature = self.signature(scope, entered_id, attempt);
        let raw = format!(
            "v1#{}#{}#{entered_id}#{attempt}.{signature}",
            scope.flow_name, scope.execution_name
        );
        STANDARD.encode(raw)
    }

    /// Reads a token's structure; `None` when it is not one of ours at all.
    pub fn decode(token: &str) -> Option<TokenParts> {
        let bytes = STANDARD.decode(token.trim()).ok()?;
        let raw = String::from_utf8(bytes).ok()?;
        let mut parts = raw.split('#');
        if parts.next()? != "v1" {
            return None;
        }
        let flow_name = parts.next()?.to_string();
        let execution_name = parts.next()?.to_string();
        let entered_id = parts.next()?.parse().ok()?;
        let (attempt, signature) = parts.next()?.split_once('.')?;
        if parts.next().is_some() || flow_name.is_empty() || execution_name.is_empty() {
            return None;
        }
        Some(TokenParts {
            flow_name,
            execution_name,
            entered_id,
            attempt: attempt.parse().ok()?,
            signature: signature.to_string(),
        })
    }

    /// True when the token was issued by this server for exactly this execution.
    pub fn verify(&self, parts: &TokenParts, scope: TokenScope<'_>) -> bool {
        if parts.flow_name != scope.flow_name || parts.execution_name != scope.execution_name {
            return false;
        }
        let Ok(given) = URL_SAFE_NO_PAD.decode(&parts.signature) else {
            return false;
        };
        self.mac(scope, parts.entered_id, parts.attempt)
            .verify_slice(&given)
            .is_ok()
    }

    fn signature(&self, scope: TokenScope<'_>, entered_id: i64, attempt: u32) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(scope, entered_id, attempt).finalize().into_bytes())
    }

    fn mac(&self, scope: TokenScope<'_>, entered_id: i64, attempt: u32) -> HmacSha256 {
        let mut mac =
            HmacSha256::new_from_slice(&self.key).expect("HMAC accepts keys of any length");
        let message = format!(
            "{}\n{}\n{}\n{}\n{entered_id}\n{attempt}",
            scope.account_id, scope.flow_name, scope.execution_name, scope.execution_id
        );
        mac.update(message.as_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> TokenScope<'static> {
        TokenScope {
            account_id: "1",
            flow_name: "flow",
            execution_name: "run-1",
            execution_id: "5d0c1b9e",
        }
    }

    #[test]
    fn issued_tokens_verify_and_carry_their_ids() {
        let codec = TokenCodec::new(b"key".to_vec());
        let token = codec.issue(scope(), 2, 1);
        let parts = TokenCodec::decode(&token).expect("decodes");
        assert_eq!(parts.flow_name, "flow");
        assert_eq!(parts.execution_name, "run-1");
        assert_eq!(parts.entered_id, 2);
        assert_eq!(parts.attempt, 1);
        assert!(codec.verify(&parts, scope()));
    }

    #[test]
    fn forged_or_moved_tokens_do_not_verify() {
        let codec = TokenCodec::new(b"key".to_vec());
        let token = codec.issue(scope(), 2, 1);
        let parts = TokenCodec::decode(&token).unwrap();
        let other = TokenScope {
            execution_id: "another",
            ..scope()
        };
        assert!(!codec.verify(&parts, other));
        assert!(!TokenCodec::new(b"other key".to_vec()).verify(&parts, scope()));
        let forged = STANDARD.encode("v1#flow#run-1#2#2.AAAA");
        let forged = TokenCodec::decode(&forged).unwrap();
        assert!(!codec.verify(&forged, scope()));
    }

    #[test]
    fn garbage_is_not_a_token() {
        for garbage in [
            "",
            "abc",
            "!!!",
            &STANDARD.encode("v2#a#b#1#1.x"),
            &STANDARD.encode("v1#a#b#x#1.x"),
        ] {
            assert_eq!(TokenCodec::decode(garbage), None, "{garbage}");
        }
    }
}
