//! HTTP routing and the Runtime API endpoint handlers.
//!
//! Every answer is a complete `Full` body with a known length and `Content-Type:
//! application/json`, so hyper writes it with a `Content-Length` in one vectored write.

use std::convert::Infallible;
use std::pin::pin;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};

use crate::body::{read_limited, ReadBody, DRAIN_CAP};
use crate::model::Outcome;
use crate::state::{NextPoll, Posted, Prepared, Shared};
use crate::{MAX_INIT_ERROR_BYTES, MAX_RESPONSE_BYTES};

/// Body type of every response.
pub(crate) type RespBody = Full<Bytes>;

/// Path prefix shared by every endpoint.
const PREFIX: &str = "/2018-06-01/runtime/";

/// Most bytes of a body we ignore (`GET /next` should have none) read before giving up on the
/// connection.
const MAX_IGNORED_BODY: usize = 64 * 1024;

/// Longest error type kept from `Lambda-Runtime-Function-Error-Type`.
const MAX_ERROR_TYPE_LEN: usize = 1024;

const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");
const H_REQUEST_ID: HeaderName = HeaderName::from_static("lambda-runtime-aws-request-id");
const H_DEADLINE: HeaderName = HeaderName::from_static("lambda-runtime-deadline-ms");
const H_ARN: HeaderName = HeaderName::from_static("lambda-runtime-invoked-function-arn");
const H_TRACE: HeaderName = HeaderName::from_static("lambda-runtime-trace-id");
const H_CLIENT_CONTEXT: HeaderName = HeaderName::from_static("lambda-runtime-client-context");
const H_COGNITO: HeaderName = HeaderName::from_static("lambda-runtime-cognito-identity");
const H_ERROR_TYPE: HeaderName = HeaderName::from_static("lambda-runtime-function-error-type");

const BODY_ACCEPTED: &[u8] = br#"{"status":"OK"}"#;
const BODY_INVALID_ID: &[u8] =
    br#"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#;
const BODY_TOO_LARGE: &[u8] = br#"{"errorMessage":"Exceeded maximum allowed payload size (6291456 bytes).","errorType":"RequestEntityTooLarge"}"#;
const BODY_NOT_FOUND: &[u8] =
    br#"{"errorMessage":"Unknown Runtime API resource","errorType":"NotFound"}"#;
const BODY_BAD_METHOD: &[u8] =
    br#"{"errorMessage":"Method not allowed on this resource","errorType":"MethodNotAllowed"}"#;
const BODY_INIT_FAILED: &[u8] = br#"{"errorMessage":"The runtime reported an init error; no more invocations will be served","errorType":"InvalidStateTransition"}"#;
const BODY_CLOSED: &[u8] =
    br#"{"errorMessage":"The environment is shutting down","errorType":"ServiceUnavailable"}"#;
const BODY_BAD_REQUEST: &[u8] =
    br#"{"errorMessage":"Malformed or truncated request body","errorType":"InvalidRequest"}"#;

/// A response with a static JSON body.
fn json(status: StatusCode, body: &'static [u8]) -> Response<RespBody> {
    let mut resp = Response::new(Full::new(Bytes::from_static(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(CONTENT_TYPE, APPLICATION_JSON);
    resp
}

/// The endpoints, as routed from method-less path matching.
enum Route<'a> {
    Next,
    Response(&'a str),
    Error(&'a str),
    InitError,
    NotFound,
}

/// Maps a request path onto an endpoint.
fn route(path: &str) -> Route<'_> {
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return Route::NotFound;
    };
    if rest == "invocation/next" {
        return Route::Next;
    }
    if rest == "init/error" {
        return Route::InitError;
    }
    let Some(rest) = rest.strip_prefix("invocation/") else {
        return Route::NotFound;
    };
    let valid = |id: &str| !id.is_empty() && !id.contains('/');
    if let Some(id) = rest.strip_suffix("/response").filter(|id| valid(id)) {
        return Route::Response(id);
    }
    if let Some(id) = rest.strip_suffix("/error").filter(|id| valid(id)) {
        return Route::Error(id);
    }
    Route::NotFound
}

/// Serves one request of a runtime connection.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<RespBody>, Infallible> {
    let (parts, body) = req.into_parts();
    let resp = match (route(parts.uri.path()), &parts.method) {
        (Route::Next, &Method::GET) => {
            // There should be no body; read whatever there is so keep-alive holds.
            let _ = read_limited(body, 0, MAX_IGNORED_BODY).await;
            next(&shared).await
        }
        (Route::Response(id), &Method::POST) => {
            match read_limited(body, MAX_RESPONSE_BYTES, DRAIN_CAP).await {
                ReadBody::Full(b) => posted(&shared, id, Outcome::Response(b)),
                ReadBody::TooLarge => too_large(&shared, id),
                ReadBody::Failed => json(StatusCode::BAD_REQUEST, BODY_BAD_REQUEST),
            }
        }
        (Route::Error(id), &Method::POST) => {
            let error_type = error_type(&parts.headers);
            match read_limited(body, MAX_RESPONSE_BYTES, DRAIN_CAP).await {
                ReadBody::Full(body) => posted(&shared, id, Outcome::Error { error_type, body }),
                ReadBody::TooLarge => too_large(&shared, id),
                ReadBody::Failed => json(StatusCode::BAD_REQUEST, BODY_BAD_REQUEST),
            }
        }
        (Route::InitError, &Method::POST) => {
            let error_type = error_type(&parts.headers);
            let body = match read_limited(body, MAX_INIT_ERROR_BYTES, DRAIN_CAP).await {
                ReadBody::Full(b) => b,
                ReadBody::TooLarge | ReadBody::Failed => Bytes::new(),
            };
            tracing::debug!(?error_type, "runtime posted /init/error");
            if shared.init_error(error_type, body) {
                json(StatusCode::ACCEPTED, BODY_ACCEPTED)
            } else {
                json(StatusCode::SERVICE_UNAVAILABLE, BODY_CLOSED)
            }
        }
        (Route::NotFound, _) => {
            let _ = read_limited(body, 0, MAX_IGNORED_BODY).await;
            json(StatusCode::NOT_FOUND, BODY_NOT_FOUND)
        }
        _ => {
            let _ = read_limited(body, 0, MAX_IGNORED_BODY).await;
            json(StatusCode::METHOD_NOT_ALLOWED, BODY_BAD_METHOD)
        }
    };
    Ok(resp)
}

/// `GET /next`: deliver the pending invocation, or long-poll until there is one.
async fn next(shared: &Shared) -> Response<RespBody> {
    loop {
        // Register interest before looking, so a notification between look and park is kept.
        let mut notified = pin!(shared.next_notify.notified());
        notified.as_mut().enable();
        match shared.poll_next() {
            NextPoll::Deliver(p) => return invocation_response(p),
            NextPoll::Wait => notified.await,
            NextPoll::Failed => return json(StatusCode::FORBIDDEN, BODY_INIT_FAILED),
            NextPoll::Closed => return json(StatusCode::SERVICE_UNAVAILABLE, BODY_CLOSED),
        }
    }
}

/// Renders an invocation as the `/next` answer: payload plus every `Lambda-Runtime-*` header.
fn invocation_response(p: Prepared) -> Response<RespBody> {
    let mut resp = Response::new(Full::new(p.payload));
    let h = resp.headers_mut();
    h.reserve(8);
    h.insert(CONTENT_TYPE, APPLICATION_JSON);
    h.insert(H_REQUEST_ID, p.request_id);
    h.insert(H_DEADLINE, p.deadline_ms);
    h.insert(H_ARN, p.invoked_function_arn);
    h.insert(H_TRACE, p.trace_id);
    if let Some(v) = p.client_context {
        h.insert(H_CLIENT_CONTEXT, v);
    }
    if let Some(v) = p.cognito_identity {
        h.insert(H_COGNITO, v);
    }
    resp
}

/// Answers a posted `/response` or `/error`.
fn posted(shared: &Shared, id: &str, outcome: Outcome) -> Response<RespBody> {
    match shared.post(id, outcome) {
        Posted::Accepted | Posted::Discarded => json(StatusCode::ACCEPTED, BODY_ACCEPTED),
        Posted::UnknownId => {
            tracing::debug!(request_id = id, "runtime posted for an unknown request id");
            json(StatusCode::BAD_REQUEST, BODY_INVALID_ID)
        }
    }
}

/// Answers a posted body over the limit: the invocation (if the id is valid) fails with
/// [`Outcome::ResponseTooLarge`] and the runtime is told `413`.
fn too_large(shared: &Shared, id: &str) -> Response<RespBody> {
    match shared.post(id, Outcome::ResponseTooLarge) {
        Posted::Accepted | Posted::Discarded => json(StatusCode::PAYLOAD_TOO_LARGE, BODY_TOO_LARGE),
        Posted::UnknownId => json(StatusCode::BAD_REQUEST, BODY_INVALID_ID),
    }
}

/// The `Lambda-Runtime-Function-Error-Type` header, lossily decoded and bounded.
fn error_type(headers: &hyper::HeaderMap) -> Option<String> {
    let raw = headers.get(H_ERROR_TYPE)?.as_bytes();
    let raw = &raw[..raw.len().min(MAX_ERROR_TYPE_LEN)];
    Some(String::from_utf8_lossy(raw).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert!(matches!(
            route("/2018-06-01/runtime/invocation/next"),
            Route::Next
        ));
        assert!(matches!(
            route("/2018-06-01/runtime/init/error"),
            Route::InitError
        ));
        assert!(matches!(
            route("/2018-06-01/runtime/invocation/abc-1/response"),
            Route::Response("abc-1")
        ));
        assert!(matches!(
            route("/2018-06-01/runtime/invocation/abc-1/error"),
            Route::Error("abc-1")
        ));
        for bad in [
            "/",
            "",
            "/2018-06-01/runtime/",
            "/2018-06-01/runtime/invocation/next/",
            "/2018-06-01/runtime/invocation//response",
            "/2018-06-01/runtime/invocation/a/b/response",
            "/2018-06-01/runtime/invocation/response",
            "/2020-01-01/extension/register",
            "/2018-06-01/runtime/invocation/a/responsex",
        ] {
            assert!(matches!(route(bad), Route::NotFound), "{bad}");
        }
    }

    #[test]
    fn error_type_is_bounded_and_lossy() {
        let mut h = hyper::HeaderMap::new();
        assert_eq!(error_type(&h), None);
        h.insert(
            H_ERROR_TYPE,
            HeaderValue::from_bytes(b"Runtime.\xffX").unwrap(),
        );
        assert_eq!(error_type(&h).as_deref(), Some("Runtime.\u{fffd}X"));
        let long = "a".repeat(5000);
        h.insert(H_ERROR_TYPE, HeaderValue::from_str(&long).unwrap());
        assert_eq!(error_type(&h).map(|s| s.len()), Some(MAX_ERROR_TYPE_LEN));
    }
}
