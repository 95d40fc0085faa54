//! The error catalogue of docs/COMPATIBILITY.md#error-catalogue and the one place that renders API errors.

use std::fmt;

use axum::http::StatusCode;

use crate::store::StoreError;

/// Which requests can answer a code (docs/COMPATIBILITY.md#errors-per-action).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Any action: the parameter, signature, policy, throttling and store checks every
    /// request goes through.
    EveryAction,
    /// A request that reaches no action: a path other than `/` or an unknown method.
    BeforeAction,
    /// Only the actions whose own checks raise it (docs/COMPATIBILITY.md#errors-per-action's per-action lists).
    SomeActions,
}

/// Builds `ErrorCode` and its lookups from the one table below, so the catalogue cannot
/// disagree with itself.
macro_rules! error_catalogue {
    ($($variant:ident: $code:literal, $status:ident, $scope:ident, $meaning:literal;)*) => {
        /// Every error code the API can return (docs/COMPATIBILITY.md#error-catalogue). Each knows its HTTP status.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            /// The whole catalogue, in the order of docs/COMPATIBILITY.md#error-catalogue (the OpenAPI document and
            /// docs/COMPATIBILITY.md are checked against it).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as it appears in the `Code` member.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// The HTTP status of the code (docs/COMPATIBILITY.md#error-catalogue); nothing else picks statuses.
            pub fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status,)*
                }
            }

            /// Which requests can answer it.
            pub fn scope(self) -> Scope {
                match self {
                    $(ErrorCode::$variant => Scope::$scope,)*
                }
            }

            /// What the code means, in a few words.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $meaning,)*
                }
            }
        }
    };
}

error_catalogue! {
    ActionNotSupported: "ActionNotSupported", BAD_REQUEST, EveryAction,
        "unknown action, or an execution mode the flow does not have";
    ApiVersionNotSupported: "APIVersionNotSupported", BAD_REQUEST, EveryAction,
        "the Version is not 2019-03-15";
    EntityTooLarge: "EntityTooLarge", BAD_REQUEST, EveryAction,
        "the request, its head or a data parameter is too large";
    ExecutionAlreadyExists: "ExecutionAlreadyExists", BAD_REQUEST, SomeActions,
        "an ended execution has that name";
    ExecutionAlreadyCompleted: "ExecutionAlreadyCompleted", BAD_REQUEST, SomeActions,
        "the execution has already ended";
    InvalidArgument: "InvalidArgument", BAD_REQUEST, EveryAction,
        "a parameter's value is invalid";
    IncompleteSignature: "IncompleteSignature", BAD_REQUEST, EveryAction,
        "a V3 request leaves a header it must sign out of SignedHeaders";
    MissingRequiredHeader: "MissingRequiredHeader", BAD_REQUEST, EveryAction,
        "a required V3 header is missing";
    MissingRequiredParams: "MissingRequiredParams", BAD_REQUEST, EveryAction,
        "a required parameter is missing or empty";
    PathNotSupported: "PathNotSupported", BAD_REQUEST, BeforeAction,
        "a path other than /";
    SignatureNonceUsed: "SignatureNonceUsed", BAD_REQUEST, EveryAction,
        "the key used the nonce already within the window";
    AccessDenied: "AccessDenied", FORBIDDEN, EveryAction,
        "the key's policy does not allow the action or the flow";
    InvalidAccessKeyId: "InvalidAccessKeyID", FORBIDDEN, EveryAction,
        "unknown access key id";
    RequestTimeTooSkewed: "RequestTimeTooSkewed", FORBIDDEN, EveryAction,
        "the request time is off by more than the skew window";
    SignatureNotMatch: "SignatureNotMatch", FORBIDDEN, EveryAction,
        "wrong V1 or V3 signature";
    FlowNotExists: "FlowNotExists", NOT_FOUND, SomeActions,
        "unknown flow (or another account's)";
    ExecutionNotExists: "ExecutionNotExists", NOT_FOUND, SomeActions,
        "unknown execution";
    ScheduleNotExists: "ScheduleNotExists", NOT_FOUND, SomeActions,
        "unknown schedule";
    FlowVersionNotExists: "FlowVersionNotExists", NOT_FOUND, SomeActions,
        "unknown flow version";
    FlowAliasNotExists: "FlowAliasNotExists", NOT_FOUND, SomeActions,
        "unknown flow alias";
    MapRunNotExists: "MapRunNotExists", NOT_FOUND, SomeActions,
        "unknown map run of the execution";
    MethodNotAllowed: "MethodNotAllowed", METHOD_NOT_ALLOWED, BeforeAction,
        "a method other than GET and POST";
    FlowAlreadyExists: "FlowAlreadyExists", CONFLICT, SomeActions,
        "the flow name is taken";
    ScheduleAlreadyExists: "ScheduleAlreadyExists", CONFLICT, SomeActions,
        "the schedule name is taken";
    FlowAliasAlreadyExists: "FlowAliasAlreadyExists", CONFLICT, SomeActions,
        "the alias name is taken";
    ConcurrentUpdateError: "ConcurrentUpdateError", CONFLICT, SomeActions,
        "a concurrent update of the same resource won";
    PreconditionFailed: "PreconditionFailed", PRECONDITION_FAILED, SomeActions,
        "reserved: never returned";
    UnsupportedMediaType: "UnsupportedMediaType", UNSUPPORTED_MEDIA_TYPE, EveryAction,
        "a non-empty body that is not a form";
    ResourceThrottled: "ResourceThrottled", TOO_MANY_REQUESTS, EveryAction,
        "the key's request rate or the account's running executions are at their limit";
    InternalServerError: "InternalServerError", INTERNAL_SERVER_ERROR, EveryAction,
        "an unexpected store failure";
    ServiceUnavailable: "ServiceUnavailable", SERVICE_UNAVAILABLE, EveryAction,
        "the store is unreachable, or an execution stayed busy";
}

impl ErrorCode {
    /// The code of a `Code` member, if it is one of the catalogue's.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL
            .iter()
            .copied()
            .find(|known| known.as_str() == code)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error answer: a code from the catalogue and the message sent with it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Why the server could not answer (a store failure): logged with the request, never sent.
    pub cause: Option<StoreError>,
}

/// Two answers are the same when the client sees the same code and message.
impl PartialEq for ApiError {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code && self.message == other.message
    }
}

impl Eq for ApiError {}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_ref()
            .map(|cause| cause as &(dyn std::error::Error + 'static))
    }
}

/// An error and its causes, outermost first: `store unavailable: …: connection refused`.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The 32 KiB limit of docs/COMPATIBILITY.md#limits for Input, Output and Payload.
pub const EVENT_DATA_LIMIT: usize = 32 * 1024;
/// The 1 MiB request limit of docs/COMPATIBILITY.md#parameters.
pub const REQUEST_SIZE_LIMIT: usize = 1024 * 1024;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            cause: None,
        }
    }

    /// The client's value is cut short: a message never echoes a huge parameter.
    pub fn action_not_supported(action: &str) -> Self {
        let action = crate::names::shorten(action);
        Self::new(
            ErrorCode::ActionNotSupported,
            format!("The requested API operation '{action}' is incorrect. Please check."),
        )
    }

    /// The client's value is cut short: a message never echoes a huge parameter.
    pub fn api_version_not_supported(version: &str) -> Self {
        let version = crate::names::shorten(version);
        Self::new(
            ErrorCode::ApiVersionNotSupported,
            format!("The requested API version '{version}' is not supported yet. Please check."),
        )
    }

    pub fn entity_too_large(limit: usize) -> Self {
        Self::new(
            ErrorCode::EntityTooLarge,
            format!("The payload size exceeds maximum allowed size ({limit} bytes)."),
        )
    }

    /// The request URI is longer than HTTP/1.1 parsing allows.
    pub fn uri_too_long(limit: usize) -> Self {
        Self::new(
            ErrorCode::EntityTooLarge,
            format!("The request URI exceeds the maximum allowed size ({limit} bytes)."),
        )
    }

    /// The request head has too many headers or too many bytes.
    pub fn head_too_large(max_headers: usize, max_bytes: usize) -> Self {
        Self::new(
            ErrorCode::EntityTooLarge,
            format!(
                "The request head exceeds the maximum allowed size ({max_headers} headers, \
                 {max_bytes} bytes)."
            ),
        )
    }

    /// The request line or a header is not HTTP/1.1 (e.g. raw non-ASCII bytes in the URI).
    pub fn malformed_request() -> Self {
        Self::new(
            ErrorCode::InvalidArgument,
            "Parameter error: the request is not valid HTTP/1.1: its request line or a header \
             could not be read.",
        )
    }

    /// The body did not arrive in time after the head.
    pub fn body_timeout(seconds: u64) -> Self {
        Self::new(
            ErrorCode::InvalidArgument,
            format!(
                "Parameter error: the request body did not arrive within {seconds} second{}.",
                if seconds == 1 { "" } else { "s" }
            ),
        )
    }

    pub fn execution_already_exists(execution: &str, flow: &str) -> Self {
        Self::new(
            ErrorCode::ExecutionAlreadyExists,
            format!("Execution {execution} for flow {flow} already exists."),
        )
    }

    pub fn execution_already_completed(execution: &str, flow: &str) -> Self {
        Self::new(
            ErrorCode::ExecutionAlreadyCompleted,
            format!("Execution '{execution}' for flow '{flow}' has already completed."),
        )
    }

    /// `InvalidArgument` always names the parameter and the reason (docs/COMPATIBILITY.md#errors-per-action).
    pub fn invalid_argument(name: &str, reason: impl fmt::Display) -> Self {
        Self::new(
            ErrorCode::InvalidArgument,
            format!("Parameter error: {name} {reason}"),
        )
    }

    /// A V3 request left a header that selects or guards the call out of `SignedHeaders`.
    pub fn incomplete_signature(header: &str) -> Self {
        Self::new(
            ErrorCode::IncompleteSignature,
            format!(
                "The request signature does not conform to Aliyun standards. Header '{header}' must be signed."
            ),
        )
    }

    pub fn missing_required_header(name: &str) -> Self {
        Self::new(
            ErrorCode::MissingRequiredHeader,
            format!("The HTTP header '{name}' must be specified."),
        )
    }

    pub fn missing_required_params(name: &str) -> Self {
        Self::new(
            ErrorCode::MissingRequiredParams,
            format!("The HTTP query '{name}' must be specified."),
        )
    }

    pub fn path_not_supported(method: &str, path: &str) -> Self {
        Self::new(
            ErrorCode::PathNotSupported,
            format!("'{method}' against '{path}' is not supported"),
        )
    }

    pub fn signature_nonce_used() -> Self {
        Self::new(
            ErrorCode::SignatureNonceUsed,
            "Specified signature nonce was used already.",
        )
    }

    pub fn access_denied() -> Self {
        Self::new(
            ErrorCode::AccessDenied,
            "The resources doesn't belong to you.",
        )
    }

    pub fn invalid_access_key_id(id: &str) -> Self {
        Self::new(
            ErrorCode::InvalidAccessKeyId,
            format!("The AccessKey ID {id} is invalid."),
        )
    }

    pub fn request_time_too_skewed() -> Self {
        Self::new(
            ErrorCode::RequestTimeTooSkewed,
            "The difference between the request time and the server time is too large.",
        )
    }

    /// docs/COMPATIBILITY.md#authentication: the old Python SDK splits the message of a signature error on ':', so
    /// any debugging text must follow a colon.
    pub fn signature_not_match(string_to_sign: Option<&str>) -> Self {
        let base = "The request signature we calculated does not match the signature you provided. Check your access key and signing method.";
        let message = match string_to_sign {
            Some(sts) => format!("{base} server string to sign is:{sts}"),
            None => base.to_string(),
        };
        Self::new(ErrorCode::SignatureNotMatch, message)
    }

    pub fn flow_not_exists(flow: &str) -> Self {
        Self::new(
            ErrorCode::FlowNotExists,
            format!("Flow {flow} does not exist."),
        )
    }

    pub fn execution_not_exists(execution: &str, flow: &str) -> Self {
        Self::new(
            ErrorCode::ExecutionNotExists,
            format!("Execution {execution} for flow {flow} does not exist."),
        )
    }

    pub fn schedule_not_exists(schedule: &str, flow: &str) -> Self {
        Self::new(
            ErrorCode::ScheduleNotExists,
            format!("The schedule {schedule} for flow {flow} does not exist."),
        )
    }

    pub fn flow_version_not_exists(version: &str, flow: &str) -> Self {
        Self::new(
            ErrorCode::FlowVersionNotExists,
            format!("Version {version} of flow {flow} does not exist."),
        )
    }

    pub fn flow_alias_not_exists(alias: &str, flow: &str) -> Self {
        Self::new(
            ErrorCode::FlowAliasNotExists,
            format!("Alias {alias} of flow {flow} does not exist."),
        )
    }

    pub fn map_run_not_exists(map_run: &str, execution: &str) -> Self {
        Self::new(
            ErrorCode::MapRunNotExists,
            format!("MapRun {map_run} of execution {execution} does not exist."),
        )
    }

    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            ErrorCode::MethodNotAllowed,
            format!("Method {method} is not allowed."),
        )
    }

    pub fn flow_already_exists(flow: &str) -> Self {
        Self::new(
            ErrorCode::FlowAlreadyExists,
            format!("Flow {flow} already exists."),
        )
    }

    pub fn schedule_already_exists(schedule: &str, flow: &str) -> Self {
        Self::new(
            ErrorCode::ScheduleAlreadyExists,
            format!("The schedule {schedule} for flow {flow} already exists."),
        )
    }

    pub fn flow_alias_already_exists(alias: &str, flow: &str) -> Self {
        Self::new(
            ErrorCode::FlowAliasAlreadyExists,
            format!("Alias {alias} of flow {flow} already exists."),
        )
    }

    pub fn concurrent_update() -> Self {
        Self::new(
            ErrorCode::ConcurrentUpdateError,
            "Update conflict, please retry.",
        )
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "Content type {content_type} is not supported; use application/x-www-form-urlencoded."
            ),
        )
    }

    pub fn resource_throttled(reason: &str) -> Self {
        Self::new(
            ErrorCode::ResourceThrottled,
            format!("The request was throttled: {reason}."),
        )
    }

    pub fn internal() -> Self {
        Self::new(
            ErrorCode::InternalServerError,
            "An internal error has occurred. Please retry.",
        )
    }

    pub fn service_unavailable() -> Self {
        Self::new(
            ErrorCode::ServiceUnavailable,
            "The service is temporarily unavailable. Please retry.",
        )
    }
}

impl From<StoreError> for ApiError {
    /// The client learns only that it may retry; the failure stays with the answer for the
    /// log line of its request.
    fn from(error: StoreError) -> Self {
        let answer = if error.is_unavailable() {
            ApiError::service_unavailable()
        } else {
            ApiError::internal()
        };
        ApiError {
            cause: Some(error),
            ..answer
        }
    }
}

impl From<crate::engine::parse::DefinitionError> for ApiError {
    fn from(error: crate::engine::parse::DefinitionError) -> Self {
        // e.g. `Parameter error: Definition steps[2].goto: names no sibling step 'x'`
        let reason = if error.path.is_empty() {
            format!("is invalid: {}", error.reason)
        } else {
            format!("{}: {}", error.path, error.reason)
        };
        ApiError::invalid_argument("Definition", reason)
    }
}

#[cfg(test)]
mod tests;
