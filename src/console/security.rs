//! What protects every console request: the `Host` allow-list (a DNS-rebinding page names
//! its own host, so it cannot reach a console on 127.0.0.1), the same-origin check of
//! writes, and the headers of every answer (strict CSP, no sniffing, no referrer).

use axum::extract::{Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, HOST, ORIGIN, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Console;

/// No inline script or style, nothing from elsewhere, never framed.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The loopback names allowed when no host is configured.
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// The `Host` values the console answers to.
#[derive(Debug, Clone)]
pub struct HostAllowList {
    /// Lower-case names, each with an optional `:port`.
    allowed: Vec<String>,
}

impl HostAllowList {
    /// The configured names, or the loopback names when none is configured.
    pub fn new(configured: &[String]) -> HostAllowList {
        let mut allowed: Vec<String> = configured
            .iter()
            .map(|host| host.trim().to_ascii_lowercase())
            .filter(|host| !host.is_empty())
            .collect();
        if allowed.is_empty() {
            allowed = LOOPBACK_HOSTS.iter().map(|host| host.to_string()).collect();
        }
        HostAllowList { allowed }
    }

    /// Whether a `Host` header value is allowed: an entry with a port must match exactly,
    /// an entry without one matches the name on any port.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let name = host_name(&host);
        self.allowed.iter().any(|entry| {
            if entry_has_port(entry) {
                *entry == host
            } else {
                *entry == name
            }
        })
    }
}

/// `example.com:8089` → `example.com`; `[::1]:8089` → `[::1]`.
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(end) => &host[..=end],
            None => host,
        };
    }
    host.split(':').next().unwrap_or(host)
}

fn entry_has_port(entry: &str) -> bool {
    host_name(entry).len() != entry.len()
}

/// Whether a write comes from a page of this very host. Browsers say so in
/// `Sec-Fetch-Site`; without it, `Origin` must name the host. (Under this console's
/// `Referrer-Policy: no-referrer` a browser sends `Origin: null` even from its own pages, so
/// `null` proves nothing either way; the CSRF token still has to match.)
pub fn same_origin(headers: &HeaderMap) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return site == "same-origin";
    }
    let Some(origin) = header(ORIGIN.as_str()).filter(|origin| *origin != "null") else {
        return true;
    };
    let host = header(HOST.as_str()).unwrap_or_default();
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or_default();
    !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
}

/// Compares secrets without leaking where they differ through timing.
pub fn constant_time_eq(left: &str, right: &str) -> bool {
    use subtle::ConstantTimeEq;
    left.len() == right.len() && bool::from(left.as_bytes().ct_eq(right.as_bytes()))
}

/// Every console request: the host check first, then the security headers on the answer.
pub async fn guard(State(console): State<Console>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut response = if console.hosts.allows(host) {
        next.run(request).await
    } else {
        tracing::warn!(host = %crate::names::shorten(host), "console request for a host not allowed");
        (
            StatusCode::MISDIRECTED_REQUEST,
            "This console does not answer to that host name. Set --console-hosts to serve it \
             under another name.\n",
        )
            .into_response()
    };
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_on_any_port_by_default() {
        let hosts = HostAllowList::new(&[]);
        for host in [
            "localhost",
            "127.0.0.1:8089",
            "LOCALHOST:1",
            "[::1]:8089",
            "[::1]",
        ] {
            assert!(hosts.allows(host), "{host}");
        }
        for host in [
            "",
            "evil.example",
            "evil.example:8089",
            "127.0.0.2:8089",
            "localhost.evil:80",
        ] {
            assert!(!hosts.allows(host), "{host}");
        }
    }

    #[test]
    fn configured_names_replace_the_loopback_ones() {
        let hosts = HostAllowList::new(&["flows.example.com".into(), "ops:8443".into()]);
        assert!(hosts.allows("flows.example.com"));
        assert!(hosts.allows("Flows.Example.com:443"));
        assert!(hosts.allows("ops:8443"));
        assert!(
            !hosts.allows("ops:8089"),
            "an entry with a port matches that port only"
        );
        assert!(!hosts.allows("localhost:8089"));
    }

    #[test]
    fn origin_must_be_the_host() {
        let headers = |origin: Option<&str>, site: Option<&str>| {
            let mut headers = HeaderMap::new();
            headers.insert(HOST, HeaderValue::from_static("127.0.0.1:8089"));
            if let Some(origin) = origin {
                headers.insert(ORIGIN, HeaderValue::from_str(origin).unwrap());
            }
            if let Some(site) = site {
                headers.insert("sec-fetch-site", HeaderValue::from_str(site).unwrap());
            }
            headers
        };
        assert!(same_origin(&headers(None, None)));
        assert!(same_origin(&headers(Some("http://127.0.0.1:8089"), None)));
        assert!(!same_origin(&headers(Some("http://evil.example"), None)));
        assert!(same_origin(&headers(Some("null"), Some("same-origin"))));
        assert!(!same_origin(&headers(Some("null"), Some("cross-site"))));
        assert!(!same_origin(&headers(
            Some("http://127.0.0.1:8089"),
            Some("same-site")
        )));
    }

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
