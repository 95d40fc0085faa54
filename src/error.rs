//! The error catalogue of api.md §5 and the one place that renders API errors.

use std::fmt;

use axum::http::StatusCode;

use crate::store::StoreError;

/// Every error code the API can return (api.md §5.1). Each knows its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    ActionNotSupported,
    ApiVersionNotSupported,
    EntityTooLarge,
    ExecutionAlreadyExists,
    ExecutionAlreadyCompleted,
    InvalidArgument,
    IncompleteSignature,
    MissingRequiredHeader,
    MissingRequiredParams,
    PathNotSupported,
    SignatureNonceUsed,
    AccessDenied,
    InvalidAccessKeyId,
    RequestTimeTooSkewed,
    SignatureNotMatch,
    FlowNotExists,
    ExecutionNotExists,
    ScheduleNotExists,
    FlowVersionNotExists,
    FlowAliasNotExists,
    MapRunNotExists,
    MethodNotAllowed,
    FlowAlreadyExists,
    ScheduleAlreadyExists,
    FlowAliasAlreadyExists,
    ConcurrentUpdateError,
    PreconditionFailed,
    UnsupportedMediaType,
    ResourceThrottled,
    InternalServerError,
    ServiceUnavailable,
}

impl ErrorCode {
    /// The whole catalogue, in the order of api.md §5.1 (the OpenAPI document is checked
    /// against it).
    pub const ALL: [ErrorCode; 31] = [
        ErrorCode::ActionNotSupported,
        ErrorCode::ApiVersionNotSupported,
        ErrorCode::EntityTooLarge,
        ErrorCode::ExecutionAlreadyExists,
        ErrorCode::ExecutionAlreadyCompleted,
        ErrorCode::InvalidArgument,
        ErrorCode::IncompleteSignature,
        ErrorCode::MissingRequiredHeader,
        ErrorCode::MissingRequiredParams,
        ErrorCode::PathNotSupported,
        ErrorCode::SignatureNonceUsed,
        ErrorCode::AccessDenied,
        ErrorCode::InvalidAccessKeyId,
        ErrorCode::RequestTimeTooSkewed,
        ErrorCode::SignatureNotMatch,
        ErrorCode::FlowNotExists,
        ErrorCode::ExecutionNotExists,
        ErrorCode::ScheduleNotExists,
        ErrorCode::FlowVersionNotExists,
        ErrorCode::FlowAliasNotExists,
        ErrorCode::MapRunNotExists,
        ErrorCode::MethodNotAllowed,
        ErrorCode::FlowAlreadyExists,
        ErrorCode::ScheduleAlreadyExists,
        ErrorCode::FlowAliasAlreadyExists,
        ErrorCode::ConcurrentUpdateError,
        ErrorCode::PreconditionFailed,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::ResourceThrottled,
        ErrorCode::InternalServerError,
        ErrorCode::ServiceUnavailable,
    ];

    /// The code of a `Code` member, if it is one of the catalogue's.
    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL
            .into_iter()
            .find(|known| known.as_str() == code)
    }

    /// The code as it appears in the `Code` member.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            ActionNotSupported => "ActionNotSupported",
            ApiVersionNotSupported => "APIVersionNotSupported",
            EntityTooLarge => "EntityTooLarge",
            ExecutionAlreadyExists => "ExecutionAlreadyExists",
            ExecutionAlreadyCompleted => "ExecutionAlreadyCompleted",
            InvalidArgument => "InvalidArgument",
            IncompleteSignature => "IncompleteSignature",
            MissingRequiredHeader => "MissingRequiredHeader",
            MissingRequiredParams => "MissingRequiredParams",
            PathNotSupported => "PathNotSupported",
            SignatureNonceUsed => "SignatureNonceUsed",
            AccessDenied => "AccessDenied",
            InvalidAccessKeyId => "InvalidAccessKeyID",
            RequestTimeTooSkewed => "RequestTimeTooSkewed",
            SignatureNotMatch => "SignatureNotMatch",
            FlowNotExists => "FlowNotExists",
            ExecutionNotExists => "ExecutionNotExists",
            ScheduleNotExists => "ScheduleNotExists",
            FlowVersionNotExists => "FlowVersionNotExists",
            FlowAliasNotExists => "FlowAliasNotExists",
            MapRunNotExists => "MapRunNotExists",
            MethodNotAllowed => "MethodNotAllowed",
            FlowAlreadyExists => "FlowAlreadyExists",
            ScheduleAlreadyExists => "ScheduleAlreadyExists",
            FlowAliasAlreadyExists => "FlowAliasAlreadyExists",
            ConcurrentUpdateError => "ConcurrentUpdateError",
            PreconditionFailed => "PreconditionFailed",
            UnsupportedMediaType => "UnsupportedMediaType",
            ResourceThrottled => "ResourceThrottled",
            InternalServerError => "InternalServerError",
            ServiceUnavailable => "ServiceUnavailable",
        }
    }

    /// The HTTP status of the code (api.md §5.1); nothing else picks statuses.
    pub fn status(self) -> StatusCode {
        use ErrorCode::*;
        match self {
            ActionNotSupported
            | ApiVersionNotSupported
            | EntityTooLarge
            | ExecutionAlreadyExists
            | ExecutionAlreadyCompleted
            | InvalidArgument
            | IncompleteSignature
            | MissingRequiredHeader
            | MissingRequiredParams
            | PathNotSupported
            | SignatureNonceUsed => StatusCode::BAD_REQUEST,
            AccessDenied | InvalidAccessKeyId | RequestTimeTooSkewed | SignatureNotMatch => {
                StatusCode::FORBIDDEN
            }
            FlowNotExists | ExecutionNotExists | ScheduleNotExists | FlowVersionNotExists
            | FlowAliasNotExists | MapRunNotExists => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            FlowAlreadyExists
            | ScheduleAlreadyExists
            | FlowAliasAlreadyExists
            | ConcurrentUpdateError => StatusCode::CONFLICT,
            PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ResourceThrottled => StatusCode::TOO_MANY_REQUESTS,
            InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
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

/// The 32 KiB limit of api.md §3.2 for Input, Output and Payload.
pub const EVENT_DATA_LIMIT: usize = 32 * 1024;
/// The 1 MiB request limit of api.md §1.3.
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

    /// `InvalidArgument` always names the parameter and the reason (api.md §5.2).
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

    /// api.md §2.5: the old Python SDK splits the message of a signature error on ':', so
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

impl From<crate::api::params::ParamError> for ApiError {
    fn from(error: crate::api::params::ParamError) -> Self {
        use crate::api::params::ParamError;
        let code = match error {
            ParamError::Missing(_) => ErrorCode::MissingRequiredParams,
            _ => ErrorCode::InvalidArgument,
        };
        // The parameter layer already renders the catalogue's wording.
        ApiError::new(code, error.to_string())
    }
}

impl From<crate::auth::v3::V3Error> for ApiError {
    fn from(error: crate::auth::v3::V3Error) -> Self {
        use crate::auth::v3::V3Error;
        match error {
            V3Error::MissingHeader(name) => ApiError::missing_required_header(&name),
            V3Error::PayloadHashMismatch => ApiError::signature_not_match(None),
            other => ApiError::new(ErrorCode::InvalidArgument, other.to_string()),
        }
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
mod tests {
    use super::*;

    #[test]
    fn a_store_failure_keeps_the_driver_error_as_its_cause() {
        let answer = ApiError::from(StoreError::from(sqlx::Error::PoolTimedOut));
        assert_eq!(answer.code, ErrorCode::ServiceUnavailable);
        assert_eq!(
            error_chain(&answer),
            format!(
                "{}: store unavailable: the database cannot be reached: {}",
                ApiError::service_unavailable(),
                sqlx::Error::PoolTimedOut
            )
        );
        let answer = ApiError::from(StoreError::from(sqlx::Error::RowNotFound));
        assert_eq!(answer.code, ErrorCode::InternalServerError);
        let store_error = std::error::Error::source(&answer).expect("the store failure");
        let driver_error = store_error.source().expect("the driver's error");
        assert_eq!(
            driver_error.to_string(),
            sqlx::Error::RowNotFound.to_string()
        );
    }

    #[test]
    fn a_store_failure_without_a_driver_error_ends_the_chain() {
        let answer = ApiError::from(StoreError::internal("no write result"));
        assert_eq!(
            error_chain(&answer),
            format!("{}: store failure: no write result", ApiError::internal())
        );
    }
}
