//! Audit middleware: one CloudTrail-shaped record per API call (every service on the endpoint,
//! failures included), with the caller, source address, user agent, operation, resources, request
//! parameters and (for writes) response elements — secrets redacted — handed to the audit trail.

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt;
use ignis_audit::{redact, AuditEvent, Resource, UserIdentity};
use serde_json::{Map, Value};

use crate::lambda::util::Query;
use crate::operation::{lambda_operation, Operation};
use crate::services::query::QueryParams;
use crate::state::{Caller, RequestId, SharedState};

/// Largest response body parsed for `responseElements` / error messages.
const MAX_RESPONSE_PARSED: usize = 256 * 1024;

/// Record the call after it is answered.
pub async fn record(State(state): State<SharedState>, req: Request, next: Next) -> Response {
    let Some(trail) = state.audit.clone() else {
        return next.run(req).await;
    };
    let path = req.uri().path().to_string();
    if path == "/health" || path == "/metrics" || path.starts_with(crate::presign::CODE_PATH_PREFIX)
    {
        return next.run(req).await;
    }
    let event_time = ignis_audit::now_rfc3339();
    let (mut parts, body) = req.into_parts();
    let connect = parts
        .extensions
        .get::<ConnectInfo<crate::listener::PeerAddr>>()
        .map(|c| c.0 .0);
    let matched = parts.extensions.get::<MatchedPath>().cloned();
    let params = RawPathParams::from_request_parts(&mut parts, &())
        .await
        .ok();
    let body = match http_body_util::Limited::new(body, crate::auth::MAX_REQUEST_BYTES)
        .collect()
        .await
    {
        Ok(c) => c.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let request_id = parts
        .extensions
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let method = parts.method.clone();
    let headers = parts.headers.clone();
    let raw_query = parts.uri.query().map(str::to_string);
    let path_params: Vec<(String, String)> = params
        .map(|p| {
            p.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    let req = Request::from_parts(parts, Body::from(body.clone()));
    let resp = next.run(req).await;

    let caller = resp.extensions().get::<Caller>().cloned();
    let op = identify(
        &state,
        &method,
        matched.as_ref().map(MatchedPath::as_str),
        &path_params,
        raw_query.as_deref(),
        &headers,
        &body,
        caller.as_ref(),
    );
    let (resp, response_body) = capture(resp, &op).await;
    let request_id = resp
        .headers()
        .get("x-amzn-requestid")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or(request_id);
    let status = resp.status();
    let (error_code, error_message) = if status.as_u16() >= 400 {
        error_of(&resp, response_body.as_ref())
    } else {
        (None, None)
    };
    let response_elements = match (&op.read_only, status.is_success(), response_body) {
        (false, true, Some(Value::Object(mut o))) => {
            let mut v = Value::Object(std::mem::take(&mut o));
            redact(&mut v);
            Some(v)
        }
        _ => None,
    };
    let mut resources = Vec::new();
    if op.resource.starts_with("arn:") {
        resources.push(Resource {
            kind: AuditEvent::resource_type(&op.resource).to_string(),
            arn: op.resource.clone(),
        });
    } else if let Some(arn) = response_elements
        .as_ref()
        .and_then(|r| r.get("FunctionArn"))
        .and_then(Value::as_str)
    {
        resources.push(Resource {
            kind: AuditEvent::resource_type(arn).to_string(),
            arn: arn.to_string(),
        });
    }
    let data_event = op.name == "Invoke";
    let event_id = ignis_crypto::ids::uuid_v4().unwrap_or_default();
    if status.is_success() {
        crate::history::record_change(&state, &op, response_elements.as_ref(), &event_id).await;
    }
    let event = AuditEvent {
        event_version: "1.08".into(),
        user_identity: identity_of(caller.as_ref(), &headers, &state.account),
        event_time,
        event_source: format!("{}.amazonaws.com", op.service),
        event_name: op.name.clone(),
        aws_region: state.region.clone(),
        source_ip_address: connect
            .map(|c| c.ip().to_string())
            .unwrap_or_else(|| "unknown".into()),
        user_agent: headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(512)
            .collect(),
        error_code,
        error_message,
        request_parameters: request_parameters(&op, &path_params, raw_query.as_deref(), &body),
        response_elements,
        request_id,
        event_id,
        read_only: op.read_only,
        resources,
        event_type: "AwsApiCall".into(),
        management_event: !data_event,
        recipient_account_id: state.account.clone(),
        event_category: if data_event { "Data" } else { "Management" }.into(),
    };
    trail.record(event);
    resp
}

/// Which operation of which service the request was.
#[allow(clippy::too_many_arguments)]
fn identify(
    state: &SharedState,
    method: &axum::http::Method,
    matched: Option<&str>,
    path_params: &[(String, String)],
    raw_query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
    caller: Option<&Caller>,
) -> Operation {
    if matched == Some("/") {
        if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
            let (prefix, name) = target.rsplit_once('.').unwrap_or(("", target));
            let service = match prefix {
                "Logs_20140328" => "logs",
                "TrentService" => "kms",
                ignis_audit::lookup::TARGET_PREFIX => "cloudtrail",
                ignis_audit::history::TARGET_PREFIX => "config",
                _ => "unknown",
            };
            return Operation::of(service, name, "*");
        }
        let params = QueryParams::from_request(raw_query, body);
        let service = match caller.map(|c| c.service.as_str()) {
            Some("sts") => "sts",
            _ => "iam",
        };
        return Operation::of(service, params.get("Action").unwrap_or("Unknown"), "*");
    }
    let query = Query::parse(raw_query);
    matched
        .and_then(|m| {
            lambda_operation(
                method,
                m,
                |k| {
                    path_params
                        .iter()
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| v.clone())
                },
                &query,
                &state.region,
                &state.account,
            )
        })
        .unwrap_or_else(|| Operation::of("lambda", "Unknown", "*"))
}

/// Buffer the response body when it is needed for the record (errors, writes), and rebuild it.
async fn capture(resp: Response, op: &Operation) -> (Response, Option<Value>) {
    let wanted = resp.status().as_u16() >= 400 || (!op.read_only && op.name != "Invoke");
    let small = axum::body::HttpBody::size_hint(resp.body())
        .upper()
        .is_some_and(|n| n as usize <= MAX_RESPONSE_PARSED);
    if !wanted || !small {
        return (resp, None);
    }
    let (parts, body) = resp.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let parsed = serde_json::from_slice::<Value>(&bytes).ok();
    (Response::from_parts(parts, Body::from(bytes)), parsed)
}

/// Error code and message of a failed call (restJson / JSON 1.1 header or body; Query XML body).
fn error_of(resp: &Response, body: Option<&Value>) -> (Option<String>, Option<String>) {
    let code = resp
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(|c| c.split(':').next().unwrap_or(c).to_string())
        .or_else(|| {
            body.and_then(|b| b.get("__type"))
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    let message = body.and_then(|b| {
        ["message", "Message"]
            .iter()
            .find_map(|k| b.get(*k).and_then(Value::as_str))
            .map(str::to_string)
    });
    (
        code.or_else(|| Some(resp.status().as_str().to_string())),
        message,
    )
}

/// Request parameters: the JSON body (Lambda, JSON 1.1) or form parameters (Query) plus path
/// parameters, secrets redacted; none for Invoke (the payload is customer data).
fn request_parameters(
    op: &Operation,
    path_params: &[(String, String)],
    raw_query: Option<&str>,
    body: &Bytes,
) -> Option<Value> {
    if op.name == "Invoke" {
        let mut m = Map::new();
        for (k, v) in path_params {
            m.insert(k.clone(), Value::String(v.clone()));
        }
        return Some(Value::Object(m));
    }
    let mut map = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => m,
        _ if op.service == "iam" || op.service == "sts" => {
            QueryParams::from_request(raw_query, body)
                .iter()
                .filter(|(k, _)| *k != "Action" && *k != "Version")
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect()
        }
        _ => Map::new(),
    };
    for (k, v) in path_params {
        map.entry(k.clone())
            .or_insert_with(|| Value::String(v.clone()));
    }
    if let Some(q) = raw_query.filter(|_| op.service == "lambda") {
        for (k, v) in form_urlencoded::parse(q.as_bytes()) {
            map.entry(k.into_owned())
                .or_insert_with(|| Value::String(v.into_owned()));
        }
    }
    if map.is_empty() {
        return None;
    }
    let mut v = Value::Object(map);
    redact(&mut v);
    Some(v)
}

/// CloudTrail's `userIdentity` for the caller (or `Unknown` when authentication failed).
fn identity_of(caller: Option<&Caller>, headers: &HeaderMap, account: &str) -> UserIdentity {
    let Some(c) = caller else {
        let key = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| c.split('/').next())
            .unwrap_or("")
            .to_string();
        return UserIdentity {
            kind: "Unknown".into(),
            access_key_id: key,
            ..Default::default()
        };
    };
    let arn = c.principal_arn.clone();
    let resource = arn.splitn(6, ':').nth(5).unwrap_or("");
    let (kind, user_name) = if resource == "root" {
        ("Root", "root".to_string())
    } else if let Some(user) = resource.strip_prefix("user/") {
        (
            "IAMUser",
            user.rsplit('/').next().unwrap_or(user).to_string(),
        )
    } else if let Some(rest) = resource.strip_prefix("assumed-role/") {
        (
            "AssumedRole",
            rest.rsplit('/').next().unwrap_or(rest).to_string(),
        )
    } else {
        ("Unknown", String::new())
    };
    UserIdentity {
        kind: kind.into(),
        principal_id: c.access_key_id.clone(),
        arn,
        account_id: account.to_string(),
        access_key_id: c.access_key_id.clone(),
        user_name,
    }
}
