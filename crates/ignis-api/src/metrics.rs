//! `GET /metrics` (Prometheus / OpenMetrics text, unauthenticated like `/health`) and the
//! middleware that counts API requests by operation and status.
//!
//! The operation label is the JSON 1.1 `X-Amz-Target` (`Logs_20140328.FilterLogEvents`) when
//! present, else the matched route (`POST /2015-03-31/functions/{name}/invocations`); the inner
//! [`mark_route`] layer records it on the response. Requests that match no route or fail
//! authentication are labelled `unmatched`, unknown JSON 1.1 targets `unknown`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::SharedState;

/// The matched route of a request, carried on its response to [`track`].
#[derive(Debug, Clone)]
struct RouteLabel(String);

/// `GET /metrics` (async queue figures are read at scrape time).
pub async fn scrape(State(state): State<SharedState>) -> Response {
    match state.invoke.async_stats().await {
        Ok(s) => state.metrics.set_async_totals(
            s.queue_depth,
            s.oldest_event_age_ms,
            &[
                ("enqueued", s.enqueued),
                ("succeeded", s.succeeded),
                ("function_error", s.function_errors),
                ("throttled", s.throttled),
                ("expired", s.expired),
                ("retries_exhausted", s.retries_exhausted),
                ("dropped", s.dropped),
                ("destination_delivered", s.destination_deliveries),
                ("destination_failed", s.destination_failures),
                ("recovered", s.recovered_claims),
            ],
        ),
        Err(e) => tracing::warn!(error = %e, "reading async queue figures for /metrics failed"),
    }
    let mut resp = state.metrics.encode().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(ignis_observe::metrics::CONTENT_TYPE),
    );
    resp
}

/// Route layer (runs after authentication and routing): record the operation on the response.
pub async fn mark_route(req: Request, next: Next) -> Response {
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| format!("{} {}", req.method(), p.as_str()));
    let mut resp = next.run(req).await;
    // Only operations this server knows become labels (unknown targets would grow the series).
    let unknown = resp
        .headers()
        .get("x-amzn-errortype")
        .is_some_and(|v| v.as_bytes() == b"UnknownOperationException");
    let label = match (target, route) {
        _ if unknown => Some("unknown".to_string()),
        (Some(t), _) => Some(t),
        (None, r) => r,
    };
    if let Some(label) = label {
        resp.extensions_mut().insert(RouteLabel(label));
    }
    resp
}

/// Outer layer: count every request with its status and latency.
pub async fn track(State(state): State<SharedState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let resp = next.run(req).await;
    let operation = resp
        .extensions()
        .get::<RouteLabel>()
        .map_or("unmatched", |l| l.0.as_str());
    state
        .metrics
        .record_api_request(operation, resp.status().as_u16(), start.elapsed());
    resp
}
