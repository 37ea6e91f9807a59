//! Asynchronous invocation settings: Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s) at
//! `/2019-09-25/functions/{name}/event-invoke-config[/list]`, with AWS's validation and messages.
//! Destinations must be Lambda functions of this server (queues, topics, buses and buckets are
//! refused until such targets exist).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use ignis_core::arn::{self, FunctionRef, NameShape};
use ignis_core::model::LATEST;
use ignis_core::validate::{
    constraint_violation, max_len, max_value, min_value, pattern, utf16_len, validation_error,
};
use ignis_core::{AwsError, AwsResult};
use ignis_invoke::async_invoke::local_function;
use ignis_store::event_config::{Destination, DestinationConfig};
use ignis_store::queue::now_ms;
use ignis_store::EventInvokeConfig;
use serde::Deserialize;
use serde_json::json;

use super::functions::is_version;
use super::util::{json, no_content, page, parse_body, Query};
use crate::error::ApiResult;
use crate::state::{AppState, SharedState};

/// Model pattern of `DestinationArn`.
pub const DESTINATION_ARN_PATTERN: &str = r"$|kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1})?:(\d{12})?:(.*)";
/// Longest `DestinationArn`.
const MAX_DESTINATION_LEN: usize = 350;
/// Largest `MaxItems` of ListFunctionEventInvokeConfigs.
const MAX_LIST_ITEMS: usize = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfigRequest {
    maximum_retry_attempts: Option<i64>,
    maximum_event_age_in_seconds: Option<i64>,
    destination_config: Option<DestinationIn>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DestinationIn {
    on_success: Option<TargetIn>,
    on_failure: Option<TargetIn>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TargetIn {
    destination: Option<String>,
}

/// `kafka://` + `[^.]` + up to 248 of `[a-zA-Z0-9\-_.]`.
fn is_kafka(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("kafka://") else {
        return false;
    };
    let mut chars = rest.chars();
    match chars.next() {
        Some(c) if c != '.' => {}
        _ => return false,
    }
    let tail: Vec<char> = chars.collect();
    tail.len() <= 248
        && tail
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A full match of the model's `DestinationArn` pattern.
fn destination_arn_ok(s: &str) -> bool {
    if s.is_empty() || is_kafka(s) {
        return true;
    }
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" {
        return false;
    }
    let partition_ok = parts[1]
        .strip_prefix("aws")
        .is_some_and(|r| r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    let service_ok = !parts[2].is_empty()
        && parts[2]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let region_ok = parts[3].is_empty() || arn::is_region(parts[3]);
    let account_ok = parts[4].is_empty()
        || (parts[4].len() == 12 && parts[4].bytes().all(|b| b.is_ascii_digit()));
    partition_ok && service_ok && region_ok && account_ok
}

fn check_model(req: &ConfigRequest) -> AwsResult<()> {
    let mut errors = Vec::new();
    if let Some(n) = req.maximum_retry_attempts {
        let field = "maximumRetryAttempts";
        if n < 0 {
            errors.push(constraint_violation(&n.to_string(), field, &min_value(0)));
        } else if n > 2 {
            errors.push(constraint_violation(&n.to_string(), field, &max_value(2)));
        }
    }
    if let Some(n) = req.maximum_event_age_in_seconds {
        let field = "maximumEventAgeInSeconds";
        if n < 60 {
            errors.push(constraint_violation(&n.to_string(), field, &min_value(60)));
        } else if n > 21_600 {
            errors.push(constraint_violation(
                &n.to_string(),
                field,
                &max_value(21_600),
            ));
        }
    }
    if let Some(d) = &req.destination_config {
        for (field, target) in [
            ("destinationConfig.onSuccess.destination", &d.on_success),
            ("destinationConfig.onFailure.destination", &d.on_failure),
        ] {
            let Some(arn) = target.as_ref().and_then(|t| t.destination.as_deref()) else {
                continue;
            };
            if utf16_len(arn) > MAX_DESTINATION_LEN {
                errors.push(constraint_violation(
                    arn,
                    field,
                    &max_len(MAX_DESTINATION_LEN),
                ));
            }
            if !destination_arn_ok(arn) {
                errors.push(constraint_violation(
                    arn,
                    field,
                    &pattern(DESTINATION_ARN_PATTERN),
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(validation_error(errors))
    }
}

/// The function named in the path (`NamespacedFunctionName`) with the `Qualifier` merged in.
fn target_of(state: &AppState, path: &str, q: &Query) -> AwsResult<FunctionRef> {
    let r = arn::parse_function_ref_as(path, &state.account, &state.region, NameShape::Namespaced)?;
    arn::merge_qualifier(r, q.get("Qualifier"))
}

fn function_missing() -> AwsError {
    AwsError::not_found("The function doesn't exist.")
}

fn qualified_arn(state: &AppState, r: &FunctionRef) -> String {
    arn::qualified_function_arn(
        &state.region,
        &state.account,
        &r.name,
        r.qualifier.as_deref().unwrap_or(LATEST),
    )
}

fn no_config(state: &AppState, r: &FunctionRef) -> AwsError {
    AwsError::not_found(format!(
        "The function {} doesn't have an EventInvokeConfig",
        qualified_arn(state, r)
    ))
}

/// Whether the function (and its version or alias, when qualified) exists.
async fn exists(state: &AppState, name: &str, qualifier: Option<&str>) -> ApiResult<bool> {
    if state.meta.get_meta(name).await?.is_none() {
        return Ok(false);
    }
    Ok(match qualifier {
        None => true,
        Some(q) if is_version(q) => state.meta.get_version(name, q).await?.is_some(),
        Some(a) => state.meta.get_alias(name, a).await?.is_some(),
    })
}

fn unsupported_destination(arn: &str) -> AwsError {
    AwsError::invalid(format!(
        "The destination {arn} is not supported on this server: asynchronous invocation destinations must be Lambda function ARNs of this server (queue, topic, event bus, bucket and Kafka destinations are not available)."
    ))
}

/// Semantic checks of the destinations (after the model's): Lambda functions of this server other
/// than the function itself.
async fn check_destinations(
    state: &AppState,
    function: &str,
    d: &DestinationConfig,
) -> ApiResult<()> {
    let mut invalid = false;
    for target in [&d.on_failure, &d.on_success] {
        let Some(dest) = target.destination.as_deref().filter(|s| !s.is_empty()) else {
            continue;
        };
        if dest.starts_with("kafka://") {
            return Err(unsupported_destination(dest).into());
        }
        match dest.split(':').nth(2).unwrap_or_default() {
            "lambda" => {
                let invalid_arn =
                    || AwsError::invalid(format!("The destination ARN {dest} is invalid."));
                let Some((name, qualifier)) = local_function(dest, &state.region, &state.account)
                else {
                    return Err(invalid_arn().into());
                };
                if !exists(state, &name, qualifier.as_deref()).await? {
                    return Err(invalid_arn().into());
                }
                if name == function {
                    return Err(AwsError::invalid(
                        "You can't specify the function as a destination for itself.",
                    )
                    .into());
                }
            }
            "sqs" | "sns" | "events" | "s3" => return Err(unsupported_destination(dest).into()),
            _ => invalid = true,
        }
    }
    if invalid {
        let part = |kind: &str, t: &Destination| match t
            .destination
            .as_deref()
            .filter(|s| !s.is_empty())
        {
            Some(arn) => format!("{kind}(destination={arn})"),
            None => "null".to_string(),
        };
        return Err(AwsError::invalid(format!(
            "The provided destination config DestinationConfig(onSuccess={}, onFailure={}) is invalid.",
            part("OnSuccess", &d.on_success),
            part("OnFailure", &d.on_failure)
        ))
        .into());
    }
    Ok(())
}

fn destination_of(t: &Option<TargetIn>) -> Destination {
    Destination {
        destination: t
            .as_ref()
            .and_then(|t| t.destination.clone())
            .filter(|s| !s.is_empty()),
    }
}

/// Parse and check a Put/Update request up to the existence of the function.
async fn prepare(
    state: &AppState,
    path: &str,
    raw_query: Option<&str>,
    body: &Bytes,
) -> ApiResult<(FunctionRef, ConfigRequest)> {
    let q = Query::parse(raw_query);
    let r = target_of(state, path, &q)?;
    let req: ConfigRequest = parse_body(body)?;
    check_model(&req)?;
    if req.maximum_retry_attempts.is_none()
        && req.maximum_event_age_in_seconds.is_none()
        && req.destination_config.is_none()
    {
        return Err(AwsError::invalid(
            "You must specify at least one of error handling or destination setting.",
        )
        .into());
    }
    if !exists(state, &r.name, r.qualifier.as_deref()).await? {
        return Err(function_missing().into());
    }
    Ok((r, req))
}

fn as_u32(v: Option<i64>) -> Option<u32> {
    v.and_then(|n| u32::try_from(n).ok())
}

/// `PUT /2019-09-25/functions/{name}/event-invoke-config`
pub async fn put_function_event_invoke_config(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> ApiResult<Response> {
    let (r, req) = prepare(&state, &name, q.as_deref(), &body).await?;
    let destinations = match &req.destination_config {
        Some(d) => DestinationConfig {
            on_success: destination_of(&d.on_success),
            on_failure: destination_of(&d.on_failure),
        },
        None => DestinationConfig::default(),
    };
    check_destinations(&state, &r.name, &destinations).await?;
    let cfg = EventInvokeConfig {
        function_arn: qualified_arn(&state, &r),
        last_modified: now_ms() as f64 / 1000.0,
        maximum_retry_attempts: as_u32(req.maximum_retry_attempts),
        maximum_event_age_in_seconds: as_u32(req.maximum_event_age_in_seconds),
        destination_config: destinations,
    };
    let qualifier = r.qualifier.as_deref().unwrap_or(LATEST);
    state
        .meta
        .put_event_invoke_config(&r.name, qualifier, &cfg)
        .await?;
    Ok(json(StatusCode::OK, &cfg))
}

/// `POST /2019-09-25/functions/{name}/event-invoke-config`
pub async fn update_function_event_invoke_config(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> ApiResult<Response> {
    let (r, req) = prepare(&state, &name, q.as_deref(), &body).await?;
    let qualifier = r.qualifier.as_deref().unwrap_or(LATEST);
    let _w = state.meta.lock_writes().await;
    let mut cfg = state
        .meta
        .get_event_invoke_config(&r.name, qualifier)
        .await?
        .ok_or_else(|| no_config(&state, &r))?;
    if let Some(d) = &req.destination_config {
        if d.on_success.is_some() {
            cfg.destination_config.on_success = destination_of(&d.on_success);
        }
        if d.on_failure.is_some() {
            cfg.destination_config.on_failure = destination_of(&d.on_failure);
        }
        check_destinations(&state, &r.name, &cfg.destination_config).await?;
    }
    if req.maximum_retry_attempts.is_some() {
        cfg.maximum_retry_attempts = as_u32(req.maximum_retry_attempts);
    }
    if req.maximum_event_age_in_seconds.is_some() {
        cfg.maximum_event_age_in_seconds = as_u32(req.maximum_event_age_in_seconds);
    }
    cfg.function_arn = qualified_arn(&state, &r);
    cfg.last_modified = now_ms() as f64 / 1000.0;
    state
        .meta
        .put_event_invoke_config(&r.name, qualifier, &cfg)
        .await?;
    Ok(json(StatusCode::OK, &cfg))
}

/// The stored config of the path's function and qualifier, or AWS's not-found error.
async fn stored(
    state: &AppState,
    path: &str,
    raw_query: Option<&str>,
) -> ApiResult<(FunctionRef, EventInvokeConfig)> {
    let q = Query::parse(raw_query);
    let r = target_of(state, path, &q)?;
    let qualifier = r.qualifier.as_deref().unwrap_or(LATEST);
    let cfg = match state.meta.get_meta(&r.name).await? {
        Some(_) => {
            state
                .meta
                .get_event_invoke_config(&r.name, qualifier)
                .await?
        }
        None => None,
    };
    match cfg {
        Some(cfg) => Ok((r, cfg)),
        None => Err(no_config(state, &r).into()),
    }
}

/// `GET /2019-09-25/functions/{name}/event-invoke-config`
pub async fn get_function_event_invoke_config(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let (_, cfg) = stored(&state, &name, q.as_deref()).await?;
    Ok(json(StatusCode::OK, &cfg))
}

/// `DELETE /2019-09-25/functions/{name}/event-invoke-config`
pub async fn delete_function_event_invoke_config(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let (r, _) = stored(&state, &name, q.as_deref()).await?;
    state
        .meta
        .delete_event_invoke_config(&r.name, r.qualifier.as_deref().unwrap_or(LATEST))
        .await?;
    Ok(no_content())
}

/// `GET /2019-09-25/functions/{name}/event-invoke-config/list`
pub async fn list_function_event_invoke_configs(
    State(state): State<SharedState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let q = Query::parse(q.as_deref());
    let r =
        arn::parse_function_ref_as(&name, &state.account, &state.region, NameShape::Namespaced)?;
    let max = q.max_items(MAX_LIST_ITEMS, MAX_LIST_ITEMS)?;
    if state.meta.get_meta(&r.name).await?.is_none() {
        return Err(function_missing().into());
    }
    let all = state.meta.list_event_invoke_configs(&r.name).await?;
    let (items, next) = page(all, q.get("Marker"), max, |c| c.function_arn.clone());
    let mut body = json!({ "FunctionEventInvokeConfigs": items });
    if let (Some(next), Some(obj)) = (next, body.as_object_mut()) {
        obj.insert("NextMarker".into(), next.into());
    }
    Ok(json(StatusCode::OK, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destination_pattern() {
        assert!(destination_arn_ok(""));
        assert!(destination_arn_ok(
            "arn:aws:lambda:us-east-1:000000000000:function:f"
        ));
        assert!(destination_arn_ok("arn:aws:sqs:us-east-1:000000000000:q"));
        assert!(destination_arn_ok("arn:aws:s3:::bucket"));
        assert!(destination_arn_ok("kafka://broker-1.example"));
        assert!(!destination_arn_ok(
            "arn:aws:_-/!lambda:us-east-1:000000000000:function:f"
        ));
        assert!(!destination_arn_ok("not-an-arn"));
        assert!(!destination_arn_ok(
            "arn:aws:lambda:us-east-1:123:function:f"
        ));
    }

    #[test]
    fn model_ranges() {
        let req = ConfigRequest {
            maximum_retry_attempts: Some(3),
            maximum_event_age_in_seconds: Some(59),
            destination_config: None,
        };
        let e = check_model(&req).unwrap_err();
        assert_eq!(
            e.message,
            "2 validation errors detected: Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2; Value '59' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60"
        );
    }
}
