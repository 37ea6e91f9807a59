//! Invoke: `POST /2015-03-31/functions/{name}/invocations` — RequestResponse, DryRun, and Event
//! (committed to the durable asynchronous queue, then 202; the pollers run it).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use ignis_core::model::FunctionConfig;
use ignis_core::{AwsError, ErrorKind};
use ignis_invoke::async_invoke::MAX_ASYNC_PAYLOAD;
use ignis_invoke::{InvokeError, InvokeRequest};
use ignis_store::queue::NewEvent;

use super::functions::{function_meta, resolve, target};
use super::util::Query;
use crate::error::ApiResult;
use crate::state::{AppState, RequestId, SharedState};

/// Largest synchronous request and response payload (6 MB).
pub const MAX_SYNC_PAYLOAD: usize = 6_291_456;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Pick the version an alias routes this invocation to (weighted, as AWS's alias routing).
async fn route(
    state: &AppState,
    cfg: FunctionConfig,
    alias: Option<&ignis_core::model::AliasConfig>,
) -> ApiResult<FunctionConfig> {
    let Some(rc) = alias.and_then(|a| a.routing_config.as_ref()) else {
        return Ok(cfg);
    };
    let roll = ignis_crypto::random_array::<8>()
        .map(|b| u64::from_le_bytes(b) as f64 / u64::MAX as f64)
        .unwrap_or(1.0);
    let mut acc = 0.0;
    for (version, weight) in &rc.additional_version_weights {
        acc += weight;
        if roll < acc {
            if let Some(mut other) = state.meta.get_version(&cfg.function_name, version).await? {
                other.function_arn = cfg.function_arn.clone();
                return Ok(other);
            }
        }
    }
    Ok(cfg)
}

/// `POST /2015-03-31/functions/{name}/invocations`
pub async fn invoke(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    request_id: Option<Extension<RequestId>>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let request_id = request_id.map(|Extension(RequestId(id))| id);
    let q = Query::parse(q.as_deref());
    let r = target(&state, &name, &q)?;
    let invocation_type = header(&headers, "x-amz-invocation-type").unwrap_or("RequestResponse");
    if !matches!(invocation_type, "RequestResponse" | "Event" | "DryRun") {
        return Err(AwsError::validation(
            invocation_type,
            "invocationType",
            "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
        )
        .into());
    }
    let log_type = header(&headers, "x-amz-log-type").unwrap_or("None");
    if !matches!(log_type, "None" | "Tail") {
        return Err(AwsError::validation(
            log_type,
            "logType",
            "Member must satisfy enum value set: [None, Tail]",
        )
        .into());
    }
    if body.len() > MAX_SYNC_PAYLOAD {
        return Err(AwsError::new(
            ErrorKind::RequestEntityTooLarge,
            format!("Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation"),
        )
        .into());
    }
    if invocation_type == "Event" && body.len() > MAX_ASYNC_PAYLOAD {
        return Err(AwsError::new(
            ErrorKind::RequestEntityTooLarge,
            format!("Request must be smaller than {MAX_ASYNC_PAYLOAD} bytes for the InvokeFunction operation"),
        )
        .into());
    }
    let (cfg, alias) = resolve(&state, &r).await?;
    // No payload: the function receives `{}`, as Lambda does.
    let body = if body.is_empty() {
        Bytes::from_static(b"{}")
    } else {
        body
    };
    match invocation_type {
        "DryRun" => return Ok(StatusCode::NO_CONTENT.into_response()),
        "Event" => return enqueue(&state, r, request_id, &headers, body).await,
        _ => {}
    }
    let meta = function_meta(&state, &r.name).await?;
    let invoked_arn = cfg.function_arn.clone();
    let cfg = route(&state, cfg, alias.as_ref()).await?;
    if let Some(key) = &cfg.kms_key_arn {
        // The environment variables are under the customer's key: it must be usable.
        crate::services::kms::check_function_key(
            &state.kms,
            key,
            crate::services::kms::KeyCheck::Invoke,
        )
        .await?;
    }
    let req = InvokeRequest {
        config: cfg,
        invoked_arn,
        payload: body,
        tail: log_type == "Tail",
        client_context: header(&headers, "x-amz-client-context").map(str::to_string),
        reserved_concurrency: meta.reserved_concurrency,
        trace_id: header(&headers, "x-amzn-trace-id").map(str::to_string),
        request_id,
    };
    let result = state.invoke.invoke(req).await.map_err(|e| match e {
        InvokeError::Throttled(reason) => throttled(reason),
        other => {
            tracing::error!(error = %other, "invoke failed");
            AwsError::new(
                ErrorKind::Service,
                "The invocation failed because of an internal error.",
            )
        }
    })?;
    let mut resp = (StatusCode::OK, result.payload).into_response();
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&result.executed_version) {
        h.insert("x-amz-executed-version", v);
    }
    if let Some(fe) = result.function_error {
        h.insert("x-amz-function-error", HeaderValue::from_static(fe));
    }
    if let Some(tail) = result.log_tail.and_then(|t| HeaderValue::from_str(&t).ok()) {
        h.insert("x-amz-log-result", tail);
    }
    Ok(resp)
}

/// Event: commit the event to the queue, then answer 202 with an empty body. The event keeps the
/// request's id, so the function's `aws_request_id` equals the `x-amzn-RequestId` sent back.
async fn enqueue(
    state: &AppState,
    r: ignis_core::arn::FunctionRef,
    request_id: Option<String>,
    headers: &HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let request_id = match request_id {
        Some(id) => id,
        None => ignis_crypto::ids::uuid_v4().map_err(|_| AwsError::internal())?,
    };
    let event = NewEvent {
        request_id: request_id.clone(),
        function_name: r.name,
        qualifier: r.qualifier,
        payload: body.to_vec(),
        trace_id: header(headers, "x-amzn-trace-id").map(str::to_string),
    };
    state.invoke.enqueue(event).await.map_err(|e| {
        tracing::error!(error = %e, "enqueue failed");
        AwsError::new(
            ErrorKind::Service,
            "The invocation failed because of an internal error.",
        )
    })?;
    let mut resp = StatusCode::ACCEPTED.into_response();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-amzn-requestid", v);
    }
    Ok(resp)
}

fn throttled(reason: &'static str) -> AwsError {
    let mut e = AwsError::new(ErrorKind::TooManyRequests, "Rate Exceeded.");
    e.reason = Some(reason);
    e
}
