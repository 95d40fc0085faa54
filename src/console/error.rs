//! How a console request fails: a redirect to sign in, or a page naming the API's error
//! code and message (with the API's HTTP status), never a bare 500.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::error::{ApiError, ErrorCode, error_chain};

#[derive(Debug)]
pub enum ConsoleError {
    /// Not signed in (or the session ended): back to the sign-in page, then to `next`.
    SignIn { next: Option<String> },
    /// What the API answered.
    Api(ApiError),
    /// A request the console itself refuses (CSRF, origin).
    Forbidden(&'static str),
    /// Too many sign-in attempts.
    Throttled,
}

impl From<ApiError> for ConsoleError {
    fn from(error: ApiError) -> Self {
        ConsoleError::Api(error)
    }
}

impl From<askama::Error> for ConsoleError {
    fn from(error: askama::Error) -> Self {
        tracing::error!(%error, "rendering a console page failed");
        ConsoleError::Api(ApiError::internal())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    code: &'a str,
    message: &'a str,
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let (status, code, message) = match &self {
            ConsoleError::SignIn { next } => {
                let target = match next.as_deref().filter(|next| is_console_path(next)) {
                    Some(next) => format!("/console/sign-in?next={}", encode(next)),
                    None => "/console/sign-in".to_string(),
                };
                return Redirect::to(&target).into_response();
            }
            ConsoleError::Api(error) => {
                if let Some(cause) = &error.cause {
                    // The console's own store reads; API calls were logged by the gateway.
                    tracing::error!(error = %error_chain(cause), "a console page failed");
                }
                (
                    error.code.status(),
                    error.code.as_str(),
                    error.message.as_str(),
                )
            }
            ConsoleError::Forbidden(reason) => (StatusCode::FORBIDDEN, "Forbidden", *reason),
            ConsoleError::Throttled => (
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::ResourceThrottled.as_str(),
                "Too many sign-in attempts from this address; wait a minute and try again.",
            ),
        };
        let page = ErrorPage {
            status: status.as_u16(),
            code,
            message,
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, format!("{code}: {message}\n")).into_response(),
        }
    }
}

/// Only paths of the console itself are followed after sign-in (no open redirect).
pub fn is_console_path(path: &str) -> bool {
    path.starts_with("/console/") && !path.starts_with("/console//") && !path.contains('\\')
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_paths_are_followed() {
        assert!(is_console_path("/console/flows/a?x=1"));
        for path in [
            "//evil.example/",
            "/console//evil.example",
            "https://evil.example",
            "/other",
            "/console/\\evil",
        ] {
            assert!(!is_console_path(path), "{path}");
        }
    }
}
