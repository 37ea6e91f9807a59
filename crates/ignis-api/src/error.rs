//! Rendering of AWS-shaped errors on the wire (restJson1): status code, `x-amzn-ErrorType` header and
//! a JSON body `{"Type": "User", "message": "..."}` with the message key the service model uses.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use ignis_core::{AwsError, ErrorKind};

/// An error leaving a handler: an AWS error, or an internal failure logged and reported generically.
#[derive(Debug)]
pub struct ApiError(pub AwsError);

impl From<AwsError> for ApiError {
    fn from(e: AwsError) -> Self {
        Self(e)
    }
}

impl From<ignis_store::StoreError> for ApiError {
    fn from(e: ignis_store::StoreError) -> Self {
        tracing::error!(error = %e, "storage failure");
        Self(AwsError::internal())
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

/// The response for `err`.
pub fn error_response(err: &AwsError) -> Response {
    let mut body = serde_json::Map::new();
    body.insert("Type".into(), err.kind.fault_type().into());
    body.insert(err.kind.message_key().into(), err.message.clone().into());
    if let Some(reason) = err.reason {
        body.insert("Reason".into(), reason.into());
    }
    let status =
        StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (status, serde_json::Value::Object(body).to_string()).into_response();
    let headers = resp.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert(
        "x-amzn-errortype",
        HeaderValue::from_static(err.kind.code()),
    );
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_response(&self.0)
    }
}

/// The error for a route that exists for no operation.
pub fn unknown_operation() -> AwsError {
    AwsError::new(ErrorKind::UnknownOperation, "Unknown operation")
}
