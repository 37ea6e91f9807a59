//! `POST /`: the services that share the endpoint with Lambda but speak other AWS protocols.
//!
//! - **JSON 1.1** (CloudWatch Logs, KMS, CloudTrail): the operation is in `X-Amz-Target:
//!   <Prefix>.<Operation>`, the input is a JSON body, the output a JSON body with content type
//!   `application/x-amz-json-1.1`, errors `{"__type": code, "message": ...}`.
//! - **Query** (IAM, STS): a form-encoded body with `Action=<Operation>&Version=...`; the service is
//!   the SigV4 signing service of the request (`iam` or `sts`); the output is XML, errors an XML
//!   `ErrorResponse`.
//!
//! Adding a service: write `services/<name>.rs` with the service's glue (its logic lives in its own
//! crate or module) and add one arm to [`json_service`] (by target prefix) or [`query_service`] (by
//! signing service).

pub mod iam;
pub mod kms;
pub mod logs;
pub mod query;
pub mod sts;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use ignis_core::AwsError;
use serde_json::Value;

use crate::state::{Caller, RequestId, SharedState};
use query::QueryParams;

/// Content type of JSON 1.1 responses.
pub const JSON_11: &str = "application/x-amz-json-1.1";

/// Signing services (SigV4 credential scope) this endpoint answers for.
pub const SIGNING_SERVICES: &[&str] = &[
    "lambda",
    "logs",
    "iam",
    "sts",
    "kms",
    "cloudtrail",
    "config",
];

/// Global services: requests may be signed for any region.
pub fn is_global_service(service: &str) -> bool {
    matches!(service, "iam" | "sts")
}

/// Which protocol a request to `/` speaks (for rendering its errors, including auth errors).
pub fn protocol_of(path: &str, headers: &HeaderMap) -> Protocol {
    if path != "/" {
        Protocol::RestJson
    } else if headers.contains_key("x-amz-target") {
        Protocol::Json11
    } else {
        Protocol::Query
    }
}

/// Wire protocol of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Lambda's REST JSON.
    RestJson,
    /// AWS JSON 1.1 (`X-Amz-Target`).
    Json11,
    /// AWS Query (form body, XML response).
    Query,
}

/// `POST /` (and `GET /` for Query requests carried in the query string).
pub async fn dispatch(
    State(state): State<SharedState>,
    Extension(caller): Extension<Caller>,
    Extension(request_id): Extension<RequestId>,
    raw_query: axum::extract::RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let Some((prefix, op)) = target.rsplit_once('.') else {
            return json_error(&unknown_target(target));
        };
        let input = match parse_json(&body) {
            Ok(v) => v,
            Err(e) => return json_error(&e),
        };
        return match json_service(&state, &caller, prefix, op, input).await {
            Some(Ok(out)) => json_ok(&out),
            Some(Err(e)) => json_error(&e),
            None => json_error(&unknown_target(target)),
        };
    }
    let params = QueryParams::from_request(raw_query.0.as_deref(), &body);
    let Some(action) = params.get("Action").map(str::to_string) else {
        return query::error_response(
            &caller.service,
            &AwsError::other("MissingAction", 400, "Missing Action"),
            &request_id.0,
        );
    };
    match query_service(&state, &caller, &request_id, &action, &params).await {
        Some(Ok(xml)) => query::ok_response(xml),
        Some(Err(e)) => query::error_response(&caller.service, &e, &request_id.0),
        None => query::error_response(
            &caller.service,
            &AwsError::other(
                "InvalidAction",
                400,
                format!("Could not find operation {action} for version NO_VERSION_SPECIFIED"),
            ),
            &request_id.0,
        ),
    }
}

/// Run a JSON 1.1 operation; `None` if no service answers to `prefix`.
async fn json_service(
    state: &SharedState,
    caller: &Caller,
    prefix: &str,
    op: &str,
    input: Value,
) -> Option<Result<Value, AwsError>> {
    match prefix {
        "Logs_20140328" => Some(logs::handle(state, caller, op, input).await),
        "TrentService" => Some(kms::handle(state, caller, op, input).await),
        ignis_audit::lookup::TARGET_PREFIX => Some(lookup_events(state, op, input).await),
        ignis_audit::history::TARGET_PREFIX => Some(config_history(state, op, input).await),
        _ => None,
    }
}

/// Run a Query operation of the signing service; `None` if that service does not exist here.
async fn query_service(
    state: &SharedState,
    caller: &Caller,
    request_id: &RequestId,
    action: &str,
    params: &QueryParams,
) -> Option<Result<String, AwsError>> {
    match caller.service.as_str() {
        "iam" => Some(iam::handle(state, caller, request_id, action, params).await),
        "sts" => Some(sts::handle(state, caller, request_id, action, params).await),
        _ => None,
    }
}

/// CloudTrail over the audit trail (file scans run off the async threads).
async fn lookup_events(state: &SharedState, op: &str, input: Value) -> Result<Value, AwsError> {
    let Some(trail) = state.audit.clone() else {
        return Err(AwsError::other(
            "OperationNotPermittedException",
            400,
            "The audit trail is not enabled on this server.",
        ));
    };
    trail.flush().await;
    let op = op.to_string();
    tokio::task::spawn_blocking(move || ignis_audit::lookup::handle(trail.dir(), &op, &input))
        .await
        .unwrap_or_else(|_| Err(AwsError::internal()))
}

/// AWS Config's GetResourceConfigHistory over the configuration history.
async fn config_history(state: &SharedState, op: &str, input: Value) -> Result<Value, AwsError> {
    let Some(history) = state.history.clone() else {
        return Err(AwsError::other(
            "NoAvailableConfigurationRecorderException",
            400,
            "The configuration history is not enabled on this server.",
        ));
    };
    let op = op.to_string();
    tokio::task::spawn_blocking(move || history.handle(&op, &input))
        .await
        .unwrap_or_else(|_| Err(AwsError::internal()))
}

fn unknown_target(target: &str) -> AwsError {
    AwsError::other(
        "UnknownOperationException",
        400,
        format!("Unknown operation {target}"),
    )
}

fn parse_json(body: &Bytes) -> Result<Value, AwsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(body).map_err(|_| {
        AwsError::other(
            "SerializationException",
            400,
            "Unable to parse the request body as JSON.",
        )
    })
}

/// A successful JSON 1.1 response.
pub fn json_ok(out: &Value) -> Response {
    let mut resp = (StatusCode::OK, out.to_string()).into_response();
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static(JSON_11));
    resp
}

/// A JSON 1.1 error: `{"__type": code, "message": ...}` plus `x-amzn-ErrorType`.
pub fn json_error(err: &AwsError) -> Response {
    let code = err.kind.code();
    let body = serde_json::json!({ "__type": code, "message": err.message });
    let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = (status, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static(JSON_11));
    if let Ok(v) = HeaderValue::from_str(code) {
        h.insert("x-amzn-errortype", v);
    }
    resp
}

/// Render `err` in the protocol of the request it answers.
pub fn error_for(protocol: Protocol, service: &str, err: &AwsError, request_id: &str) -> Response {
    match protocol {
        Protocol::RestJson => crate::error::error_response(err),
        Protocol::Json11 => json_error(err),
        Protocol::Query => query::error_response(service, err, request_id),
    }
}
