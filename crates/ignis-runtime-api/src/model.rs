//! The public data types: what an invocation carries, how it ended, and what can go wrong.

use bytes::Bytes;

/// One invocation handed to the runtime through `GET /runtime/invocation/next`.
///
/// Every field except the payload becomes a `Lambda-Runtime-*` response header, so each must be
/// a valid HTTP header value (visible ASCII, spaces and tabs; no control characters);
/// [`RuntimeApi::invoke`](crate::RuntimeApi::invoke) rejects the invocation otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Request id (`Lambda-Runtime-Aws-Request-Id`); the runtime posts the outcome under it.
    pub request_id: String,
    /// Absolute deadline in Unix epoch milliseconds (`Lambda-Runtime-Deadline-Ms`).
    pub deadline_ms: u64,
    /// ARN the caller invoked: function, version or alias (`Lambda-Runtime-Invoked-Function-Arn`).
    pub invoked_function_arn: String,
    /// X-Ray tracing header (`Lambda-Runtime-Trace-Id`); sent even when empty.
    pub trace_id: String,
    /// Client context JSON, as AWS sends it (`Lambda-Runtime-Client-Context`), if any.
    pub client_context: Option<String>,
    /// Cognito identity JSON (`Lambda-Runtime-Cognito-Identity`), if any.
    pub cognito_identity: Option<String>,
    /// The event payload: the body of the `/next` response.
    pub payload: Bytes,
}

/// How an invocation ended, as reported by the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The runtime posted a response.
    Response(Bytes),
    /// The runtime posted /error: error type header (if any) and the JSON body.
    Error {
        /// Value of the `Lambda-Runtime-Function-Error-Type` header, if sent.
        error_type: Option<String>,
        /// The posted body, normally `{"errorMessage":..,"errorType":..,"stackTrace":[..]}`.
        body: Bytes,
    },
    /// The runtime posted /init/error before or instead of serving the invocation.
    InitError {
        /// Value of the `Lambda-Runtime-Function-Error-Type` header, if sent.
        error_type: Option<String>,
        /// The posted body (empty if it was over [`MAX_INIT_ERROR_BYTES`](crate::MAX_INIT_ERROR_BYTES)).
        body: Bytes,
    },
    /// The response exceeded 6 MB ([`MAX_RESPONSE_BYTES`](crate::MAX_RESPONSE_BYTES)); report
    /// [`RESPONSE_TOO_LARGE_BODY`](crate::RESPONSE_TOO_LARGE_BODY) to the caller.
    ResponseTooLarge,
}

/// Why [`RuntimeApi::invoke`](crate::RuntimeApi::invoke) could not run an invocation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeApiError {
    /// Another invocation is still in flight in this environment (one at a time).
    #[error("an invocation is already in flight in this environment")]
    Busy,
    /// The server was shut down (or every handle dropped) before the invocation finished.
    #[error("the Runtime API server is shut down")]
    Closed,
    /// A field of the invocation cannot be sent as an HTTP header value; names the field.
    #[error("invocation field `{0}` is not a valid HTTP header value")]
    InvalidHeaderValue(&'static str),
}
